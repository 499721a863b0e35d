// The course's exchange written with xmpp.js (@xmpp/client), for chapter 16's comparison of libraries.
//
//   node xmppjs_exchange.mjs SERVICE DOMAIN USERNAME PASSWORD TO BODY
//
// Logs in (STARTTLS; the certificate is not verified: lab servers use self-signed ones), sends initial
// presence and one chat message to TO, then logs out. Prints one JSON line per event on stdout
// ({"event":"online"|"sent"|"error", ...}); exits 0 when the message was sent, 1 otherwise.

import { client, xml } from "@xmpp/client";

const [service, domain, username, password, to, body] = process.argv.slice(2);
const emit = (event, fields = {}) => console.log(JSON.stringify({ event, ...fields }));
const xmpp = client({ service, domain, username, password, resource: "orchard" });
xmpp.reconnect.stop();
const timer = setTimeout(() => { emit("error", { message: "timed out" }); process.exit(1); }, 20000);
xmpp.on("error", (err) => { emit("error", { message: err.message || String(err) }); process.exit(1); });

const address = await xmpp.start();
emit("online", { jid: address.toString() });
await xmpp.send(xml("presence"));
await xmpp.send(xml("message", { to, type: "chat", id: "xmppjs-1" }, xml("body", {}, body)));
emit("sent", { to });
clearTimeout(timer);
await xmpp.stop();
process.exit(0);
