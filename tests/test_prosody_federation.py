"""The lab server federates with a real Prosody on loopback: a message and a subscription each way.

Prosody finds a peer by resolving its domain and dialling port 5269 there, so the lab server for
``lab.example`` listens for servers on port 5269 of a random loopback address, and Prosody
(``prosody.example``) learns where lab.example is from a hosts file of its own: through lua-unbound's
``hoststxt`` setting when lua-unbound is installed, otherwise in a private mount namespace (root,
Linux) with a bind-mounted /etc/hosts. The machine's own /etc/hosts is never touched. The lab
server finds Prosody through its static host map.
"""

import asyncio
import contextlib
import os
import random
import shutil
import sys

import pytest

from tests.peers import need_program
from tests.support_wait import until
from xmpplab.client import Client
from xmpplab.server import Server
from xmpplab.testing.prosody import ProsodyServer, free_port, prosody_path

pytestmark = pytest.mark.peer

LAB, PROSODY = "lab.example", "prosody.example"
# Prosody dials port 5269 on whatever address lab.example resolves to: a random loopback address keeps
# two test runs on one machine from colliding. Prosody itself listens for servers on a free port.
LAB_ADDR = f"127.{random.randint(1, 254)}.{random.randint(0, 255)}.{random.randint(1, 254)}"
PROSODY_ADDR = "127.0.0.1"


def _can_namespace() -> str | None:
    from xmpplab.testing.prosody import _has_lunbound

    if _has_lunbound():
        return None
    if not sys.platform.startswith("linux"):
        return "federating with Prosody needs a Linux mount namespace for its hosts file"
    if os.geteuid() != 0:
        return "federating with Prosody needs root (unshare --mount and port 5269)"
    if not (shutil.which("unshare") and shutil.which("setpriv")):
        return "unshare and setpriv (util-linux) are missing"
    return None


@contextlib.asynccontextmanager
async def federated(bidi: bool = False, recorder=None):
    """The lab server for lab.example and a Prosody for prosody.example, federated on loopback; with ``bidi``
    both servers offer and ask for bidirectional streams (XEP-0288; Prosody 0.12 with mod_s2s_bidi)."""
    need_program("prosody", prosody_path() is not None, "apt-get install prosody (or .ci/install-peers)")
    reason = _can_namespace()
    if reason:
        pytest.skip(reason)
    prosody_s2s = free_port(PROSODY_ADDR)
    lab = Server([LAB], host=LAB_ADDR, port=0, s2s_port=5269, recorder=recorder)
    lab.s2s.add_peer(PROSODY, PROSODY_ADDR, prosody_s2s, bidi=bidi)
    await lab.start()
    lab.accounts.add(f"juliet@{LAB}", "secret")
    prosody = ProsodyServer([PROSODY], c2s_port=free_port(), s2s_port=prosody_s2s, s2s_host=PROSODY_ADDR,
                            hosts={LAB: LAB_ADDR}, keep_workdir=False, extra_modules=("s2s_bidi",) if bidi else ())
    await asyncio.get_running_loop().run_in_executor(None, prosody.start)
    await prosody.aregister("romeo", PROSODY, "secret")
    clients = []

    async def connect(jid, server_host, port):
        c = await Client.connect(jid, "secret", host=server_host, port=port, verify_tls=False)
        clients.append(c)
        return c

    try:
        yield lab, prosody, connect
    finally:
        for c in clients:
            await c.disconnect()
        await lab.stop()
        await asyncio.get_running_loop().run_in_executor(None, prosody.stop)


@pytest.fixture
async def pair():
    async with federated() as both:
        yield both


async def test_messages_and_subscriptions_both_ways_with_prosody(pair):
    lab, prosody, connect = pair
    juliet = await connect(f"juliet@{LAB}/balcony", LAB_ADDR, lab.port)
    romeo = await connect(f"romeo@{PROSODY}/orchard", prosody.host, prosody.port)

    await juliet.send_message(f"romeo@{PROSODY}/orchard", "From the lab to Prosody")
    msg = await romeo.next("message", timeout=15)
    assert msg.get("from") == f"juliet@{LAB}/balcony"

    await romeo.send_message(f"juliet@{LAB}/balcony", "From Prosody to the lab")
    msg = await juliet.next("message", timeout=15)
    assert msg.get("from") == f"romeo@{PROSODY}/orchard"

    # juliet (lab) subscribes to romeo (Prosody), who approves; then the other way round.
    await juliet.subscribe(f"romeo@{PROSODY}")
    await romeo.next("presence", timeout=15, predicate=lambda p: p.get("type") == "subscribe")
    await romeo.approve(f"juliet@{LAB}")
    await romeo.subscribe(f"juliet@{LAB}")
    await juliet.next("presence", timeout=15, predicate=lambda p: p.get("type") == "subscribe")
    await juliet.approve(f"romeo@{PROSODY}")
    await until(lambda: getattr(lab.roster_item(f"juliet@{LAB}", f"romeo@{PROSODY}"), "subscription", None) == "both",
                lab, timeout=15, what="juliet's roster item for romeo at 'both' on the lab server")
    # Prosody agrees once juliet's approval has crossed over: the lab sends her 'subscribed', then her
    # presence (RFC 6121 3.1.5); Prosody updates romeo's roster on the first and delivers the second to him
    await romeo.next("presence", timeout=15,
                     predicate=lambda p: p.get("from") == f"juliet@{LAB}/balcony" and p.xml.get("type") is None)
    roster = {str(i.jid): i for i in await romeo.roster()}
    assert roster[f"juliet@{LAB}"].subscription == "both"


async def test_bidirectional_streams_with_prosody():
    """XEP-0288 with Prosody 0.12's mod_s2s_bidi, both ways. The lab server asks for bidi on the stream it opens
    (Prosody takes it); Prosody, which calls back to check the lab's dialback key, asks for bidi on its own stream
    and answers on it; the lab server then sends its next stanza back on Prosody's stream, opening nothing new."""
    events = []
    async with federated(bidi=True, recorder=events.append) as (lab, prosody, connect):
        juliet = await connect(f"juliet@{LAB}/balcony", LAB_ADDR, lab.port)
        romeo = await connect(f"romeo@{PROSODY}/orchard", prosody.host, prosody.port)
        await juliet.send_message(f"romeo@{PROSODY}/orchard", "Art thou there?")
        assert (await romeo.next("message", timeout=15)).get("from") == f"juliet@{LAB}/balcony"
        await romeo.send_message(f"juliet@{LAB}/balcony", "I am")
        assert (await juliet.next("message", timeout=15))["body"] == "I am"
        await juliet.send_message(f"romeo@{PROSODY}/orchard", "Then on thy stream")
        assert (await romeo.next("message", timeout=15))["body"] == "Then on thy stream"

        def said(role, direction):
            conns = {e["conn"] for e in events if e["type"] == "open" and e.get("role") == role}
            return "".join(e.get("data", "") for e in events if e["conn"] in conns and e.get("dir") == direction)

        assert "<bidi xmlns='urn:xmpp:bidi'/>" in said("initiating", "out")  # ours, and Prosody kept it open
        assert "<bidi xmlns='urn:xmpp:bidi'/>" in said("receiving", "in")  # Prosody's
        third = "Then on thy stream"
        assert third in said("receiving", "out") and third not in said("initiating", "out")
