"""XEP-0280 Message Carbons: every resource of an account sees both sides of its conversations."""

import asyncio
import shutil

import pytest

from tests.peers import need_program
from tests.support_stanzas import flush
from tests.support_terminal import Terminal
from tests.support_wait import until
from xmpplab.jid import JID
from xmpplab.ns import NS_CARBONS, NS_FORWARD
from xmpplab.render import explain
from xmpplab.server.modules.carbons import ARMED, BY_ACCOUNT, ENABLED, eligible
from xmpplab.xml import parse_fragment

CARBONS = f"{{{NS_CARBONS}}}"
ENABLE = f"<iq type='set' id='on'><enable xmlns='{NS_CARBONS}'/></iq>"


async def romeo_twice(raw, enable=(True, True)):
    """Romeo on two devices (garden and home), each with carbons on if asked, both available."""
    devices = []
    for resource, on in zip(("garden", "home"), enable, strict=True):
        c = await raw()
        await c.login("romeo@example.net", resource=resource)
        if on:
            answer = await c.request(ENABLE)
            assert answer.get("type") == "result"
        await c.send("<presence/>")
        devices.append(c)
    for c in devices:  # each sees its own presence and the other's: drain them
        await flush(c)
    return devices


def forwarded(carbon, direction):
    """The message inside a carbon: <message><DIRECTION><forwarded><message/>."""
    wrapper = carbon.find(f"{CARBONS}{direction}")
    assert wrapper is not None, f"no <{direction}/> carbon in {carbon}"
    return wrapper.find(f"{{{NS_FORWARD}}}forwarded")[0]


async def next_message(client):
    while True:
        el = await client.recv()
        if el.tag.endswith("}message"):
            return el


async def test_the_server_advertises_carbons(raw):
    c = await raw()
    await c.login("juliet@example.com")
    info = await c.request("<iq type='get' id='d' to='example.com'>"
                           "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>")
    assert NS_CARBONS in [f.get("var") for f in info.iter("{http://jabber.org/protocol/disco#info}feature")]


async def test_a_message_to_one_device_is_copied_to_the_other(raw):
    garden, home = await romeo_twice(raw)
    juliet = await raw()
    await juliet.login("juliet@example.com", resource="balcony")
    await juliet.send("<message to='romeo@example.net/garden' type='chat' id='m1'><body>Art thou there?</body>"
                      "</message>")
    original = await next_message(garden)
    assert original.find(f"{CARBONS}received") is None and original.get("id") == "m1"
    carbon = await next_message(home)
    assert carbon.get("from") == "romeo@example.net" and carbon.get("to") == "romeo@example.net/home"
    inner = forwarded(carbon, "received")
    assert inner.get("from") == "juliet@example.com/balcony" and inner.get("to") == "romeo@example.net/garden"
    assert inner.findtext("{jabber:client}body") == "Art thou there?"
    await garden.expect_nothing()  # the device that got the original gets no copy of it


async def test_a_message_one_device_sends_is_copied_to_the_other_as_sent(raw):
    garden, home = await romeo_twice(raw)
    juliet = await raw()
    await juliet.login("juliet@example.com", resource="balcony")
    await garden.send("<message to='juliet@example.com/balcony' type='chat' id='s1'><body>It is my lady</body>"
                      "</message>")
    carbon = await next_message(home)
    inner = forwarded(carbon, "sent")
    assert inner.get("from") == "romeo@example.net/garden" and inner.get("id") == "s1"
    assert (await next_message(juliet)).findtext("{jabber:client}body") == "It is my lady"
    await garden.expect_nothing()


async def test_a_private_message_is_not_copied(raw):
    garden, home = await romeo_twice(raw)
    juliet = await raw()
    await juliet.login("juliet@example.com", resource="balcony")
    await juliet.send(f"<message to='romeo@example.net/garden' type='chat'><body>secret</body>"
                      f"<private xmlns='{NS_CARBONS}'/></message>")
    assert (await next_message(garden)).findtext("{jabber:client}body") == "secret"
    await home.expect_nothing()


async def test_only_sessions_that_enabled_carbons_get_copies(raw):
    garden, home = await romeo_twice(raw, enable=(True, False))
    juliet = await raw()
    await juliet.login("juliet@example.com", resource="balcony")
    await juliet.send("<message to='romeo@example.net/garden' type='chat'><body>to garden</body></message>")
    await next_message(garden)
    await home.expect_nothing()  # home never asked for carbons
    await juliet.send("<message to='romeo@example.net/home' type='chat'><body>to home</body></message>")
    await next_message(home)
    carbon = await next_message(garden)  # garden did ask
    assert forwarded(carbon, "received").findtext("{jabber:client}body") == "to home"


def test_which_messages_are_eligible():
    """XEP-0280 §6.1: chat, normal with a body, conversation payloads; never groupchat, error, private, no-copy."""
    def ok(xml):
        return eligible(parse_fragment(xml))

    assert ok("<message xmlns='jabber:client' type='chat'/>")
    assert ok("<message xmlns='jabber:client'><body>hi</body></message>")
    assert not ok("<message xmlns='jabber:client'><subject>no body</subject></message>")
    assert ok("<message xmlns='jabber:client'><received xmlns='urn:xmpp:receipts' id='x'/></message>")
    assert ok("<message xmlns='jabber:client'><active xmlns='http://jabber.org/protocol/chatstates'/></message>")
    assert not ok("<message xmlns='jabber:client' type='groupchat'><body>room</body></message>")
    assert not ok("<message xmlns='jabber:client' type='error'><body>x</body></message>")
    assert not ok(f"<message xmlns='jabber:client' type='chat'><private xmlns='{NS_CARBONS}'/></message>")
    assert not ok("<message xmlns='jabber:client' type='chat'><no-copy xmlns='urn:xmpp:hints'/></message>")
    assert not ok(f"<message xmlns='jabber:client' type='chat'><sent xmlns='{NS_CARBONS}'/></message>")


async def test_disable_stops_the_copies(raw):
    garden, home = await romeo_twice(raw)
    answer = await home.request(f"<iq type='set' id='off'><disable xmlns='{NS_CARBONS}'/></iq>")
    assert answer.get("type") == "result"
    juliet = await raw()
    await juliet.login("juliet@example.com", resource="balcony")
    await juliet.send("<message to='romeo@example.net/garden' type='chat'><body>hi</body></message>")
    await next_message(garden)
    await home.expect_nothing()


async def test_slixmpp_carbons_plugin_sees_both_sides(server, slix):
    """A real client's XEP-0280 plugin (slixmpp xep_0280) enables carbons and reads both kinds of copy."""
    plugins = ("xep_0030", "xep_0280")
    phone = await slix("romeo@example.net/phone", plugins=plugins)
    laptop = await slix("romeo@example.net/laptop", plugins=plugins)
    juliet = await slix("juliet@example.com/balcony")
    await phone.plugin["xep_0280"].enable()
    received, sent = asyncio.Queue(), asyncio.Queue()
    phone.add_event_handler("carbon_received", lambda msg: received.put_nowait(msg))
    phone.add_event_handler("carbon_sent", lambda msg: sent.put_nowait(msg))
    juliet.send_message(mto="romeo@example.net/laptop", mbody="to the laptop", mtype="chat")
    got = await asyncio.wait_for(received.get(), 5)
    assert got["carbon_received"]["body"] == "to the laptop"
    laptop.send_message(mto="juliet@example.com/balcony", mbody="from the laptop", mtype="chat")
    got = await asyncio.wait_for(sent.get(), 5)
    assert got["carbon_sent"]["body"] == "from the laptop"


@pytest.mark.peer
@pytest.mark.timeout(120)
async def test_profanity_turns_carbons_on_without_a_warning(server, tmp_path):
    """profanity asks for carbons at login and says "Server error enabling message carbons" when refused."""
    need_program("profanity", shutil.which("profanity") is not None, "apt-get install profanity")
    bound = asyncio.get_running_loop().create_future()
    server.hook("session-bound", lambda s: s.jid.local == "romeo" and not bound.done() and bound.set_result(s))
    term = Terminal("profanity", tmp_path, "carbons")
    try:
        await term.profanity_login("romeo@example.net", server.port, "secret")
        session = await asyncio.wait_for(bound, 10)
        for _ in range(50):  # profanity sends its enable right after login; wait for the server to have it
            if ENABLED.get(session):
                break
            await asyncio.sleep(0.1)  # another process: nothing to wait on but the server's state
        assert ENABLED.get(session), term.screen()
        assert "carbons" not in term.screen().lower()
    finally:
        term.close()


def test_the_explainer_says_whose_message_a_carbon_copies():
    carbon = (f"<message xmlns='jabber:client' from='romeo@example.net' to='romeo@example.net/home' type='chat'>"
              f"<received xmlns='{NS_CARBONS}'><forwarded xmlns='{NS_FORWARD}'>"
              "<message xmlns='jabber:client' from='juliet@example.com/balcony' to='romeo@example.net/garden' "
              "type='chat'><body>hi</body></message></forwarded></received></message>")
    e = explain(carbon)
    assert "romeo@example.net/garden received from juliet@example.com/balcony" in e.text, e.text
    assert "XEP-0280 §7" in e.labels, e.labels
    sent = carbon.replace("<received ", "<sent ").replace("</received>", "</sent>")
    assert "XEP-0280 §8" in explain(sent).labels


async def test_a_device_that_left_is_forgotten(server, raw):
    garden, home = await romeo_twice(raw)
    await home.close()
    juliet = await raw()
    await juliet.login("juliet@example.com", resource="balcony")
    await juliet.send("<message to='romeo@example.net/garden' type='chat'><body>still there?</body></message>")
    await next_message(garden)
    await flush(garden)
    sessions = BY_ACCOUNT.of(server).get(JID("romeo@example.net"), set())
    assert [str(s.jid) for s in sessions] == ["romeo@example.net/garden"]
    await garden.close()
    await until(lambda: JID("romeo@example.net") not in BY_ACCOUNT.of(server), server,
                what="the server forgets garden's carbons when it leaves")


async def test_the_message_path_is_hooked_only_while_someone_uses_carbons(server, raw):
    """Nobody with carbons on: no per-message work (the hooks are not there); the first enable adds them."""
    assert not server.hooks.has("message/delivered") and not ARMED.of(server)
    garden, home = await romeo_twice(raw)
    assert server.hooks.has("message/delivered") and ARMED.of(server)
    for c in (garden, home):
        await c.request(f"<iq type='set' id='off'><disable xmlns='{NS_CARBONS}'/></iq>")
    assert not server.hooks.has("message/delivered") and not ARMED.of(server)
