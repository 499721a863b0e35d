"""XEP-0045 Multi-User Chat on the lab server: the service at conference.<host>, read as transcripts.

Raw XML clients show the exact stanzas where they matter (status codes, the
order of presences, who sees whose real JID); slixmpp's XEP-0045 plugin
plays a real client for the everyday flows. The helpers (``online``,
``flush``, ``same``, ``same_list``) are in tests/support_stanzas.py: a value or
text of ``*`` matches anything; the room helpers (``garden``, ``enter``) in tests/support_muc.py.
"""

import asyncio

import pytest
from slixmpp.exceptions import IqError, PresenceError

from tests.support import RawClient, slix_client
from tests.support_muc import (
    ADMIN,
    MODULES,
    MUC,
    OWNER,
    ROOM,
    SERVICE,
    USER,
    B,
    J,
    N,
    R,
    accept_instant,
    enter,
    garden,
    muc_server,
)
from tests.support_stanzas import error_of, flush, online, same, same_list
from tests.support_wait import until
from xmpplab.server import Server

TEXT = "<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas' xml:lang='en'>*</text>"
SLIX_PLUGINS = ("xep_0030", "xep_0199", "xep_0045")


@pytest.fixture
async def server():
    """The shared fixture's server, with MUC (tests/support_muc.py)."""
    async with muc_server() as srv:
        yield srv


async def slix(server, jid):
    return await slix_client(server.port, jid, plugins=SLIX_PLUGINS)


# discovery (6.1-6.4) ---------------------------------------------------------------------------
async def test_the_service_is_found_with_disco_and_lists_its_public_rooms(raw, server):
    juliet = await online(raw, J)
    items = await juliet.request("<iq type='get' id='i1' to='example.com'>"
                                 "<query xmlns='http://jabber.org/protocol/disco#items'/></iq>")
    same(items, f"<iq type='result' id='i1' from='example.com' to='{J}'>"
                f"<query xmlns='http://jabber.org/protocol/disco#items'><item jid='{SERVICE}' name='Chatrooms'/>"
                "<item jid='pubsub.example.com' name='Publish-Subscribe'/></query></iq>")
    info = await juliet.request(f"<iq type='get' id='i2' to='{SERVICE}'>"
                                "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>")
    same(info, f"""<iq type='result' id='i2' from='{SERVICE}' to='{J}'>
        <query xmlns='http://jabber.org/protocol/disco#info'>
          <identity category='conference' type='text' name='Chatrooms'/>
          <feature var='http://jabber.org/protocol/disco#info'/>
          <feature var='http://jabber.org/protocol/disco#items'/>
          <feature var='http://jabber.org/protocol/muc'/>
          <feature var='http://jabber.org/protocol/muc#stable_id'/>
          <feature var='urn:xmpp:ping'/>
        </query></iq>""")
    await enter(juliet, "juliet")
    rooms = f"<iq type='get' id='i3' to='{SERVICE}'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>"
    # A locked room (10.1.1) does not officially exist yet: not listed.
    same(await juliet.request(rooms), f"<iq type='result' id='i3' from='{SERVICE}' to='{J}'>"
                                      "<query xmlns='http://jabber.org/protocol/disco#items'/></iq>")
    await accept_instant(juliet)
    same(await juliet.request(rooms), f"<iq type='result' id='i3' from='{SERVICE}' to='{J}'>"
                                      "<query xmlns='http://jabber.org/protocol/disco#items'>"
                                      f"<item jid='{ROOM}' name='garden'/></query></iq>")
    info = await juliet.request(f"<iq type='get' id='i4' to='{ROOM}'>"
                                "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>")
    features = [f.get("var") for f in info.iter("{http://jabber.org/protocol/disco#info}feature")]
    identity = info.find(".//{http://jabber.org/protocol/disco#info}identity")
    assert (identity.get("category"), identity.get("type"), identity.get("name")) == ("conference", "text", "garden")
    for var in (MUC, "muc_public", "muc_open", "muc_unmoderated", "muc_semianonymous", "muc_unsecured",
                "muc_temporary"):
        assert var in features
    occupants = info.find(".//{jabber:x:data}field[@var='muc#roominfo_occupants']/{jabber:x:data}value")
    assert occupants.text == "1"


# entering (7.2) and creating (10.1) ------------------------------------------------------------
async def test_creating_a_room_locks_it_until_the_owner_accepts_the_default_configuration(raw, server):
    juliet = await online(raw, J)
    romeo = await online(raw, R)
    same_list(await enter(juliet, "juliet"), [
        f"""<presence from='{ROOM}/juliet' to='{J}'>
              <x xmlns='{USER}'><status code='201'/>
                <item affiliation='owner' jid='{J}' role='moderator'/><status code='110'/></x></presence>""",
        f"<message type='groupchat' from='{ROOM}' to='{J}'><subject/></message>"])
    # 7.2.10: nobody else may enter a locked room
    same_list(await enter(romeo, "romeo"), [
        f"""<presence from='{ROOM}/romeo' to='{R}' type='error'><x xmlns='{MUC}'/>
              <error type='cancel' by='{ROOM}'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>
              {TEXT}</error></presence>"""])
    await accept_instant(juliet)
    # 7.2.2: the occupants already there, then the newcomer's own presence (110), history, subject
    same_list(await enter(romeo, "romeo"), [
        f"<presence from='{ROOM}/juliet' to='{R}'><x xmlns='{USER}'>"
        "<item affiliation='owner' role='moderator'/></x></presence>",      # 7.2.4: no JID for a participant
        f"<presence from='{ROOM}/romeo' to='{R}'><x xmlns='{USER}'>"
        f"<item affiliation='none' jid='{R}' role='participant'/><status code='110'/></x></presence>",
        f"<message type='groupchat' from='{ROOM}' to='{R}'><subject/></message>"])
    same_list(await flush(juliet), [                                          # a moderator sees the JID
        f"<presence from='{ROOM}/romeo' to='{J}'><x xmlns='{USER}'>"
        f"<item affiliation='none' jid='{R}' role='participant'/></x></presence>"])


async def test_a_non_anonymous_room_shows_everyone_the_real_jids_and_says_so(raw, server):
    juliet = await online(raw, J)
    romeo = await online(raw, R)
    await enter(juliet, "juliet")
    reply = await juliet.request(f"""<iq type='set' id='c1' to='{ROOM}'><query xmlns='{OWNER}'>
        <x xmlns='jabber:x:data' type='submit'>
          <field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig</value></field>
          <field var='muc#roomconfig_whois'><value>anyone</value></field></x></query></iq>""")
    assert reply.get("type") == "result"
    # 10.2.1: the occupants hear that the room is now non-anonymous
    same_list(await flush(juliet), [f"<message type='groupchat' from='{ROOM}' to='{J}'>"
                                    f"<x xmlns='{USER}'><status code='172'/></x></message>"])
    same_list(await enter(romeo, "romeo"), [
        f"<presence from='{ROOM}/juliet' to='{R}'><x xmlns='{USER}'>"
        f"<item affiliation='owner' jid='{J}' role='moderator'/></x></presence>",
        f"<presence from='{ROOM}/romeo' to='{R}'><x xmlns='{USER}'><status code='100'/>"
        f"<item affiliation='none' jid='{R}' role='participant'/><status code='110'/></x></presence>",
        f"<message type='groupchat' from='{ROOM}' to='{R}'><subject/></message>"])


async def test_entering_errors_conflict_password_members_only_banned(raw, server):
    juliet, romeo = await garden(raw)
    nurse = await online(raw, N)

    async def refused(nick, x=f"<x xmlns='{MUC}'/>"):
        [reply] = await enter(nurse, nick, x=x)
        assert reply.get("type") == "error" and reply.find(f"{{{MUC}}}x") is not None
        assert reply.find("{jabber:client}error").get("by") == ROOM
        return error_of(reply)

    assert await refused("romeo") == ("cancel", "conflict")             # 7.2.8
    assert await refused("   ") == ("modify", "not-acceptable")         # 17.1: no invisible nicks
    reply = await juliet.request(f"""<iq type='set' id='c2' to='{ROOM}'><query xmlns='{OWNER}'>
        <x xmlns='jabber:x:data' type='submit'>
          <field var='muc#roomconfig_roomsecret'><value>cauldronburn</value></field></x></query></iq>""")
    assert reply.get("type") == "result"
    same_list(await flush(romeo), [f"<message type='groupchat' from='{ROOM}' to='{R}'>"
                                   f"<x xmlns='{USER}'><status code='104'/></x></message>"])  # 10.2.1
    assert await refused("nurse") == ("auth", "not-authorized")          # 7.2.5
    pw = f"<x xmlns='{MUC}'><password>wrong</password></x>"
    assert await refused("nurse", pw) == ("auth", "not-authorized")
    await juliet.request(f"""<iq type='set' id='c3' to='{ROOM}'><query xmlns='{OWNER}'>
        <x xmlns='jabber:x:data' type='submit'><field var='muc#roomconfig_roomsecret'/>
          <field var='muc#roomconfig_membersonly'><value>1</value></field></x></query></iq>""")
    # 10.2: romeo is no member: the room turns members-only and he is taken out, status 322
    same_list(await flush(romeo), [
        f"<presence from='{ROOM}/romeo' to='{R}' type='unavailable'><x xmlns='{USER}'>"
        f"<status code='322'/><item affiliation='none' jid='{R}' role='none'/><status code='110'/></x></presence>"])
    assert await refused("nurse") == ("auth", "registration-required")  # 7.2.6
    reply = await juliet.request(f"<iq type='set' id='b1' to='{ROOM}'><query xmlns='{ADMIN}'>"
                                 "<item affiliation='outcast' jid='nurse@example.com'/></query></iq>")
    assert reply.get("type") == "result"
    same_list(await flush(nurse), [                                       # 18.1: told out of the room (MAY)
        f"<message from='{ROOM}' to='nurse@example.com' type='headline'><body>Your affiliation in room {ROOM} "
        f"is now outcast.</body><x xmlns='{USER}'><status code='101'/></x></message>"])
    assert await refused("nurse") == ("auth", "forbidden")              # 7.2.7


async def test_presence_without_the_muc_element_from_a_stranger_is_answered_with_a_kick(raw, server):
    await garden(raw)
    nurse = await online(raw, N)
    await nurse.send(f"<presence to='{ROOM}/nurse'/>")
    # 7.2.18: the service treats it as a desynchronised client
    same_list(await flush(nurse), [
        f"""<presence from='{ROOM}/nurse' to='{N}' type='unavailable'><x xmlns='{USER}'>
              <item affiliation='none' role='none'><reason>You are not in the room.</reason></item>
              <status code='110'/><status code='307'/><status code='333'/></x></presence>"""])
    assert "nurse" not in server.muc[SERVICE][ROOM].occupants


# messages (7.4), history (7.2.13), subject (7.2.15, 8.1) ---------------------------------------------
async def test_groupchat_is_reflected_to_everyone_and_kept_as_history(raw, server):
    juliet, romeo = await garden(raw)
    await romeo.send(f"<message to='{ROOM}' type='groupchat' id='m1'><body>Lady, by yonder blessed moon</body>"
                     "</message>")
    for c, jid in ((romeo, R), (juliet, J)):
        same_list(await flush(c), [f"<message from='{ROOM}/romeo' to='{jid}' type='groupchat' id='m1'>"
                                   "<body>Lady, by yonder blessed moon</body>"  # XEP-0313 §3.5: the room archives it
                                   f"<stanza-id xmlns='urn:xmpp:sid:0' by='{ROOM}' id='*'/></message>"])
    await juliet.send(f"<message to='{ROOM}' type='groupchat'><subject>The orchard</subject></message>")
    subject = (f"<message from='{ROOM}/juliet' to='*' type='groupchat'><subject>The orchard</subject>"
               f"<stanza-id xmlns='urn:xmpp:sid:0' by='{ROOM}' id='*'/></message>")  # archived too (XEP-0313 §6.1.2)
    same_list(await flush(romeo), [subject])
    await romeo.send(f"<message to='{ROOM}' type='groupchat' id='s2'><subject>Mine</subject></message>")
    [refused] = await flush(romeo)   # 8.1: only moderators (unless changesubject allows participants)
    assert error_of(refused) == ("auth", "forbidden")
    nurse = await online(raw, N)
    same_list(await enter(nurse, "nurse"), [
        f"<presence from='{ROOM}/juliet' to='{N}'><x xmlns='{USER}'><item affiliation='owner' role='moderator'/>"
        "</x></presence>",
        f"<presence from='{ROOM}/romeo' to='{N}'><x xmlns='{USER}'><item affiliation='none' role='participant'/>"
        "</x></presence>",
        f"<presence from='{ROOM}/nurse' to='{N}'><x xmlns='{USER}'>"
        f"<item affiliation='none' jid='{N}' role='participant'/><status code='110'/></x></presence>",
        # 7.2.13: history, stamped by the room (XEP-0203); the subject is not part of it
        f"<message from='{ROOM}/romeo' to='{N}' type='groupchat' id='m1'><body>Lady, by yonder blessed moon</body>"
        f"<stanza-id xmlns='urn:xmpp:sid:0' by='{ROOM}' id='*'/><delay xmlns='urn:xmpp:delay' from='{ROOM}' "
        "stamp='*'/></message>",
        # 7.2.15: then the subject, from who set it, stamped with when
        f"<message from='{ROOM}/juliet' to='{N}' type='groupchat'><subject>The orchard</subject>"
        f"<delay xmlns='urn:xmpp:delay' from='{ROOM}' stamp='*'/></message>"])


async def test_history_can_be_limited_on_entering(raw, server):
    juliet, _romeo = await garden(raw)
    for i in range(3):
        await juliet.send(f"<message to='{ROOM}' type='groupchat' id='h{i}'><body>line {i}</body></message>")
    await flush(juliet)
    nurse, ben = await online(raw, N), await online(raw, B)
    got = await enter(nurse, "nurse", x=f"<x xmlns='{MUC}'><history maxstanzas='2'/></x>")
    assert [m.get("id") for m in got if m.tag.endswith("message") and m.find("{jabber:client}body") is not None] \
        == ["h1", "h2"]                                                   # 7.2.14: the newest two
    got = await enter(ben, "ben", x=f"<x xmlns='{MUC}'><history maxchars='0'/></x>")
    assert [m for m in got if m.find("{jabber:client}body") is not None] == []  # no history at all


async def test_messages_from_strangers_and_visitors_are_refused(raw, server):
    juliet, romeo = await garden(raw)
    nurse = await online(raw, N)
    await nurse.send(f"<message to='{ROOM}' type='groupchat' id='x1'><body>Madam!</body></message>")
    [reply] = await flush(nurse)
    same(reply, f"<message from='{ROOM}' to='{N}' type='error' id='x1'>"
                f"<error type='cancel' by='{ROOM}'><not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
                f"{TEXT}</error></message>")                               # 7.4
    await juliet.request(f"<iq type='set' id='v1' to='{ROOM}'><query xmlns='{ADMIN}'>"
                         "<item nick='romeo' role='visitor'/></query></iq>")  # 8.4: revoke voice
    await flush(romeo)
    await romeo.send(f"<message to='{ROOM}' type='groupchat' id='x2'><body>Hear me</body></message>")
    [reply] = await flush(romeo)
    assert error_of(reply) == ("auth", "forbidden")                       # 7.4: visitors have no voice


# nicknames (7.6), leaving (7.14) -----------------------------------------------------------------------
async def test_changing_nickname_sends_303_then_the_new_presence(raw, server):
    juliet, romeo = await garden(raw)
    await romeo.send(f"<presence to='{ROOM}/montague'/>")
    same_list(await flush(romeo), [
        f"<presence from='{ROOM}/romeo' to='{R}' type='unavailable'><x xmlns='{USER}'><status code='303'/>"
        f"<item affiliation='none' jid='{R}' nick='montague' role='participant'/><status code='110'/>"
        "</x></presence>",
        f"<presence from='{ROOM}/montague' to='{R}'><x xmlns='{USER}'>"
        f"<item affiliation='none' jid='{R}' role='participant'/><status code='110'/></x></presence>"])
    same_list(await flush(juliet), [
        f"<presence from='{ROOM}/romeo' to='{J}' type='unavailable'><x xmlns='{USER}'><status code='303'/>"
        f"<item affiliation='none' jid='{R}' nick='montague' role='participant'/></x></presence>",
        f"<presence from='{ROOM}/montague' to='{J}'><x xmlns='{USER}'>"
        f"<item affiliation='none' jid='{R}' role='participant'/></x></presence>"])
    await romeo.send(f"<presence to='{ROOM}/juliet'/>")
    [reply] = await flush(romeo)
    assert error_of(reply) == ("cancel", "conflict")                      # 7.6


async def test_leaving_tells_the_leaver_first_and_an_empty_temporary_room_is_gone(raw, server):
    juliet, romeo = await garden(raw)
    await romeo.send(f"<presence to='{ROOM}/romeo' type='unavailable'><status>Farewell</status></presence>")
    same_list(await flush(romeo), [
        f"<presence from='{ROOM}/romeo' to='{R}' type='unavailable'><status>Farewell</status>"
        f"<x xmlns='{USER}'><item affiliation='none' jid='{R}' role='none'/><status code='110'/></x></presence>"])
    same_list(await flush(juliet), [
        f"<presence from='{ROOM}/romeo' to='{J}' type='unavailable'><status>Farewell</status>"
        f"<x xmlns='{USER}'><item affiliation='none' jid='{R}' role='none'/></x></presence>"])
    await juliet.send(f"<presence to='{ROOM}/juliet' type='unavailable'/>")
    await flush(juliet)
    assert ROOM not in server.muc[SERVICE].rooms                            # 7.14: temporary, so destroyed


async def test_a_closed_stream_or_a_broadcast_unavailable_leaves_the_room(raw, server):
    juliet, romeo = await garden(raw)
    nurse = await online(raw, N)
    await enter(nurse, "nurse")
    await flush(juliet)
    # RFC 6121 4.6.3: the room got directed presence, so the user's unavailable presence goes there too
    await nurse.send("<presence type='unavailable'/>")
    gone = f"<presence from='{ROOM}/nurse' to='{J}' type='unavailable'><x xmlns='{USER}'>" \
           f"<item affiliation='none' jid='{N}' role='none'/></x></presence>"
    same_list(await flush(juliet), [gone])
    await romeo.close()                                                    # 7.14: the user's server leaves for him
    await until(lambda: "romeo" not in server.muc[SERVICE][ROOM].occupants, server, what="romeo out of the room")
    same_list(await flush(juliet), [f"<presence from='{ROOM}/romeo' to='{J}' type='unavailable'>"
                                    f"<x xmlns='{USER}'><item affiliation='none' jid='{R}' role='none'/></x>"
                                    "</presence>"])


# private messages (7.5), invitations (7.8.2) ------------------------------------------------------------
async def test_private_messages_go_through_occupant_jids(raw, server):
    juliet, romeo = await garden(raw)
    await romeo.send(f"<message to='{ROOM}/juliet' type='chat' id='p1'><body>Wherefore?</body></message>")
    same_list(await flush(juliet), [f"<message from='{ROOM}/romeo' to='{J}' type='chat' id='p1'>"
                                    f"<body>Wherefore?</body><x xmlns='{USER}'/></message>"])
    for stanza, expected in (
            (f"<message to='{ROOM}/juliet' type='groupchat' id='p2'><body>x</body></message>",
             ("modify", "bad-request")),
            (f"<message to='{ROOM}/tybalt' type='chat' id='p3'><body>x</body></message>",
             ("cancel", "item-not-found"))):
        await romeo.send(stanza)
        [reply] = await flush(romeo)
        assert error_of(reply) == expected
    nurse = await online(raw, N)
    await nurse.send(f"<message to='{ROOM}/juliet' type='chat' id='p4'><body>x</body></message>")
    [reply] = await flush(nurse)
    assert error_of(reply) == ("cancel", "not-acceptable")


async def test_mediated_invitation(raw, server):
    juliet, _romeo = await garden(raw)
    nurse = await online(raw, N)
    await juliet.send(f"<message to='{ROOM}' id='inv1'><x xmlns='{USER}'>"
                      "<invite to='nurse@example.com'><reason>Come up</reason></invite></x></message>")
    same_list(await flush(nurse), [
        f"""<message from='{ROOM}' to='nurse@example.com' id='inv1'>
              <x xmlns='{USER}'><invite from='{ROOM}/juliet'><reason>Come up</reason></invite></x>
              <x xmlns='jabber:x:conference' jid='{ROOM}'>Come up</x>
              <body>{ROOM}/juliet invited you to the room {ROOM} (Come up)</body></message>"""])


async def test_iqs_through_occupant_jids_hide_both_real_jids(raw, server):
    juliet, romeo = await garden(raw)
    await romeo.send(f"<iq type='get' id='v1' to='{ROOM}/juliet'><query xmlns='jabber:iq:version'/></iq>")
    [asked] = await flush(juliet)                                          # 17.4: from his occupant JID
    same(asked, f"<iq type='get' id='*' from='{ROOM}/romeo' to='{J}'><query xmlns='jabber:iq:version'/></iq>")
    await juliet.send(f"<iq type='result' id='{asked.get('id')}' to='{ROOM}/romeo'>"
                      "<query xmlns='jabber:iq:version'><name>balcony</name></query></iq>")
    same_list(await flush(romeo), [f"<iq type='result' id='v1' from='{ROOM}/juliet' to='{R}'>"
                                   "<query xmlns='jabber:iq:version'><name>balcony</name></query></iq>"])
    # XEP-0410: a ping to one's own occupant JID says "you are still in the room"
    pong = await romeo.request(f"<iq type='get' id='sp' to='{ROOM}/romeo'><ping xmlns='urn:xmpp:ping'/></iq>")
    same(pong, f"<iq type='result' id='sp' from='{ROOM}/romeo' to='{R}'/>")
    nurse = await online(raw, N)
    reply = await nurse.request(f"<iq type='get' id='d1' to='{ROOM}/juliet'>"
                                "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>")
    assert error_of(reply) == ("modify", "bad-request")                   # 6.6: not from strangers


# moderation (8.2) and membership (9.3) --------------------------------------------------------------
async def test_a_moderator_kicks_and_a_participant_cannot(raw, server):
    juliet, romeo = await garden(raw)
    nurse = await online(raw, N)
    await enter(nurse, "nurse")
    await flush(juliet), await flush(romeo)
    reply = await romeo.request(f"<iq type='set' id='k0' to='{ROOM}'><query xmlns='{ADMIN}'>"
                                "<item nick='nurse' role='none'/></query></iq>")
    assert error_of(reply) == ("auth", "forbidden")                       # 8: only moderators
    await juliet.send(f"<iq type='set' id='k1' to='{ROOM}'><query xmlns='{ADMIN}'>"
                      "<item nick='romeo' role='none'><reason>Banished</reason></item></query></iq>")
    same_list(await flush(romeo), [
        f"""<presence from='{ROOM}/romeo' to='{R}' type='unavailable'><x xmlns='{USER}'><status code='307'/>
              <item affiliation='none' jid='{R}' role='none'><actor nick='juliet'/><reason>Banished</reason></item>
              <status code='110'/></x></presence>"""])
    same_list(await flush(juliet), [                                        # 8.2: the result, then the others
        f"<iq type='result' id='k1' from='{ROOM}' to='{J}'/>",
        f"""<presence from='{ROOM}/romeo' to='{J}' type='unavailable'><x xmlns='{USER}'><status code='307'/>
              <item affiliation='none' jid='{R}' role='none'><actor jid='{J}' nick='juliet'/>
              <reason>Banished</reason></item></x></presence>"""])
    same_list(await flush(nurse), [
        f"""<presence from='{ROOM}/romeo' to='{N}' type='unavailable'><x xmlns='{USER}'><status code='307'/>
              <item affiliation='none' role='none'><actor nick='juliet'/><reason>Banished</reason></item>
              </x></presence>"""])


async def test_granting_membership_to_an_occupant_and_to_someone_away(raw, server):
    juliet, romeo = await garden(raw)
    reply = await juliet.request(f"<iq type='set' id='m1' to='{ROOM}'><query xmlns='{ADMIN}'>"
                                 "<item affiliation='member' jid='romeo@example.net' nick='romeo'/></query></iq>")
    assert reply.get("type") == "result"
    same_list(await flush(romeo), [
        f"<presence from='{ROOM}/romeo' to='{R}'><x xmlns='{USER}'><item affiliation='member' jid='{R}' "
        "role='participant'><actor nick='juliet'/></item><status code='110'/></x></presence>"])
    await juliet.request(f"<iq type='set' id='m2' to='{ROOM}'><query xmlns='{ADMIN}'>"
                         "<item affiliation='member' jid='nurse@example.com'/></query></iq>")
    listing = await juliet.request(f"<iq type='get' id='m3' to='{ROOM}'><query xmlns='{ADMIN}'>"
                                   "<item affiliation='member'/></query></iq>")
    same(listing, f"<iq type='result' id='m3' from='{ROOM}' to='{J}'><query xmlns='{ADMIN}'>"
                  "<item affiliation='member' jid='nurse@example.com'/>"
                  "<item affiliation='member' jid='romeo@example.net' nick='romeo'/></query></iq>")
    listing = await romeo.request(f"<iq type='get' id='m4' to='{ROOM}'><query xmlns='{ADMIN}'>"
                                  "<item affiliation='member'/></query></iq>")
    assert error_of(listing) == ("auth", "forbidden")                     # 9.5: admins and owners


async def test_destroying_a_room(raw, server):
    juliet, romeo = await garden(raw)
    reply = await romeo.request(f"<iq type='set' id='d0' to='{ROOM}'><query xmlns='{OWNER}'><destroy/></query></iq>")
    assert error_of(reply) == ("auth", "forbidden")                       # 10.9: owners only
    await juliet.send(f"<iq type='set' id='d1' to='{ROOM}'><query xmlns='{OWNER}'>"
                      f"<destroy jid='orchard@{SERVICE}'><reason>Too many Capulets</reason></destroy></query></iq>")
    same_list(await flush(romeo), [
        f"""<presence from='{ROOM}/romeo' to='{R}' type='unavailable'><x xmlns='{USER}'>
              <destroy jid='orchard@{SERVICE}'><reason>Too many Capulets</reason></destroy>
              <item affiliation='none' jid='{R}' role='none'/><status code='110'/></x></presence>"""])
    got = await flush(juliet)
    assert got[-1].get("type") == "result" and len(got) == 2              # her own removal, then the result
    assert ROOM not in server.muc[SERVICE].rooms


# persistence -----------------------------------------------------------------------------------
async def test_a_persistent_room_keeps_its_members_across_a_restart(tmp_path, server):
    db = str(tmp_path / "lab.sqlite")
    first = Server(["example.com", "example.net"], db=db, modules=MODULES)
    await first.start()
    try:
        for user in ("juliet@example.com", "romeo@example.net", "nurse@example.com"):
            first.accounts.add(user, "secret")
        juliet = await slix_client(first.port, J, plugins=SLIX_PLUGINS)
        muc = juliet.plugin["xep_0045"]
        await muc.join_muc_wait(ROOM, "juliet", maxstanzas=0, timeout=5)
        form = await muc.get_room_config(ROOM)
        form.set_values({"muc#roomconfig_persistentroom": True, "muc#roomconfig_membersonly": True,
                         "muc#roomconfig_roomname": "The Capulets' garden"})
        await muc.set_room_config(ROOM, form)
        await muc.set_affiliation(ROOM, "member", jid="romeo@example.net")
        await juliet.close()
    finally:
        await first.stop()
    second = Server(["example.com", "example.net"], db=db, modules=MODULES)
    await second.start()
    try:
        room = second.muc[SERVICE][ROOM]
        assert room.config.persistent and room.config.members_only and not room.occupants
        assert {j: a.affiliation for j, a in room.affiliations.items()} == \
            {"juliet@example.com": "owner", "romeo@example.net": "member"}
        romeo = await slix_client(second.port, R, plugins=SLIX_PLUGINS)
        nurse = await slix_client(second.port, N, plugins=SLIX_PLUGINS)
        try:
            own, subject, occupants, history = await romeo.plugin["xep_0045"].join_muc_wait(ROOM, "romeo", timeout=5)
            assert own["muc"]["affiliation"] == "member" and own["muc"]["role"] == "participant"
            with pytest.raises(PresenceError) as refused:
                await nurse.plugin["xep_0045"].join_muc_wait(ROOM, "nurse", timeout=5)
            assert refused.value.condition == "registration-required"
            items = await romeo.plugin["xep_0030"].get_items(jid=SERVICE)
            assert [(i[0], i[2]) for i in items["disco_items"]["items"]] == [(ROOM, "The Capulets' garden")]
        finally:
            await romeo.close()
            await nurse.close()
    finally:
        await second.stop()


# federation -----------------------------------------------------------------------------------------
async def test_a_user_of_another_server_joins_a_room_over_federation():
    s1 = await Server(["server1.com"], s2s_port=0, modules=MODULES).start()
    s2 = await Server(["server2.com"], s2s_port=0, modules=MODULES).start()
    clients = []
    try:
        s1.s2s.add_peer("server2.com", "127.0.0.1", s2.s2s_port)
        s2.s2s.add_peer("server1.com", "127.0.0.1", s1.s2s_port)
        s1.accounts.add("user1@server1.com", "pw")
        s2.accounts.add("user2@server2.com", "pw")
        for srv, jid in ((s1, "user1@server1.com/pc"), (s2, "user2@server2.com/phone1")):
            c = await RawClient.open(srv.port)
            await c.login(jid, "pw")
            clients.append(c)
        pc, phone = clients
        room = "room@conference.server1.com"
        await pc.send(f"<presence to='{room}/user1'><x xmlns='{MUC}'/></presence>")
        await pc.request(f"<iq type='set' id='c1' to='{room}'><query xmlns='{OWNER}'>"
                         "<x xmlns='jabber:x:data' type='submit'/></query></iq>")
        await phone.send(f"<presence to='{room}/user2'><x xmlns='{MUC}'/></presence>")
        got = [await phone.recv(2) for _ in range(3)]
        same_list(got, [
            f"<presence from='{room}/user1' to='user2@server2.com/phone1'><x xmlns='{USER}'>"
            "<item affiliation='owner' role='moderator'/></x></presence>",
            f"<presence from='{room}/user2' to='user2@server2.com/phone1'><x xmlns='{USER}'>"
            "<item affiliation='none' jid='user2@server2.com/phone1' role='participant'/><status code='110'/>"
            "</x></presence>",
            f"<message type='groupchat' from='{room}' to='user2@server2.com/phone1'><subject/></message>"])
    finally:
        for c in clients:
            await c.close()
        await s1.stop()
        await s2.stop()


# slixmpp's XEP-0045 plugin as the client -------------------------------------------------------------
async def test_three_slixmpp_users_chat_in_a_room(server):
    juliet, romeo, nurse = [await slix(server, j) for j in (J, R, N)]
    try:
        jm, rm, nm = (c.plugin["xep_0045"] for c in (juliet, romeo, nurse))
        own, subject, occupants, history = await jm.join_muc_wait(ROOM, "juliet", timeout=5)
        assert own["muc"]["status_codes"] == {110, 201} and own["muc"]["role"] == "moderator"
        await jm.set_room_config(ROOM, juliet.plugin["xep_0004"].make_form(ftype="submit"))  # instant room
        juliet_msgs = asyncio.Queue()
        juliet.add_event_handler("groupchat_message", juliet_msgs.put_nowait)
        own, subject, occupants, history = await rm.join_muc_wait(ROOM, "romeo", timeout=5)
        assert [p["from"].resource for p in occupants] == ["juliet", "romeo"]  # the others, then himself
        jm.set_subject(ROOM, "Love")
        romeo.send_message(mto=ROOM, mbody="But soft!", mtype="groupchat")
        got = await asyncio.wait_for(juliet_msgs.get(), 5)
        assert (got["from"].resource, got["body"]) == ("romeo", "But soft!")
        # the nurse comes later: history (with the room's delay) and the subject
        own, subject, occupants, history = await nm.join_muc_wait(ROOM, "nurse", timeout=5)
        assert [p["from"].resource for p in occupants] == ["juliet", "romeo", "nurse"]
        assert [(m["from"].resource, m["body"]) for m in history] == [("romeo", "But soft!")]
        assert subject["subject"] == "Love" and subject["from"].resource == "juliet"
        assert sorted(jm.get_roster(ROOM)) == ["juliet", "nurse", "romeo"]
        # a nickname already taken
        benvolio = await slix(server, B)
        try:
            with pytest.raises(PresenceError) as taken:
                await benvolio.plugin["xep_0045"].join_muc_wait(ROOM, "nurse", timeout=5)
            assert taken.value.condition == "conflict"
        finally:
            await benvolio.close()
        # a private message
        romeo_msgs = asyncio.Queue()
        romeo.add_event_handler("message", lambda m: m["type"] == "chat" and romeo_msgs.put_nowait(m))
        nurse.send_message(mto=f"{ROOM}/romeo", mbody="Anon, good nurse!", mtype="chat")
        pm = await asyncio.wait_for(romeo_msgs.get(), 5)
        assert (str(pm["from"]), pm["body"]) == (f"{ROOM}/nurse", "Anon, good nurse!")
        # the nurse may not kick; Juliet, a moderator, may
        with pytest.raises(IqError) as denied:
            await nm.set_role(ROOM, "romeo", "none")
        assert denied.value.condition == "forbidden"
        kicked = asyncio.get_running_loop().create_future()
        romeo.add_event_handler(f"muc::{ROOM}::self-presence",
                                lambda p: kicked.done() or kicked.set_result(p))
        await jm.set_role(ROOM, "romeo", "none", reason="Banished")
        presence = await asyncio.wait_for(kicked, 5)
        assert presence["type"] == "unavailable" and presence["muc"]["status_codes"] == {110, 307}
        # Juliet's client drops him from its list when his unavailable presence reaches her
        await until(lambda: sorted(jm.get_roster(ROOM)) == ["juliet", "nurse"], juliet, what="juliet's occupant list")
        # the nurse leaves
        left = asyncio.get_running_loop().create_future()
        juliet.add_event_handler(f"muc::{ROOM}::got_offline", lambda p: left.done() or left.set_result(p))
        nm.leave_muc(ROOM, "nurse", "Farewell")
        presence = await asyncio.wait_for(left, 5)
        assert presence["from"].resource == "nurse" and presence["status"] == "Farewell"
    finally:
        for c in (juliet, romeo, nurse):
            await c.close()
