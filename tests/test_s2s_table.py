"""Server-to-server streams move only along one table (xmpplab.negotiation.s2s), which the diagram draws too."""

import pytest

from tests.support import RawClient
from xmpplab.negotiation.s2s import S2S_TRANSITIONS, S2SState, S2SStepError, next_s2s_state
from xmpplab.render.statemachine import state_machine
from xmpplab.server import Server

HEADER = ("<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' "
          "xmlns:db='jabber:server:dialback' from='server2.com' to='server1.com' version='1.0'>")


def test_the_table_has_both_ways_to_prove_a_domain_and_no_other_steps():
    assert next_s2s_state(S2SState.CONNECTED, "header") is S2SState.OPEN
    assert next_s2s_state(S2SState.OPEN, "dialback-valid") is S2SState.READY
    assert next_s2s_state(S2SState.AUTHENTICATED, "header") is S2SState.READY
    with pytest.raises(S2SStepError, match="'starttls' is not a step of a server-to-server stream in the state "
                                           "'ready'"):
        next_s2s_state(S2SState.READY, "starttls")
    reachable = {S2SState.CONNECTED}
    for _ in S2S_TRANSITIONS:
        reachable |= {t.target for t in S2S_TRANSITIONS if t.source in reachable}
    assert reachable == set(S2SState) - {S2SState.CLOSED}


def test_the_diagram_draws_the_s2s_table_with_the_live_state():
    drawn = state_machine(S2SState.OPEN, transitions=S2S_TRANSITIONS, states=S2SState)
    dot = drawn.dot()
    assert "db:result" in dot and "SASL EXTERNAL" in dot
    assert "open" in drawn.text()


async def test_federated_streams_reach_ready_through_the_table_and_answer_verify_requests():
    s1 = await Server(["server1.com"], s2s_port=0).start()
    s2 = await Server(["server2.com"], s2s_port=0).start()
    try:
        s1.s2s.add_peer("server2.com", "127.0.0.1", s2.s2s_port)
        s2.s2s.add_peer("server1.com", "127.0.0.1", s1.s2s_port)
        s1.accounts.add("user1@server1.com", "pw")
        s2.accounts.add("user2@server2.com", "pw")
        a, b = await RawClient.open(s1.port), await RawClient.open(s2.port)
        try:
            await a.login("user1@server1.com/pc", "pw")
            await b.login("user2@server2.com/phone", "pw")
            await a.send("<message to='user2@server2.com/phone' id='m1'><body>hi</body></message>")
            got = await b.recv()
            assert got.get("id") == "m1"
        finally:
            await a.close()
            await b.close()
        outgoing = next(iter(s1.s2s.outgoing.values()))
        assert outgoing.state is S2SState.READY
        # the authoritative side of dialback: a verify request on a fresh stream is a step of the table
        c = await RawClient.open(s1.s2s_port)
        try:
            await c.send(HEADER)
            await c.recv()  # the features
            await c.send("<db:verify xmlns:db='jabber:server:dialback' from='server2.com' to='server1.com' id='x'>"
                         "00</db:verify>")
            verdict = await c.recv()
            assert verdict.get("type") == "invalid"  # a step of the table (OPEN to OPEN): answered
        finally:
            await c.close()
    finally:
        await s1.stop()
        await s2.stop()
