// sse-client.mjs URL [--count N] [--events name,...] [--last-event-id ID] [--timeout ms]
//
// A real EventSource client (npm eventsource 4.x, the WHATWG algorithm in Node) for rtd's
// server tests. It listens for "message" and the named --events, reconnects as a browser
// does (sending Last-Event-ID), stops after --count events (default 1) and prints one JSON
// line per event:
//   {"type":"open"}                                     (again after each reconnect)
//   {"type":"event","event":"tick","id":"3","data":"..."}
//   {"type":"error","code":...,"message":"..."}         (the client then reconnects)
//   {"type":"timeout","after_ms":N}                     (exit status 2)
// --last-event-id sends that Last-Event-ID on the first connection too.
import { EventSource } from 'eventsource';
import { parseArgs, print, usage, integer, deadline } from './lib.mjs';

const args = parseArgs(process.argv.slice(2), ['count', 'events', 'last-event-id', 'timeout']);
if (args.positional.length !== 1) usage('usage: sse-client.mjs URL [--count N] [--events name,...] [--last-event-id ID] [--timeout ms]');
const url = args.positional[0];
const count = integer('count', args.one('count', '1'));
const names = ['message', ...args.one('events', '').split(',').filter((n) => n && n !== 'message')];
const lastEventID = args.one('last-event-id', '');
deadline(integer('timeout', args.one('timeout', '10000')));

const init = {};
if (lastEventID !== '') {
  // Only the first request: later ones carry the client's own Last-Event-ID.
  let first = true;
  init.fetch = (input, options) => {
    const headers = first ? { ...options.headers, 'Last-Event-ID': lastEventID } : options.headers;
    first = false;
    return fetch(input, { ...options, headers });
  };
}
const es = new EventSource(url, init);
let received = 0;
es.onopen = () => print({ type: 'open' });
es.onerror = (e) => print({ type: 'error', code: e.code ?? null, message: e.message ?? null });
for (const name of names) {
  es.addEventListener(name, (e) => {
    print({ type: 'event', event: e.type, id: e.lastEventId, data: e.data });
    received++;
    if (received === count) {
      es.close();
      process.exit(0);
    }
  });
}
