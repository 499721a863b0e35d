// A real XMPP client nobody here wrote (@xmpp/client 0.14), driven from pytest.
//
//   node tests/peers/xmpp_client.mjs --service xmpp://127.0.0.1:5222 \
//     --domain example.com --username romeo --password secret \
//     [--resource peer] [--send-to juliet@example.com --body "hi"] \
//     [--expect-from juliet@example.com] [--timeout 10]
//
// Connects (STARTTLS, certificate NOT verified: test servers use self-signed
// certificates), logs in, sends initial presence, optionally sends one chat
// message, optionally waits for a message from a JID (bare JID matches any
// resource). Prints one JSON object per line on stdout:
//   {"event":"online","jid":...}  {"event":"sent","to":...,"body":...,"id":...}
//   {"event":"message","from":...,"to":...,"type":...,"body":...}
//   {"event":"error","message":...}
// Exit status: 0 success, 1 error or timeout, 2 bad arguments.

import { client, xml } from "@xmpp/client";
import { emit, fail, isFrom, parseOptions } from "./peer_cli.mjs";

// Node reads this at each TLS connect (@xmpp/starttls passes no TLS options);
// it prints a one-line "makes TLS connections insecure" warning on stderr.
process.env.NODE_TLS_REJECT_UNAUTHORIZED ??= "0";

const [args, timer] = parseOptions({ body: "hello from @xmpp/client" });

const xmpp = client({
  service: args.service,
  domain: args.domain,
  username: args.username,
  password: args.password,
  resource: args.resource,
});
xmpp.reconnect.stop(); // fail instead of retrying forever
xmpp.on("error", (err) => fail(err.message || String(err)));
let stopping = false;
xmpp.on("disconnect", () => stopping || fail("connection closed by the server"));

const expectFrom = args["expect-from"];
let gotExpected;
const expected = new Promise((resolve) => (gotExpected = resolve));
xmpp.on("stanza", (stanza) => {
  if (!stanza.is("message")) return;
  const from = stanza.attrs.from ?? "";
  const type = stanza.attrs.type ?? "normal";
  emit("message", { from, to: stanza.attrs.to, type, body: stanza.getChildText("body") });
  if (expectFrom && type !== "error" && isFrom(from, expectFrom)) {
    gotExpected();
  }
});

try {
  const address = await xmpp.start();
  emit("online", { jid: address.toString() });
  await xmpp.send(xml("presence"));

  if (args["send-to"]) {
    const id = `xmpplab-${Date.now()}`;
    await xmpp.send(
      xml("message", { to: args["send-to"], type: "chat", id },
        xml("body", {}, args.body)),
    );
    emit("sent", { to: args["send-to"], body: args.body, id });
  }
  if (expectFrom) await expected;

  clearTimeout(timer);
  stopping = true;
  await xmpp.stop();
  process.exit(0);
} catch (err) {
  fail(err.message || String(err));
}
