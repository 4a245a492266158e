// ws-client.mjs URL [--send text...] [--binary hex...] [--count N] [--deflate on|off]
//               [--protocol name...] [--timeout ms]
//
// A real WebSocket client (npm ws) for rtd's server tests. It connects, sends the --send
// (text) and --binary (hex) messages in command-line order, closes with 1000 once it has
// received --count messages (default: as many as it sent; with 0, it waits for the
// server to close), and prints one JSON line per event:
//   {"type":"open","protocol":"...","extensions":"..."}
//   {"type":"message","binary":false,"data":"text"}   (binary data as lowercase hex)
//   {"type":"close","code":1000,"reason":"..."}
//   {"type":"error","message":"..."}
//   {"type":"timeout","after_ms":N}                   (exit status 2)
// It exits after the close (status 1 if an error came first). --deflate (default on,
// as in browsers) offers permessage-deflate.
import WebSocket from 'ws';
import { parseArgs, print, usage, integer, deadline } from './lib.mjs';

const args = parseArgs(process.argv.slice(2), ['send', 'binary', 'count', 'deflate', 'protocol', 'timeout']);
if (args.positional.length !== 1) usage('usage: ws-client.mjs URL [--send text...] [--binary hex...] [--count N] [--deflate on|off] [--protocol name...] [--timeout ms]');
const url = args.positional[0];

const outgoing = [];
for (const [name, value] of args.flags) {
  if (name === 'send') outgoing.push(value);
  if (name === 'binary') {
    if (!/^([0-9a-fA-F]{2})*$/.test(value)) usage(`--binary wants hex bytes, got ${JSON.stringify(value)}`);
    outgoing.push(Buffer.from(value, 'hex'));
  }
}
const count = integer('count', args.one('count', String(outgoing.length)));
const deflate = args.one('deflate', 'on');
if (deflate !== 'on' && deflate !== 'off') usage('--deflate wants on or off');
const protocols = args.flags.filter(([n]) => n === 'protocol').map(([, v]) => v);
deadline(integer('timeout', args.one('timeout', '10000')));

let received = 0;
let failed = false;
const ws = new WebSocket(url, protocols, { perMessageDeflate: deflate === 'on' });
ws.binaryType = 'nodebuffer';
ws.on('open', () => {
  print({ type: 'open', protocol: ws.protocol, extensions: ws.extensions });
  for (const m of outgoing) ws.send(m, { binary: Buffer.isBuffer(m) });
});
ws.on('message', (data, isBinary) => {
  print({ type: 'message', binary: isBinary, data: isBinary ? data.toString('hex') : data.toString('utf8') });
  received++;
  if (count > 0 && received === count) ws.close(1000);
});
ws.on('error', (err) => {
  failed = true;
  print({ type: 'error', message: err.message });
});
ws.on('close', (code, reason) => {
  print({ type: 'close', code, reason: reason.toString('utf8') });
  process.exit(failed ? 1 : 0);
});
