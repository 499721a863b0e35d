"""RFC 6121 section 3 and Appendix A: presence subscriptions between juliet@example.com and
romeo@example.net, both served by this one server (the user's and the contact's server at once).

Transcripts in raw XML where the exact stanzas and their order matter, slixmpp where a real
client library should simply work.
"""

import pytest

from tests.support_roster import put_state, state
from tests.support_stanzas import ROSTER, error_of, flush, online, same, same_list
from tests.support_wait import gone, until

NICK = "http://jabber.org/protocol/nick"
J, R = "juliet@example.com", "romeo@example.net"


def push(to: str, ver: int, item: str) -> str:
    return f"<iq type='set' id='*' to='{to}'><query xmlns='{ROSTER}' ver='{ver}'>{item}</query></iq>"


async def pair(raw, server, juliet_state=None, romeo_state=None):
    """Juliet (balcony) and Romeo (orchard) online, interested and available, with the given states."""
    if juliet_state:
        put_state(server, J, R, juliet_state)
    if romeo_state:
        put_state(server, R, J, romeo_state)
    juliet = await online(raw, f"{J}/balcony")
    romeo = await online(raw, f"{R}/orchard")
    await flush(juliet)
    return juliet, romeo


# the whole handshake -----------------------------------------------------------------
async def test_handshake_to_both_with_ask_visible_while_pending(raw, server):
    juliet, romeo = await pair(raw, server)

    # 3.1.1-3.1.3: Romeo asks. His roster shows ask='subscribe'; Juliet gets the request, stamped
    # with his bare JID and kept whole. (The unavailable presence is Prosody's receipt, from her bare JID.)
    await romeo.send(f"<presence to='{J}' type='subscribe'><nick xmlns='{NICK}'>Romeo</nick></presence>")
    same_list(await flush(romeo), [
        push(f"{R}/orchard", 1, f"<item jid='{J}' subscription='none' ask='subscribe'/>"),
        f"<presence from='{J}' to='{R}' type='unavailable'/>"])
    same_list(await flush(juliet), [
        f"<presence from='{R}' to='{J}' type='subscribe'><nick xmlns='{NICK}'>Romeo</nick></presence>"])
    assert state(server, R, J) == ("none", True, False, False, True)       # None + Pending Out
    assert state(server, J, R) == ("none", False, True, False, False)      # None + Pending In, not in her roster

    # 3.1.5-3.1.6: Juliet approves: she now has him 'from'; he gets the approval, then the push, then her presence.
    await juliet.send(f"<presence to='{R}' type='subscribed'/>")
    same_list(await flush(juliet), [push(f"{J}/balcony", 1, f"<item jid='{R}' subscription='from'/>")])
    same_list(await flush(romeo), [
        f"<presence from='{J}' to='{R}' type='subscribed'/>",
        push(f"{R}/orchard", 2, f"<item jid='{J}' subscription='to'/>"),
        f"<presence from='{J}/balcony' to='{R}'/>"])

    # And the other way round: Juliet asks (From + Pending Out), Romeo approves: Both.
    await juliet.send(f"<presence to='{R}' type='subscribe'/>")
    same_list(await flush(juliet), [
        push(f"{J}/balcony", 2, f"<item jid='{R}' subscription='from' ask='subscribe'/>"),
        f"<presence from='{R}' to='{J}' type='unavailable'/>"])
    same_list(await flush(romeo), [f"<presence from='{J}' to='{R}' type='subscribe'/>"])
    assert state(server, R, J) == ("to", False, True, False, True)         # To + Pending In

    await romeo.send(f"<presence to='{J}' type='subscribed'/>")
    same_list(await flush(romeo), [
        push(f"{R}/orchard", 3, f"<item jid='{J}' subscription='both'/>"),
        f"<presence from='{J}/balcony' to='{R}'/>"])   # Prosody's probe after approval, answered by her server
    same_list(await flush(juliet), [
        f"<presence from='{R}' to='{J}' type='subscribed'/>",
        push(f"{J}/balcony", 3, f"<item jid='{R}' subscription='both'/>"),
        f"<presence from='{R}/orchard' to='{J}'/>"])

    await juliet.send(f"<iq type='get' id='r'><query xmlns='{ROSTER}'/></iq>")
    same_list(await flush(juliet), [f"<iq type='result' id='r' to='{J}/balcony'><query xmlns='{ROSTER}' ver='3'>"
                                    f"<item jid='{R}' subscription='both'/></query></iq>"])
    assert server.storage.subscription_requests(J) == [] and server.storage.subscription_requests(R) == []


async def test_handshake_between_slixmpp_clients(slix):
    # slixmpp approves requests and asks back by default (auto_authorize, auto_subscribe).
    juliet = await slix(f"{J}/balcony")
    romeo = await slix(f"{R}/orchard")
    await juliet.get_roster()
    await romeo.get_roster()
    romeo.send_presence(pto=J, ptype="subscribe")
    await until(lambda: J in romeo.client_roster and romeo.client_roster[J]["subscription"] == "both" and
                R in juliet.client_roster and juliet.client_roster[R]["subscription"] == "both" and
                "balcony" in romeo.client_roster[J].resources and "orchard" in juliet.client_roster[R].resources,
                juliet, romeo, what="both rosters at 'both', each with the other's resource")
    assert romeo.client_roster[J]["subscription"] == "both" and not romeo.client_roster[J]["pending_out"]
    assert juliet.client_roster[R]["subscription"] == "both"
    assert "balcony" in romeo.client_roster[J].resources and "orchard" in juliet.client_roster[R].resources


# Appendix A: every transition the user can trigger -------------------------------------
STATES = ("none", "none+out", "none+in", "none+out+in", "to", "to+in", "from", "from+out", "both")
#: The contact's view of the same relationship: 'to' and 'from' swap, pending out and in swap.
MIRROR = {"none": "none", "none+out": "none+in", "none+in": "none+out", "none+out+in": "none+out+in",
          "to": "from", "to+in": "from+out", "from": "to", "from+out": "to+in", "both": "both"}
#: Copied by hand from RFC 6121 A.2 (the user's server) and A.3 (whether the contact's server delivers):
#: stanza -> state -> (new state of the user, delivered to the contact, pre-approved afterwards).
EXPECTED = {
    "subscribe": {"none": ("none+out", True, False), "none+out": ("none+out", False, False),
                  "none+in": ("none+out+in", True, False), "none+out+in": ("none+out+in", False, False),
                  "to": ("to", False, False), "to+in": ("to+in", False, False),
                  "from": ("from+out", True, False), "from+out": ("from+out", False, False),
                  "both": ("both", False, False)},
    "unsubscribe": {"none": ("none", False, False), "none+out": ("none", True, False),
                    "none+in": ("none+in", False, False), "none+out+in": ("none+in", True, False),
                    "to": ("none", True, False), "to+in": ("none+in", True, False),
                    "from": ("from", False, False), "from+out": ("from", True, False),
                    "both": ("from", True, False)},
    "subscribed": {"none": ("none", False, True), "none+out": ("none+out", False, True),
                   "none+in": ("from", True, False), "none+out+in": ("from+out", True, False),
                   "to": ("to", False, True), "to+in": ("both", True, False),
                   "from": ("from", False, False), "from+out": ("from+out", False, False),
                   "both": ("both", False, False)},
    "unsubscribed": {"none": ("none", False, False), "none+out": ("none+out", False, False),
                     "none+in": ("none", True, False), "none+out+in": ("none+out", True, False),
                     "to": ("to", False, False), "to+in": ("to", True, False),
                     "from": ("none", True, False), "from+out": ("none+out", True, False),
                     "both": ("to", True, False)},
}


def as_tuple(st: str, approved: bool = False):
    parts = st.split("+")
    return parts[0], "out" in parts, "in" in parts, approved, True


@pytest.mark.parametrize("ptype,start", [(t, s) for t in EXPECTED for s in STATES])
async def test_appendix_a_transition(raw, server, ptype, start):
    juliet, romeo = await pair(raw, server, start, MIRROR[start])
    await juliet.send(f"<presence to='{R}' type='{ptype}'/>")
    j_got, r_got = await flush(juliet), await flush(romeo)
    new, delivered, approved = EXPECTED[ptype][start]

    assert state(server, J, R) == as_tuple(new, approved)
    assert state(server, R, J) == as_tuple(MIRROR[new])  # both ends agree
    to_romeo = [el for el in r_got if el.tag == "{jabber:client}presence" and el.get("type") == ptype]
    assert len(to_romeo) == (1 if delivered else 0), [el.attrib for el in r_got]
    if delivered:
        same(to_romeo[0], f"<presence from='{J}' to='{R}' type='{ptype}'/>")
    assert state(server, J, R)[2] == bool(server.storage.subscription_requests(J))  # pending in <-> stored request
    # A roster push to the user exactly when what her roster shows changed.
    pushes = [el for el in j_got if el.tag == "{jabber:client}iq"]
    if as_tuple(new, approved)[:2] + (approved,) != as_tuple(start)[:2] + (False,):
        sub = new.split("+")[0]
        ask = " ask='subscribe'" if "out" in new else ""
        appr = " approved='true'" if approved else ""
        same_list(pushes, [push(f"{J}/balcony", 1, f"<item jid='{R}' subscription='{sub}'{ask}{appr}/>")])
    else:
        assert pushes == []


# 3.1.3: the complete request is kept and redelivered -------------------------------------
async def test_request_kept_whole_and_redelivered_at_each_login(raw, server):
    romeo = await online(raw, f"{R}/orchard")
    await romeo.send(f"<presence to='{J}' type='subscribe'><nick xmlns='{NICK}'>Romeo</nick>"
                     "<preauth xmlns='urn:xmpp:pars:0' token='1tMF'/></presence>")
    await romeo.send(f"<presence to='{J}' type='subscribe'><nick xmlns='{NICK}'>Not me</nick></presence>")
    await flush(romeo)
    request = (f"<presence from='{R}' to='{J}' type='subscribe'><nick xmlns='{NICK}'>Romeo</nick>"
               "<preauth xmlns='urn:xmpp:pars:0' token='1tMF'/></presence>")
    for resource in ("balcony", "chamber"):
        juliet = await raw()
        await juliet.login(f"{J}/{resource}")
        assert await flush(juliet) == []  # not available yet
        await juliet.send("<presence/>")
        # 4.2.2 first (her own presence), then the first request only (the second is not stored).
        same_list(await flush(juliet), [f"<presence from='{J}/{resource}' to='{J}/{resource}'/>", request])
        await juliet.close()
        await until(gone(server, f"{J}/{resource}"), server, what=f"juliet/{resource} logged out")
    juliet = await online(raw, f"{J}/balcony", presence=None)
    await juliet.send(f"<presence to='{R}' type='subscribed'/>")
    await flush(juliet)
    await juliet.send("<presence/>")
    got = await flush(juliet)
    assert not [el for el in got if el.get("type") == "subscribe"]


async def test_request_goes_to_all_available_resources(raw, server):
    balcony = await online(raw, f"{J}/balcony", presence="<presence><priority>5</priority></presence>")
    chamber = await online(raw, f"{J}/chamber", presence="<presence><priority>-1</priority></presence>")
    hidden = await online(raw, f"{J}/hidden", presence=None)  # connected, not available
    romeo = await online(raw, f"{R}/orchard")
    await flush(balcony)
    await romeo.send(f"<presence to='{J}' type='subscribe'/>")
    await flush(romeo)
    for c in (balcony, chamber):
        same_list(await flush(c), [f"<presence from='{R}' to='{J}' type='subscribe'/>"])
    assert await flush(hidden) == []


# 3.4: pre-approval ------------------------------------------------------------------------
async def test_preapproval(raw, server):
    juliet, romeo = await pair(raw, server)
    await juliet.send(f"<presence to='{R}' type='subscribed'/>")
    same_list(await flush(juliet), [push(f"{J}/balcony", 1, f"<item jid='{R}' subscription='none' approved='true'/>")])
    assert await flush(romeo) == []  # not routed
    await romeo.send(f"<presence to='{J}' type='subscribe'/>")
    same_list(await flush(romeo), [
        push(f"{R}/orchard", 1, f"<item jid='{J}' subscription='none' ask='subscribe'/>"),
        f"<presence from='{J}' to='{R}' type='subscribed'/>",
        push(f"{R}/orchard", 2, f"<item jid='{J}' subscription='to'/>"),
        f"<presence from='{J}/balcony' to='{R}'/>"])
    # Juliet is not asked: her roster just shows the subscription.
    same_list(await flush(juliet), [push(f"{J}/balcony", 2, f"<item jid='{R}' subscription='from'/>")])


async def test_preapproval_withdrawn_with_unsubscribed(raw, server):
    juliet, romeo = await pair(raw, server)
    await juliet.send(f"<presence to='{R}' type='subscribed'/>")
    await juliet.send(f"<presence to='{R}' type='unsubscribed'/>")
    same_list(await flush(juliet), [
        push(f"{J}/balcony", 1, f"<item jid='{R}' subscription='none' approved='true'/>"),
        push(f"{J}/balcony", 2, f"<item jid='{R}' subscription='none'/>")])
    assert await flush(romeo) == []
    await romeo.send(f"<presence to='{J}' type='subscribe'/>")
    await flush(romeo)
    same_list(await flush(juliet), [f"<presence from='{R}' to='{J}' type='subscribe'/>"])


# 3.2, 3.3: cancelling and unsubscribing, with the unavailable presence they imply -------------
async def test_cancel_sends_unavailable_before_unsubscribed(raw, server):
    juliet, romeo = await pair(raw, server, "both", "both")
    await flush(romeo)
    await juliet.send(f"<presence to='{R}' type='unsubscribed'/>")
    same_list(await flush(juliet), [push(f"{J}/balcony", 1, f"<item jid='{R}' subscription='to'/>")])
    same_list(await flush(romeo), [
        f"<presence from='{J}/balcony' to='{R}' type='unavailable'/>",   # 3.2.2, while he is still subscribed
        f"<presence from='{J}' to='{R}' type='unsubscribed'/>",
        push(f"{R}/orchard", 1, f"<item jid='{J}' subscription='from'/>")])
    await juliet.send("<presence><show>away</show></presence>")
    await flush(juliet)
    assert await flush(romeo) == []  # he no longer sees her presence


async def test_unsubscribe_brings_unavailable_from_the_contact(raw, server):
    juliet, romeo = await pair(raw, server, "both", "both")
    await flush(romeo)
    await romeo.send(f"<presence to='{J}' type='unsubscribe'/>")
    same_list(await flush(romeo), [
        push(f"{R}/orchard", 1, f"<item jid='{J}' subscription='from'/>"),
        f"<presence from='{J}/balcony' to='{R}' type='unavailable'/>"])   # 3.3.3
    same_list(await flush(juliet), [
        f"<presence from='{R}' to='{J}' type='unsubscribe'/>",
        push(f"{J}/balcony", 1, f"<item jid='{R}' subscription='to'/>")])


async def test_roster_remove_cancels_both_ways(raw, server):
    juliet, romeo = await pair(raw, server, "both", "both")
    await flush(romeo)
    await juliet.send(f"<iq type='set' id='rm'><query xmlns='{ROSTER}'>"
                      f"<item jid='{R}' subscription='remove'/></query></iq>")
    same_list(await flush(juliet), [
        f"<iq type='result' id='rm' to='{J}/balcony'/>",
        push(f"{J}/balcony", 1, f"<item jid='{R}' subscription='remove'/>"),
        f"<presence from='{R}/orchard' to='{J}' type='unavailable'/>"])    # his server, 3.3.3
    same_list(await flush(romeo), [
        f"<presence from='{J}/balcony' to='{R}' type='unavailable'/>",
        f"<presence from='{J}' to='{R}' type='unsubscribed'/>",
        push(f"{R}/orchard", 1, f"<item jid='{J}' subscription='from'/>"),
        f"<presence from='{J}' to='{R}' type='unsubscribe'/>",
        push(f"{R}/orchard", 2, f"<item jid='{J}' subscription='none'/>")])
    assert state(server, J, R) is None
    assert state(server, R, J) == ("none", False, False, False, True)


async def test_roster_remove_declines_a_pending_request_and_cancels_our_own(raw, server):
    juliet, romeo = await pair(raw, server, "none+out+in", "none+out+in")
    await flush(romeo)
    await juliet.send(f"<iq type='set' id='rm'><query xmlns='{ROSTER}'>"
                      f"<item jid='{R}' subscription='remove'/></query></iq>")
    await flush(juliet)
    same_list(await flush(romeo), [
        f"<presence from='{J}' to='{R}' type='unsubscribed'/>",
        push(f"{R}/orchard", 1, f"<item jid='{J}' subscription='none'/>"),
        f"<presence from='{J}' to='{R}' type='unsubscribe'/>"])
    assert state(server, R, J) == ("none", False, False, False, True)
    assert server.storage.subscription_requests(R) == [] and server.storage.subscription_requests(J) == []


# automatic replies and errors ----------------------------------------------------------------
async def test_subscribe_when_already_subscribed_is_answered_by_the_contacts_server(raw, server):
    juliet, romeo = await pair(raw, server, "from", "to")
    await flush(romeo)
    await romeo.send(f"<presence to='{J}' type='subscribe'/>")
    # 3.1.3: 'subscribed' comes back from her bare JID; in his state ('to') it changes nothing and is not
    # delivered, but her current presence is.
    same_list(await flush(romeo), [f"<presence from='{J}/balcony' to='{R}'/>"])
    assert await flush(juliet) == []


async def test_subscribe_to_no_such_account_is_an_error(raw, server):
    c = await online(raw, f"{J}/balcony")
    await c.send("<presence to='tybalt@example.com' type='subscribe' id='s1'/>")
    got = await flush(c)
    assert len(got) == 1 and got[0].get("type") == "error" and got[0].get("from") == "tybalt@example.com"
    assert error_of(got[0]) == ("cancel", "service-unavailable")
    assert state(server, J, "tybalt@example.com") is None
    # Other subscription stanzas to no such account are silently ignored (8.5.1).
    for ptype in ("unsubscribe", "unsubscribed"):
        await c.send(f"<presence to='tybalt@example.com' type='{ptype}'/>")
    assert await flush(c) == []


async def test_subscribe_to_a_remote_domain_comes_back_as_an_error(raw, server):
    c = await online(raw, f"{J}/balcony")
    await c.send("<presence to='mercutio@verona.example' type='subscribe'/>")
    got = await flush(c)
    same(got[0], push(f"{J}/balcony", 1, "<item jid='mercutio@verona.example' subscription='none' ask='subscribe'/>"))
    assert got[1].get("type") == "error" and error_of(got[1]) == ("cancel", "remote-server-not-found")


async def test_subscription_stanzas_from_a_full_jid_to_a_full_jid(raw, server):
    juliet, romeo = await pair(raw, server)
    await romeo.send(f"<presence from='{R}/orchard' to='{J}/balcony' type='subscribe'/>")
    await flush(romeo)
    same_list(await flush(juliet), [f"<presence from='{R}' to='{J}' type='subscribe'/>"])  # 3.1.2: both bare


async def test_disco_info_is_open_to_a_subscribed_contact(raw, server):
    _juliet, romeo = await pair(raw, server, "from", "to")
    reply = await romeo.request(f"<iq type='get' id='d' to='{J}'>"
                                "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>")
    assert reply.get("type") == "result"


# account removal ------------------------------------------------------------------------------
async def test_removed_account_is_unsubscribed_everywhere(raw, server):
    put_state(server, J, R, "both")
    put_state(server, R, J, "both")
    put_state(server, "nurse@example.com", R, "none+in", in_roster=False)  # a request she has not answered
    put_state(server, R, "nurse@example.com", "none+out")
    juliet = await online(raw, f"{J}/balcony")
    server.accounts.remove(R)
    same_list(await flush(juliet), [
        f"<presence from='{R}' to='{J}' type='unsubscribe'/>",
        push(f"{J}/balcony", 1, f"<item jid='{R}' subscription='to'/>"),
        f"<presence from='{R}' to='{J}' type='unsubscribed'/>",
        push(f"{J}/balcony", 2, f"<item jid='{R}' subscription='none'/>")])
    assert state(server, "nurse@example.com", R) is None
    assert server.storage.subscription_requests("nurse@example.com") == []
