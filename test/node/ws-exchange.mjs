// ws-exchange.mjs URL [--deflate on|off] [--timeout ms] STEP...
//   STEP: --send text | --binary hex | --ping hex | --close code[:reason]
//
// A real WebSocket client (npm ws) that plays the steps in command-line order, one at a
// time: after --send or --binary it waits for the next message, after --ping for the
// pong, after --close for the close event; a close from the server answers any step.
// When the steps end without --close it waits for the server to close. It prints one JSON line per event (the ws-client.mjs format,
// plus ping and pong):
//   {"type":"open","protocol":"...","extensions":"...","extensionsHeader":"..."}
//                       (extensionsHeader: the server's Sec-WebSocket-Extensions, verbatim)
//   {"type":"message","binary":false,"data":"text"}   (binary data as lowercase hex)
//   {"type":"ping","data":"hex"}                      (a server ping; ws answers it)
//   {"type":"pong","data":"hex"}
//   {"type":"close","code":1000,"reason":"..."}
//   {"type":"error","message":"..."}
//   {"type":"timeout","after_ms":N}                   (exit status 2)
// It exits after the close (status 1 if an error came first, or if steps were left
// unplayed).
import WebSocket from 'ws';
import { parseArgs, print, usage, integer, deadline } from './lib.mjs';

const args = parseArgs(process.argv.slice(2), ['send', 'binary', 'ping', 'close', 'deflate', 'timeout']);
if (args.positional.length !== 1) usage('usage: ws-exchange.mjs URL [--deflate on|off] [--timeout ms] [--send text] [--binary hex] [--ping hex] [--close code[:reason]]...');
const url = args.positional[0];
const deflate = args.one('deflate', 'on');
if (deflate !== 'on' && deflate !== 'off') usage('--deflate wants on or off');
deadline(integer('timeout', args.one('timeout', '10000')));

const hex = (name, value) => {
  if (!/^([0-9a-fA-F]{2})*$/.test(value)) usage(`--${name} wants hex bytes, got ${JSON.stringify(value)}`);
  return Buffer.from(value, 'hex');
};
// Each step: what to do, and which event answers it.
const steps = [];
for (const [name, value] of args.flags) {
  switch (name) {
    case 'send':
      steps.push({ run: (ws) => ws.send(value), awaits: 'message' });
      break;
    case 'binary': {
      const data = hex(name, value);
      steps.push({ run: (ws) => ws.send(data, { binary: true }), awaits: 'message' });
      break;
    }
    case 'ping': {
      const data = hex(name, value);
      steps.push({ run: (ws) => ws.ping(data), awaits: 'pong' });
      break;
    }
    case 'close': {
      const m = /^(\d+)(?::(.*))?$/s.exec(value);
      if (!m) usage(`--close wants code[:reason], got ${JSON.stringify(value)}`);
      const code = Number(m[1]);
      const reason = m[2] ?? '';
      steps.push({ run: (ws) => ws.close(code, reason), awaits: 'close' });
      break;
    }
  }
}

let failed = false;
let waiting = null; // the event the current step waits for
const next = (ws) => {
  const step = steps.shift();
  if (!step) {
    waiting = 'close';
    return;
  }
  waiting = step.awaits;
  step.run(ws);
};
const answered = (ws, type) => {
  if (waiting === type) next(ws);
};

const ws = new WebSocket(url, { perMessageDeflate: deflate === 'on' });
ws.binaryType = 'nodebuffer';
let extensionsHeader = '';
ws.on('upgrade', (res) => {
  extensionsHeader = res.headers['sec-websocket-extensions'] ?? '';
});
ws.on('open', () => {
  print({ type: 'open', protocol: ws.protocol, extensions: ws.extensions, extensionsHeader });
  next(ws);
});
ws.on('message', (data, isBinary) => {
  print({ type: 'message', binary: isBinary, data: isBinary ? data.toString('hex') : data.toString('utf8') });
  answered(ws, 'message');
});
ws.on('ping', (data) => print({ type: 'ping', data: data.toString('hex') }));
ws.on('pong', (data) => {
  print({ type: 'pong', data: data.toString('hex') });
  answered(ws, 'pong');
});
ws.on('error', (err) => {
  failed = true;
  print({ type: 'error', message: err.message });
});
ws.on('close', (code, reason) => {
  print({ type: 'close', code, reason: reason.toString('utf8') });
  process.exit(failed || steps.length > 0 ? 1 : 0);
});
