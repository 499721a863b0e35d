"""The path of a message with carbons (XEP-0280): the copies fan out from the server to the account's other
resources, drawn as hops "via carbon" (dotted, labelled), in a real recording."""

import pytest

from tests.support import RawClient
from tests.support_stanzas import flush
from xmpplab.ns import NS_CARBONS
from xmpplab.render.graph import stanza_path
from xmpplab.server import Server
from xmpplab.transcript import Transcript

ENABLE = f"<iq type='set' id='on'><enable xmlns='{NS_CARBONS}'/></iq>"


async def next_message(client):
    while True:
        el = await client.recv()
        if el.tag.endswith("}message"):
            return el


@pytest.fixture
async def carbons_recording():
    """Romeo on two devices with carbons on; juliet writes to his garden, his garden answers her."""
    events = []
    srv = Server(["example.com", "example.net"], register=True, recorder=events.append)
    await srv.start()
    opened = []
    try:
        for user in ("juliet@example.com", "romeo@example.net"):
            srv.accounts.add(user, "secret")
        devices = []
        for resource in ("garden", "home"):
            c = await RawClient.open(srv.port)
            opened.append(c)
            await c.login("romeo@example.net", resource=resource)
            assert (await c.request(ENABLE)).get("type") == "result"
            await c.send("<presence/>")
            devices.append(c)
        for c in devices:
            await flush(c)
        garden, home = devices
        juliet = await RawClient.open(srv.port)
        opened.append(juliet)
        await juliet.login("juliet@example.com", resource="balcony")
        await juliet.send("<message to='romeo@example.net/garden' type='chat' id='m1'><body>Art thou there?</body>"
                          "</message>")
        await next_message(garden)
        await next_message(home)  # the received carbon
        await garden.send("<message to='juliet@example.com/balcony' type='chat' id='s1'><body>I am</body></message>")
        await next_message(juliet)
        await next_message(home)  # the sent carbon
    finally:
        for c in opened:
            await c.close()
        await srv.stop()
    return Transcript.from_events(events, recorded_by="server")


async def test_a_received_message_fans_out_to_the_other_resource_as_a_carbon(carbons_recording):
    t = carbons_recording
    path = stanza_path(t, t.first(kind="message", id="m1"))
    assert [(h.label, h.via) for h in path] == [("balcony", None), ("example.com", "c2s"),
                                               ("example.net", "internal"), ("garden", "c2s"),
                                               ("home", "carbon")]
    carbon = path[-1]
    assert carbon.src == "example.net" and carbon.node == "romeo@example.net/home"
    assert "<received" in carbon.item.text
    dot = path.dot()
    assert 'label="5 (carbon)"' in dot and 'style="dotted"' in dot and 'class="hop carbon"' in dot
    assert 'style="bold"' in dot  # the original's own hops stay bold: the copy is told apart by style and label
    last_row = path.text().splitlines()[-1]
    assert last_row.split()[:3] == ["5", "home", "romeo@example.net/home"]
    assert "carbon (" in last_row and "from example.net" in last_row


async def test_a_sent_message_is_copied_to_the_senders_other_resource(carbons_recording):
    t = carbons_recording
    path = stanza_path(t, t.first(kind="message", id="s1"))
    assert [(h.label, h.via) for h in path][-1] == ("home", "carbon")
    assert path[-1].src == "example.net"  # romeo's server made the copy
    assert "<sent" in path[-1].item.text
    assert [h.label for h in path if h.via == "carbon"] == ["home"]  # one copy, and none for the sender
