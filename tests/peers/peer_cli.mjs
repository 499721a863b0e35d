// What the peer scripts share (xmpp_client.mjs, stanza_client.mjs): their options, one JSON
// event per line on stdout, failing with an exit status, and the overall timeout.

import { parseArgs } from "node:util";

export const emit = (event, fields = {}) =>
  process.stdout.write(JSON.stringify({ event, ...fields }) + "\n");

export function fail(message, code = 1) {
  emit("error", { message });
  process.exit(code);
}

// The options of every peer script; `defaults` gives the resource and body of this client.
// Exits with status 2 on a bad or missing option. Returns [args, timer]: the timer fails the
// script after --timeout seconds (clear it once done).
export function parseOptions(defaults = {}) {
  // parseArgs refuses a default of undefined: give one only where there is one
  const string = (value) => (value === undefined ? { type: "string" } : { type: "string", default: value });
  let args;
  try {
    ({ values: args } = parseArgs({
      options: {
        service: { type: "string" },
        domain: { type: "string" },
        username: { type: "string" },
        password: { type: "string" },
        resource: string(defaults.resource),
        "send-to": { type: "string" },
        body: string(defaults.body),
        "expect-from": { type: "string" },
        timeout: { type: "string", default: "10" },
      },
    }));
  } catch (err) {
    fail(err.message, 2);
  }
  for (const name of ["service", "domain", "username", "password"]) {
    if (!args[name]) fail(`missing --${name}`, 2);
  }
  const timeout = Number(args.timeout);
  if (!(timeout > 0)) fail(`bad --timeout ${args.timeout}`, 2);
  const timer = setTimeout(() => {
    const what = args["expect-from"] ? `no message from ${args["expect-from"]}` : "not finished";
    fail(`timeout after ${timeout}s: ${what}`);
  }, timeout * 1000);
  return [args, timer];
}

// Whether a message's sender is the expected JID (a bare JID matches any of its resources).
export const isFrom = (from, expected) => from === expected || from.split("/")[0] === expected;
