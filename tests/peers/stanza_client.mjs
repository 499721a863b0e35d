// A web XMPP client nobody here wrote (StanzaJS 12), driven from pytest over WebSocket (RFC 7395).
//
//   node tests/peers/stanza_client.mjs --service ws://127.0.0.1:5280/xmpp-websocket \
//     --domain example.com --username romeo --password secret \
//     [--resource web] [--send-to juliet@example.com --body "hi"] \
//     [--expect-from juliet@example.com] [--timeout 10]
//
// StanzaJS has no TCP transport: it speaks WebSocket (or BOSH) only, as in a
// browser. Over wss:// the certificate is NOT verified (test servers use
// self-signed certificates). Logs in, sends initial presence, optionally sends
// one chat message, optionally waits for a message from a JID (a bare JID
// matches any resource). Prints one JSON object per line on stdout, as
// xmpp_client.mjs does:
//   {"event":"online","jid":...}  {"event":"sent","to":...,"body":...,"id":...}
//   {"event":"message","from":...,"to":...,"type":...,"body":...}
//   {"event":"error","message":...}
// Exit status: 0 success, 1 error or timeout, 2 bad arguments.

import * as XMPP from "stanza";
import { emit, fail, isFrom, parseOptions } from "./peer_cli.mjs";

process.env.NODE_TLS_REJECT_UNAUTHORIZED ??= "0";

const [args, timer] = parseOptions({ resource: "stanzajs", body: "hello from StanzaJS" });

const client = XMPP.createClient({
  jid: `${args.username}@${args.domain}`,
  password: args.password,
  resource: args.resource,
  transports: { websocket: args.service, bosh: false },
});
let stopping = false;
client.on("auth:failed", () => fail("authentication failed"));
client.on("stream:error", (err) => fail(`stream error: ${err.condition} ${err.text ?? ""}`));
client.on("disconnected", () => stopping || fail("connection closed by the server"));

const expectFrom = args["expect-from"];
client.on("message", (msg) => {
  const from = msg.from ?? "";
  const type = msg.type ?? "normal";
  emit("message", { from, to: msg.to, type, body: msg.body });
  if (expectFrom && type !== "error" && isFrom(from, expectFrom)) {
    finish();
  }
});

client.on("session:started", () => {
  emit("online", { jid: client.jid });
  client.sendPresence();
  if (args["send-to"]) {
    const id = `xmpplab-${Date.now()}`;
    client.sendMessage({ to: args["send-to"], type: "chat", id, body: args.body });
    emit("sent", { to: args["send-to"], body: args.body, id });
  }
  if (!expectFrom) finish();
});

function finish() {
  clearTimeout(timer);
  stopping = true;
  // disconnect() sends <close/> and waits for the server's (RFC 7395 section 3.6)
  client.once("disconnected", () => process.exit(0));
  client.disconnect();
  setTimeout(() => fail("the server did not answer <close/>"), 5000).unref();
}

client.connect();
