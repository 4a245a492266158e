// Shared helpers for the client scripts: argument parsing, one-JSON-line output and a
// hard deadline, so that every script ends by itself even when the server misbehaves.

// parseArgs returns the positional arguments and the flags in command-line order as
// [name, value] pairs. A flag takes every following argument up to the next "--flag"
// (so "--send a b" sends two messages); a flag followed by no value gets "".
export function parseArgs(argv, known) {
  const positional = [];
  const flags = [];
  let current = null;
  let valueless = false; // the current flag has had no value yet
  const closeFlag = () => {
    if (current !== null && valueless) flags.push([current, '']);
  };
  for (const arg of argv) {
    if (arg.startsWith('--')) {
      closeFlag();
      current = arg.slice(2);
      valueless = true;
      if (!known.includes(current)) usage(`unknown flag --${current}`);
    } else if (current === null) {
      positional.push(arg);
    } else {
      flags.push([current, arg]);
      valueless = false;
    }
  }
  closeFlag();
  return {
    positional,
    flags,
    // one returns the last value given for name, or fallback.
    one(name, fallback) {
      const hits = flags.filter(([n]) => n === name);
      return hits.length ? hits[hits.length - 1][1] : fallback;
    },
  };
}

export function usage(message) {
  process.stderr.write(`${message}\n`);
  process.exit(64);
}

// print writes one JSON object as one line on stdout (synchronous for pipes on Linux, so
// nothing is lost when the script exits right after).
export function print(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

// integer parses a non-negative integer flag value or exits with a usage error.
export function integer(name, value) {
  if (!/^\d+$/.test(String(value))) usage(`--${name} wants a non-negative integer, got ${JSON.stringify(value)}`);
  return Number(value);
}

// deadline ends the process with {"type":"timeout"} and exit status 2 after ms.
export function deadline(ms) {
  const timer = setTimeout(() => {
    print({ type: 'timeout', after_ms: ms });
    process.exit(2);
  }, ms);
  timer.unref();
  return timer;
}
