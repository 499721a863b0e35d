"""Corners found by trying the server as an attacker would: each gets the RFC's answer at once."""

import pytest

from tests.support import HEADER, RawClient
from tests.support_stanzas import assert_still_serving, condition, stream_error_after
from xmpplab.server import Server
from xmpplab.server.limits import Limits


async def test_xml_1_1_is_refused_with_bad_format(raw):
    c = await raw()
    await c.send(HEADER.format(to="example.com").replace("version='1.0'?>", "version='1.1'?>"))
    assert condition(await c.recv()) == "bad-format"
    await assert_still_serving(raw)


@pytest.mark.parametrize("data", ["<'''''''", "<message><body>&''''"])
async def test_markup_that_cannot_start_is_not_well_formed_at_once(raw, data):
    # recv() waits 5 s: libxml2 alone would wait for the 256 KB limit or the 60 s timeout
    assert await stream_error_after(raw, data, login=True) == "not-well-formed"
    await assert_still_serving(raw)


async def test_too_many_attributes_is_a_policy_violation():
    async with Server(["example.com"], limits=Limits(max_attributes=8)) as srv:
        srv.accounts.add("juliet@example.com", "secret")
        c = await RawClient.open(srv.port)
        await c.login("juliet@example.com/balcony")
        five = " ".join(f"a{i}='x'" for i in range(5))
        pong = await c.request(f"<iq type='get' id='p' to='example.com' {five}><ping xmlns='urn:xmpp:ping'/></iq>")
        assert pong.get("type") == "result"  # eight attributes
        await c.send(f"<iq type='get' id='q' to='example.com' {five} b='1'><ping xmlns='urn:xmpp:ping'/></iq>")
        assert condition(await c.recv()) == "policy-violation"
        await c.close()


# XEP-0077 section 3.2: <remove/> cancels the sender's own account, never another -------------
async def test_remove_naming_another_user_is_refused_and_deletes_nothing(raw, server):
    nurse = await raw()
    await nurse.login("nurse@example.com/desk")
    reply = await nurse.request("<iq type='set' id='rm' to='example.com'><query xmlns='jabber:iq:register'>"
                                "<username>juliet</username><remove/></query></iq>")
    assert reply.get("type") == "error" and condition(reply) == "not-allowed"
    assert server.storage.account_exists("example.com", "nurse")
    assert server.storage.account_exists("example.com", "juliet")
    pong = await nurse.request("<iq type='get' id='p' to='example.com'><ping xmlns='urn:xmpp:ping'/></iq>")
    assert pong.get("type") == "result"


@pytest.mark.parametrize("username", ["<username>nurse</username>", "<username>Nurse</username>", ""])
async def test_remove_of_ones_own_account_still_works(raw, server, username):
    nurse = await raw()
    await nurse.login("nurse@example.com/desk")
    reply = await nurse.request("<iq type='set' id='rm' to='example.com'><query xmlns='jabber:iq:register'>"
                                f"{username}<remove/></query></iq>")
    assert reply.get("type") == "result"
    assert not server.storage.account_exists("example.com", "nurse")
