"""XEP-0163 Personal Eventing at each account's bare JID, read as transcripts (raw XML clients).

Romeo's client shows its interest with XEP-0115 caps; the server asks it once
what the ``ver`` means, then sends him what Juliet publishes; a stranger gets nothing.
"""

from lxml import etree

from tests.support import RawClient
from tests.support_pubsub import PS, PS_EVENT, app_condition
from tests.support_roster import put_state
from tests.support_stanzas import error_of, flush, online, same, same_list
from xmpplab.jid import JID
from xmpplab.server import Server
from xmpplab.server.limits import Limits
from xmpplab.server.pubsub.caps import ver_of

J, R, N = "juliet@example.com", "romeo@example.net", "nurse@example.com"
NICK = "http://jabber.org/protocol/nick"
DISCO = "http://jabber.org/protocol/disco#info"
CAPS_NODE = "urn:example:raw-client"
FEATURES = (DISCO, "http://jabber.org/protocol/caps", f"{NICK}+notify")


def lovers(server):
    put_state(server, J, R, "both")
    put_state(server, R, J, "both")


def disco_answer(features=FEATURES) -> str:
    return (f"<query xmlns='{DISCO}'><identity category='client' type='pc' name='raw'/>"
            + "".join(f"<feature var='{f}'/>" for f in features) + "</query>")


def caps_ver(features=FEATURES) -> str:
    return ver_of(etree.fromstring(disco_answer(features)))


def presence(ver: str) -> str:
    return (f"<presence><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='{CAPS_NODE}' ver='{ver}'/>"
            "</presence>")


async def answer_caps_query(c, features=FEATURES):
    """Read until the server's disco#info about ``node#ver`` (XEP-0115 6.2); answer it; return the query."""
    while True:
        el = await c.recv()
        if isinstance(el, str):
            raise AssertionError(f"the stream ended: {el}")
        if el.tag == "{jabber:client}iq" and el.get("type") == "get":
            query = el.find(f"{{{DISCO}}}query")
            node = query.get("node")
            await c.send(f"<iq type='result' id='{el.get('id')}' to='{el.get('from')}'>"
                         + disco_answer(features).replace("<query ", f"<query node='{node}' ", 1) + "</iq>")
            return el


async def publish_nick(c, nick: str, to: str = ""):
    to_attr = f" to='{to}'" if to else ""
    return await c.request(f"<iq type='set' id='pub-{nick}'{to_attr}><pubsub xmlns='{PS}'><publish node='{NICK}'>"
                           f"<item id='current'><nick xmlns='{NICK}'>{nick}</nick></item></publish></pubsub></iq>")


def nick_event(to: str, nick: str) -> str:
    return (f"<message from='{J}' to='{to}' type='headline' id='*'><event xmlns='{PS_EVENT}'>"
            f"<items node='{NICK}'><item id='current'><nick xmlns='{NICK}'>{nick}</nick></item></items>"
            "</event></message>")


async def interested_romeo(raw, resource="orchard", features=FEATURES):
    romeo = await online(raw, f"{R}/{resource}", presence=None)
    await romeo.send(presence(caps_ver(features)))
    asked = await answer_caps_query(romeo, features)
    await flush(romeo)
    return romeo, asked


async def test_the_account_is_a_pep_service_in_its_own_disco_info(raw):
    juliet = await online(raw, f"{J}/balcony")
    info = await juliet.request(f"<iq type='get' id='d1' to='{J}'><query xmlns='{DISCO}'/></iq>")
    identities = {(i.get("category"), i.get("type")) for i in info.iter("{*}identity")}
    assert {("account", "registered"), ("pubsub", "pep")} <= identities  # XEP-0163 6.1
    features = {f.get("var") for f in info.iter("{*}feature")}
    assert {f"{PS}#auto-create", f"{PS}#auto-subscribe", f"{PS}#filtered-notifications", f"{PS}#publish",
            f"{PS}#access-presence", f"{PS}#persistent-items", f"{PS}#retrieve-items"} <= features


async def test_an_interested_contact_gets_the_nick_and_a_stranger_does_not(raw, server):
    lovers(server)
    juliet = await online(raw, f"{J}/balcony")
    romeo, asked = await interested_romeo(raw)
    # XEP-0115 6.2: the server asked Romeo's resource what its ver means, about node#ver
    assert asked.find(f"{{{DISCO}}}query").get("node") == f"{CAPS_NODE}#{caps_ver()}"
    nurse = await online(raw, f"{N}/desk", presence=presence(caps_ver()))
    answer = await publish_nick(juliet, "Jules")  # no 'to': her own service (XEP-0163 3), created on the way
    same(answer, f"<iq type='result' id='pub-Jules' to='{J}/balcony'><pubsub xmlns='{PS}'>"
                 f"<publish node='{NICK}'><item id='current'/></publish></pubsub></iq>")
    same_list(await flush(romeo), [nick_event(f"{R}/orchard", "Jules")])  # 4.3.1: from her bare JID
    same_list(await flush(nurse), [])
    refused = await nurse.request(f"<iq type='get' id='n1' to='{J}'><pubsub xmlns='{PS}'><items node='{NICK}'/>"
                                  "</pubsub></iq>")
    assert (*error_of(refused), app_condition(refused)) == ("auth", "not-authorized", "presence-subscription-required")
    items = await romeo.request(f"<iq type='get' id='r1' to='{J}'><pubsub xmlns='{PS}'><items node='{NICK}'/>"
                                "</pubsub></iq>")
    assert items.findtext(f".//{{{NICK}}}nick") == "Jules"


async def test_a_contact_without_notify_gets_nothing(raw, server):
    lovers(server)
    juliet = await online(raw, f"{J}/balcony")
    romeo, _ = await interested_romeo(raw, features=(DISCO,))
    await publish_nick(juliet, "Jules")
    same_list(await flush(romeo), [])


async def test_a_new_resource_gets_the_last_item_and_a_known_ver_is_not_asked_again(raw, server):
    lovers(server)
    juliet = await online(raw, f"{J}/balcony")
    romeo, _ = await interested_romeo(raw)
    await publish_nick(juliet, "Jules")
    await flush(romeo)
    garden = await online(raw, f"{R}/garden", presence=None)
    await garden.send(presence(caps_ver()))  # the same ver: the server knows it (XEP-0115 8.2), no question
    got = await flush(garden)
    assert [el for el in got if el.tag == "{jabber:client}iq"] == []
    assert [el.findtext(f".//{{{NICK}}}nick") for el in got if el.tag == "{jabber:client}message"] == ["Jules"]
    await garden.send(presence(caps_ver()))  # not initial presence: no second copy (4.3.3)
    assert [el for el in await flush(garden) if el.tag == "{jabber:client}message"] == []


async def test_the_owner_own_interested_resources_get_the_event(raw, server):
    phone = await online(raw, f"{J}/phone", presence=None)
    await phone.send(presence(caps_ver()))
    await answer_caps_query(phone)
    await flush(phone)
    balcony = await online(raw, f"{J}/balcony")
    await flush(phone)  # balcony's presence
    await publish_nick(balcony, "Jules")
    same_list(await flush(phone), [nick_event(f"{J}/phone", "Jules")])
    same_list(await flush(balcony), [])  # no caps with +notify: the publishing resource is not sent a copy


async def test_an_answer_that_does_not_hash_to_ver_serves_only_that_resource(raw, server):
    lovers(server)
    juliet = await online(raw, f"{J}/balcony")
    liar = await online(raw, f"{R}/orchard", presence=None)
    await liar.send(presence("bm90IHRoZSByZWFsIGhhc2g="))
    await answer_caps_query(liar)
    await flush(liar)
    await publish_nick(juliet, "Jules")
    assert [el.findtext(f".//{{{NICK}}}nick") for el in await flush(liar)] == ["Jules"]
    assert server.pep.interest.known == {}  # not kept for others (XEP-0115 5.4)


async def test_only_the_owner_publishes_and_avatar_sized_items_fit(raw, server):
    lovers(server)
    juliet = await online(raw, f"{J}/balcony")
    romeo = await online(raw, f"{R}/orchard")
    refused = await publish_nick(romeo, "Mallory", to=J)
    assert error_of(refused)[1] == "forbidden"
    avatar = "A" * (128 * 1024 * 4 // 3)  # 128 KiB of picture, base64
    data = "urn:xmpp:avatar:data"
    ok = await juliet.request(f"<iq type='set' id='a1'><pubsub xmlns='{PS}'><publish node='{data}'><item id='h1'>"
                              f"<data xmlns='{data}'>{avatar}</data></item></publish></pubsub></iq>")
    assert ok.get("type") == "result"
    big = await juliet.request(f"<iq type='set' id='a2'><pubsub xmlns='{PS}'><publish node='{data}'><item id='h2'>"
                               f"<data xmlns='{data}'>{avatar}{'B' * 30000}</data></item></publish></pubsub></iq>")
    assert app_condition(big) == "payload-too-big"


async def test_nodes_and_items_survive_a_restart(tmp_path):
    db = str(tmp_path / "pep.sqlite")
    async with Server(["example.com", "example.net"], db=db) as srv:
        srv.accounts.add(J, "secret")
        srv.pep[J].publish(JID(J), NICK, "current",
                           etree.fromstring(f"<nick xmlns='{NICK}'>Jules</nick>"))
    async with Server(["example.com", "example.net"], db=db) as srv:
        node = srv.pep[J][NICK]
        assert node.config.access_model == "presence"
        assert "Jules" in node.items["current"].payload


async def test_a_blocked_contact_gets_no_notification(raw, server):
    lovers(server)
    juliet = await online(raw, f"{J}/balcony")
    romeo, _ = await interested_romeo(raw)
    blocked = await juliet.request(f"<iq type='set' id='b1'><block xmlns='urn:xmpp:blocking'><item jid='{R}'/>"
                                   "</block></iq>")
    assert blocked.get("type") == "result"
    await flush(romeo)  # her unavailable presence (XEP-0191 5.3)
    await publish_nick(juliet, "Jules")
    same_list(await flush(romeo), [])  # XEP-0163 4.3.3


async def test_an_explicit_subscription_by_a_contact_works_without_caps(raw, server):
    lovers(server)
    juliet = await online(raw, f"{J}/balcony")
    romeo = await online(raw, f"{R}/orchard")
    await publish_nick(juliet, "Juliet")
    subscribed = await romeo.request(f"<iq type='set' id='s1' to='{J}'><pubsub xmlns='{PS}'>"
                                     f"<subscribe node='{NICK}' jid='{R}/orchard'/></pubsub></iq>")
    assert subscribed.get("type") == "result"
    got = await flush(romeo)  # the last item on subscription (XEP-0060 6.1.7)
    assert [el.findtext(f".//{{{NICK}}}nick") for el in got] == ["Juliet"]
    await publish_nick(juliet, "Jules")
    same_list(await flush(romeo), [nick_event(f"{R}/orchard", "Jules")])


async def test_disco_items_lists_the_nodes_the_asker_may_read(raw, server):
    lovers(server)
    juliet = await online(raw, f"{J}/balcony")
    romeo = await online(raw, f"{R}/orchard")
    await publish_nick(juliet, "Jules")
    made = await juliet.request(f"<iq type='set' id='c1'><pubsub xmlns='{PS}'><create node='diary'/><configure>"
                                "<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'>"
                                f"<value>{PS}#node_config</value></field><field var='pubsub#access_model'>"
                                "<value>whitelist</value></field></x></configure></pubsub></iq>")
    assert made.get("type") == "result"
    ask = f"<iq type='get' id='i1' to='{J}'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>"
    own = await juliet.request(ask)
    assert sorted((i.get("jid"), i.get("node")) for i in own.iter("{*}item")) == [(J, "diary"), (J, NICK)]
    theirs = await romeo.request(ask)
    assert [(i.get("jid"), i.get("node")) for i in theirs.iter("{*}item")] == [(J, NICK)]  # XEP-0163 6.2


async def test_an_explicit_subscriber_who_loses_the_presence_subscription_gets_nothing_more(raw, server):
    lovers(server)
    juliet = await online(raw, f"{J}/balcony")
    romeo = await online(raw, f"{R}/orchard")
    await publish_nick(juliet, "Juliet")
    subscribed = await romeo.request(f"<iq type='set' id='s1' to='{J}'><pubsub xmlns='{PS}'>"
                                     f"<subscribe node='{NICK}' jid='{R}/orchard'/></pubsub></iq>")
    assert subscribed.get("type") == "result"
    await juliet.send(f"<presence to='{R}' type='unsubscribed'/>")  # she cancels his subscription to her presence
    await flush(romeo)
    await publish_nick(juliet, "Jules")
    same_list(await flush(romeo), [])  # XEP-0163 7.1: access is checked again
    assert f"{R}/orchard" not in server.pep[J][NICK].subscriptions  # and the subscription is cancelled


async def test_new_interest_brings_the_last_item(raw, server):
    lovers(server)
    juliet = await online(raw, f"{J}/balcony")
    romeo, _ = await interested_romeo(raw, features=(DISCO,))  # not interested yet
    await publish_nick(juliet, "Jules")
    same_list(await flush(romeo), [])
    await romeo.send(presence(caps_ver()))  # a plugin was switched on: a new ver with nick+notify
    await answer_caps_query(romeo)
    got = await flush(romeo)
    assert [el.findtext(f".//{{{NICK}}}nick") for el in got if el.tag == "{jabber:client}message"] == ["Jules"]


async def test_the_nodes_an_account_may_create_are_limited():
    async with Server(["example.com"], limits=Limits(pubsub_nodes_per_account=1)) as srv:
        srv.accounts.add(J, "secret")
        juliet = await RawClient.open(srv.port)
        try:
            await juliet.login(f"{J}/balcony")
            assert (await publish_nick(juliet, "Jules")).get("type") == "result"
            refused = await juliet.request(f"<iq type='set' id='t1'><pubsub xmlns='{PS}'><publish node='urn:x:tune'>"
                                           "<item><tune xmlns='urn:x:tune'/></item></publish></pubsub></iq>")
            assert (*error_of(refused), app_condition(refused)) == ("wait", "resource-constraint", "max-nodes-exceeded")
        finally:
            await juliet.close()
