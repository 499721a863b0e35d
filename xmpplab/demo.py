"""``xmpplab demo``: a headless tour of XMPP, printed in the terminal.

It starts a loopback server for example.com and example.net, logs in
juliet@example.com/balcony and romeo@example.net/orchard with slixmpp,
fetches the roster, runs a subscription handshake, exchanges messages, and
prints both XML streams of juliet's connection with the kit's terminal stream
view: client to server (C→S, green) and server to client (S→C), in the order
they crossed the wire, each stanza explained with the RFC section it comes
from, SASL credentials masked.
"""

from __future__ import annotations

import asyncio
import ssl
import sys

from .recording import MemoryRecorder
from .server import Server

BOLD = "\033[1m"
RESET = "\033[0m"

async def _login(port: int, jid: str, password: str):
    import slixmpp

    client = slixmpp.ClientXMPP(jid, password)
    client.enable_direct_tls = False  # straight to STARTTLS on the plain port
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the lab's certificate is self-signed
    client.ssl_context = ctx
    client.auto_authorize = None  # answer subscription requests in our own code, so the demo shows it
    client.auto_subscribe = False
    started = asyncio.Event()
    client.add_event_handler("session_start", lambda _: started.set())
    client.connect("127.0.0.1", port)
    await asyncio.wait_for(started.wait(), 15)
    return client


async def run_demo(color: bool = True, show_all: bool = False, out=None) -> int:
    """The tour: juliet and romeo log in to a loopback server, subscribe and chat, and juliet's XML streams print."""
    out = out or sys.stdout

    def say(text: str = "") -> None:
        print(f"{BOLD if color else ''}{text}{RESET if color else ''}" if text.startswith("▶") else text,
              file=out, flush=True)

    recorder = MemoryRecorder()
    async with Server(["example.com", "example.net"], recorder=recorder) as server:
        server.accounts.add("juliet@example.com", "juliet-secret")
        server.accounts.add("romeo@example.net", "romeo-secret")
        say(f"▶ A loopback XMPP server for example.com and example.net listens on 127.0.0.1:{server.port}")
        juliet = await _login(server.port, "juliet@example.com/balcony", "juliet-secret")
        romeo = await _login(server.port, "romeo@example.net/orchard", "romeo-secret")
        say(f"▶ juliet logged in as {juliet.boundjid} and romeo as {romeo.boundjid}")

        roster = await juliet.get_roster()
        say(f"▶ juliet's roster has {len(roster['roster']['items'])} contacts")

        subscribed = asyncio.Event()
        romeo.add_event_handler("presence_subscribe",
                                lambda p: romeo.send_presence(pto=p["from"].bare, ptype="subscribed"))
        juliet.add_event_handler("presence_subscribed", lambda _: subscribed.set())
        juliet.send_presence()
        romeo.send_presence()
        juliet.send_presence(pto="romeo@example.net", ptype="subscribe")
        await asyncio.wait_for(subscribed.wait(), 10)
        await asyncio.sleep(0.2)
        item = server.roster_item(juliet.boundjid.bare, "romeo@example.net") if hasattr(server, "roster_item") \
            else None
        state = item.subscription if item else "?"
        say(f"▶ juliet asked to see romeo's presence and he agreed: her subscription is now '{state}'")

        inbox: asyncio.Queue = asyncio.Queue()
        romeo.add_event_handler("message", inbox.put_nowait)
        juliet.add_event_handler("message", inbox.put_nowait)
        juliet.send_message(mto="romeo@example.net", mbody="Wherefore art thou Romeo?", mtype="chat")
        msg = await asyncio.wait_for(inbox.get(), 10)
        say(f"▶ romeo received from {msg['from']}: {msg['body']}")
        romeo.send_message(mto=msg["from"], mbody="By a name I know not how to tell thee who I am.", mtype="chat")
        msg = await asyncio.wait_for(inbox.get(), 10)
        say(f"▶ juliet received from {msg['from']}: {msg['body']}")

        for client in (juliet, romeo):
            client.disconnect()
            await asyncio.wait_for(client.disconnected, 5)
        await asyncio.sleep(0.1)

    events = recorder.events
    conns = []
    for ev in events:
        if ev["type"] == "bound" and (show_all or ev["jid"].startswith("juliet@")):
            conns.append((ev["conn"], ev["jid"]))
    from .render import render_terminal
    from .transcript import Transcript

    transcript = Transcript.from_events(events, recorded_by="xmpplab demo")
    for conn, jid in conns:
        say()
        say(f"▶ The XML streams of {jid}'s connection ({conn}): C→S is client to server"
            + (" (green)" if color else "") + ", S→C is server to client; each stanza is explained")
        say(render_terminal(transcript, conn=conn, color=color, width=110, title=f"{jid}, recorded by the server"))
    say()
    say("▶ Done. Next: the course in JupyterLab (make lab), or a server of your own: xmpplab serve --help")
    return 0
