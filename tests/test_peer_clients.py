"""Clients nobody here wrote log in to the xmpplab server and exchange messages with slixmpp.

Skipped with a reason where Node's @xmpp/client or Debian's sendxmpp is missing;
under XMPPLAB_REQUIRE_PEERS=1 (CI) a missing peer is a failure.
"""

import asyncio

import pytest

from tests.peers import need_node_client, need_sendxmpp, run_node_client, run_sendxmpp

pytestmark = pytest.mark.peer


async def test_node_xmpp_client_exchanges_messages_with_slixmpp(server, slix):
    need_node_client()
    juliet = await slix("juliet@example.com/balcony")
    node = asyncio.create_task(run_node_client(
        host="127.0.0.1", port=server.port, domain="example.net", username="romeo", password="secret",
        resource="node", send_to="juliet@example.com/balcony", body="Wherefore art thou?",
        expect_from="juliet@example.com", timeout=15))
    # The Node client says something first; juliet answers it at the full JID it came from.
    msg = await asyncio.wait_for(juliet.messages.get(), 20)
    assert str(msg["from"]) == "romeo@example.net/node"
    assert msg["body"] == "Wherefore art thou?"
    juliet.send_message(mto=msg["from"], mbody="Here, on the balcony.", mtype="chat")
    result = await node
    assert result.returncode == 0, result.describe()
    assert result.event("online")["jid"] == "romeo@example.net/node"
    got = result.event("message")
    assert got["from"] == "juliet@example.com/balcony" and got["body"] == "Here, on the balcony."
    session = [s for s in server.connections if s.jid_str == "romeo@example.net/node"]
    assert session == []  # it logged out again


async def test_node_xmpp_client_is_refused_with_a_wrong_password(server):
    need_node_client()
    result = await run_node_client(host="127.0.0.1", port=server.port, domain="example.net",
                                   username="romeo", password="wrong", timeout=10)
    assert result.returncode != 0
    assert "not-authorized" in result.stdout + result.stderr


async def test_sendxmpp_message_reaches_slixmpp(server, slix):
    need_sendxmpp()
    juliet = await slix("juliet@example.com/balcony")
    result = await run_sendxmpp(host="127.0.0.1", port=server.port, domain="example.net", username="romeo",
                                password="secret", to="juliet@example.com", body="Sent with sendxmpp")
    assert result.returncode == 0, result.describe()
    msg = await asyncio.wait_for(juliet.messages.get(), 10)
    assert msg["from"].bare == "romeo@example.net"
    assert msg["body"] == "Sent with sendxmpp"
