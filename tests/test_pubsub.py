"""XEP-0060 Publish-Subscribe at pubsub.example.com, read as transcripts (raw XML clients).

Each test is one use case of the XEP: what the requester gets back and what
each subscriber receives, and the errors the XEP's sections define.
"""

import pytest

from tests.support_pubsub import PS, PS_EVENT, PS_OWNER, SERVICE, app_condition, create, publish_xml, request
from tests.support_stanzas import error_of, flush, online, same, same_list
from tests.support_wait import gone, until
from xmpplab.jid import JID
from xmpplab.server import Server
from xmpplab.server.limits import Limits

J, R, N = "juliet@example.com/balcony", "romeo@example.net/orchard", "nurse@example.com/desk"
JID_J = JID(J)
READING = "<reading xmlns='urn:example:sensor' celsius='21.5'/>"


def event_xml(to: str, inner: str) -> str:
    return (f"<message from='{SERVICE}' to='{to}' type='headline' id='*'><event xmlns='{PS_EVENT}'>{inner}"
            "</event></message>")


async def test_the_service_is_listed_in_disco_items_and_says_what_it_is(raw):
    juliet = await online(raw, J)
    items = await juliet.request("<iq type='get' id='i1' to='example.com'>"
                                 "<query xmlns='http://jabber.org/protocol/disco#items'/></iq>")
    assert SERVICE in [i.get("jid") for i in items[0]]
    info = await juliet.request(f"<iq type='get' id='i2' to='{SERVICE}'>"
                                "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>")
    identity = info[0][0]
    assert (identity.get("category"), identity.get("type")) == ("pubsub", "service")
    features = {f.get("var") for f in info[0].iter("{*}feature")}
    assert {PS, f"{PS}#publish", f"{PS}#subscribe", f"{PS}#create-nodes", f"{PS}#retrieve-items",
            f"{PS}#persistent-items", f"{PS}#delete-nodes", f"{PS}#retract-items"} <= features


async def test_publish_reaches_every_subscriber_and_answers_the_item_id(raw):
    juliet, romeo, nurse = await online(raw, J), await online(raw, R), await online(raw, N)
    await create(juliet, "sensors")
    sub = await request(romeo, "set", "<subscribe node='sensors' jid='romeo@example.net'/>")
    same(sub, f"<iq type='result' id='*' from='{SERVICE}' to='{R}'><pubsub xmlns='{PS}'>"
              "<subscription node='sensors' jid='romeo@example.net' subscription='subscribed'/></pubsub></iq>")
    await request(nurse, "set", f"<subscribe node='sensors' jid='{N}'/>")
    answer = await request(juliet, "set", publish_xml("sensors", "r1", READING))
    same(answer, f"<iq type='result' id='*' from='{SERVICE}' to='{J}'><pubsub xmlns='{PS}'>"
                 "<publish node='sensors'><item id='r1'/></publish></pubsub></iq>")
    notification = f"<items node='sensors'><item id='r1'>{READING}</item></items>"
    same_list(await flush(romeo), [event_xml("romeo@example.net", notification)])
    same_list(await flush(nurse), [event_xml(N, notification)])
    same_list(await flush(juliet), [])  # the publisher did not subscribe: it gets nothing


async def test_an_item_without_id_gets_one_from_the_service(raw):
    juliet = await online(raw, J)
    await create(juliet, "moves")
    answer = await request(juliet, "set", f"<publish node='moves'><item>{READING}</item></publish>")
    assert answer.find(f".//{{{PS}}}item").get("id")


async def test_unsubscribed_jids_get_nothing_more(raw):
    juliet, romeo = await online(raw, J), await online(raw, R)
    await create(juliet, "sensors")
    await request(romeo, "set", "<subscribe node='sensors' jid='romeo@example.net'/>")
    same(await request(romeo, "set", "<unsubscribe node='sensors' jid='romeo@example.net'/>"),
         f"<iq type='result' id='*' from='{SERVICE}' to='{R}'/>")
    await request(juliet, "set", publish_xml("sensors", "r1", READING))
    same_list(await flush(romeo), [])
    again = await request(romeo, "set", "<unsubscribe node='sensors' jid='romeo@example.net'/>")
    assert error_of(again) == ("wait", "unexpected-request") and app_condition(again) == "not-subscribed"


async def test_retrieve_items_with_max_items_gives_the_newest(raw):
    juliet, romeo = await online(raw, J), await online(raw, R)
    await create(juliet, "sensors")
    for n in range(1, 4):
        await request(juliet, "set", publish_xml("sensors", f"r{n}", f"<reading xmlns='urn:example:sensor' n='{n}'/>"))
    every = await request(romeo, "get", "<items node='sensors'/>")
    assert [i.get("id") for i in every.iter(f"{{{PS}}}item")] == ["r1", "r2", "r3"]
    newest = await request(romeo, "get", "<items node='sensors' max_items='2'/>")
    assert [i.get("id") for i in newest.iter(f"{{{PS}}}item")] == ["r2", "r3"]
    one = await request(romeo, "get", "<items node='sensors'><item id='r1'/></items>")
    same(one, f"<iq type='result' id='*' from='{SERVICE}' to='{R}'><pubsub xmlns='{PS}'><items node='sensors'>"
              "<item id='r1' publisher='juliet@example.com'><reading xmlns='urn:example:sensor' n='1'/></item>"
              "</items></pubsub></iq>")


async def test_publishing_an_id_again_replaces_the_item(raw):
    juliet = await online(raw, J)
    await create(juliet, "board")
    await request(juliet, "set", publish_xml("board", "cell-a1", "<mark xmlns='urn:example:game' by='x'/>"))
    await request(juliet, "set", publish_xml("board", "cell-a1", "<mark xmlns='urn:example:game' by='o'/>"))
    items = await request(juliet, "get", "<items node='board'/>")
    marks = list(items.iter("{urn:example:game}mark"))
    assert [m.get("by") for m in marks] == ["o"]


async def test_max_items_keeps_only_the_newest(raw):
    juliet = await online(raw, J)
    await create(juliet, "sensors", max_items=2)
    for n in range(1, 5):
        await request(juliet, "set", publish_xml("sensors", f"r{n}", READING))
    items = await request(juliet, "get", "<items node='sensors'/>")
    assert [i.get("id") for i in items.iter(f"{{{PS}}}item")] == ["r3", "r4"]


async def test_retract_removes_the_item_and_tells_subscribers(raw):
    juliet, romeo = await online(raw, J), await online(raw, R)
    await create(juliet, "sensors")
    await request(juliet, "set", publish_xml("sensors", "r1", READING))
    await request(romeo, "set", "<subscribe node='sensors' jid='romeo@example.net'/>")
    refused = await request(romeo, "set", "<retract node='sensors'><item id='r1'/></retract>")
    assert error_of(refused) == ("auth", "forbidden")
    done = await request(juliet, "set", "<retract node='sensors' notify='true'><item id='r1'/></retract>")
    assert done.get("type") == "result"
    same_list(await flush(romeo), [event_xml("romeo@example.net", "<items node='sensors'><retract id='r1'/></items>")])
    gone = await request(juliet, "set", "<retract node='sensors'><item id='r1'/></retract>")
    assert error_of(gone) == ("cancel", "item-not-found")
    missing = await request(juliet, "get", "<items node='sensors'><item id='r1'/></items>")
    assert error_of(missing) == ("cancel", "item-not-found")


async def test_delete_node_tells_subscribers_and_only_the_owner_may(raw):
    juliet, romeo = await online(raw, J), await online(raw, R)
    await create(juliet, "sensors")
    await request(romeo, "set", "<subscribe node='sensors' jid='romeo@example.net'/>")
    refused = await request(romeo, "set", "<delete node='sensors'/>", ns=PS_OWNER)
    assert error_of(refused) == ("auth", "forbidden")
    done = await request(juliet, "set", "<delete node='sensors'/>", ns=PS_OWNER)
    assert done.get("type") == "result"
    same_list(await flush(romeo), [event_xml("romeo@example.net", "<delete node='sensors'/>")])
    after = await request(romeo, "get", "<items node='sensors'/>")
    assert error_of(after) == ("cancel", "item-not-found")


@pytest.mark.parametrize(("who", "action", "ns", "expected"), [
    ("romeo", "<create node='sensors'/>", PS, ("cancel", "conflict", None)),
    ("romeo", publish_xml("sensors", "x", READING), PS, ("auth", "forbidden", None)),
    ("romeo", publish_xml("nowhere", "x", READING), PS, ("cancel", "item-not-found", None)),
    ("romeo", "<subscribe node='nowhere' jid='romeo@example.net'/>", PS, ("cancel", "item-not-found", None)),
    ("romeo", "<subscribe node='sensors' jid='juliet@example.com'/>", PS, ("modify", "bad-request", "invalid-jid")),
    ("romeo", "<items/>", PS, ("modify", "bad-request", "nodeid-required")),
    ("juliet", f"<publish node='sensors'><item id='x'>{READING}{READING}</item></publish>", PS,
     ("modify", "bad-request", "invalid-payload")),
    ("juliet", "<publish node='sensors'><item id='x'/></publish>", PS, ("modify", "bad-request", "payload-required")),
    ("juliet", "<retract node='sensors'/>", PS, ("modify", "bad-request", "item-required")),
    ("juliet", "<publish node='sensors'/>", PS, ("modify", "bad-request", "item-required")),
    ("romeo", "<configure node='sensors'/>", PS_OWNER, ("auth", "forbidden", None)),
    ("juliet", "<frobnicate node='sensors'/>", PS, ("cancel", "feature-not-implemented", "unsupported")),
])
async def test_errors_the_xep_defines(raw, who, action, ns, expected):
    juliet, romeo = await online(raw, J), await online(raw, R)
    await create(juliet, "sensors")
    reply = await request({"juliet": juliet, "romeo": romeo}[who], "get" if "<items" in action or "<configure"
                          in action else "set", action, ns=ns)
    assert (*error_of(reply), app_condition(reply)) == expected
    assert reply[-1].get("by") == SERVICE


async def test_a_whitelist_node_is_closed_to_others_until_the_owner_adds_them(raw):
    juliet, romeo = await online(raw, J), await online(raw, R)
    await create(juliet, "diary", access_model="whitelist")
    refused = await request(romeo, "set", "<subscribe node='diary' jid='romeo@example.net'/>")
    assert (*error_of(refused), app_condition(refused)) == ("cancel", "not-allowed", "closed-node")
    hidden = await request(romeo, "get", "<items node='diary'/>")
    assert app_condition(hidden) == "closed-node"
    await request(juliet, "set", "<affiliations node='diary'><affiliation jid='romeo@example.net' "
                  "affiliation='member'/></affiliations>", ns=PS_OWNER)
    allowed = await request(romeo, "set", "<subscribe node='diary' jid='romeo@example.net'/>")
    assert allowed.get("type") == "result"


async def test_configure_form_shows_and_changes_the_configuration(raw):
    juliet = await online(raw, J)
    await create(juliet, "sensors")
    form = await request(juliet, "get", "<configure node='sensors'/>", ns=PS_OWNER)
    fields = {f.get("var"): [v.text for v in f.findall("{jabber:x:data}value")]
              for f in form.iter("{jabber:x:data}field")}
    assert fields["pubsub#access_model"] == ["open"] and fields["pubsub#max_items"] == ["10"]
    bad = await request(juliet, "set", "<configure node='sensors'><x xmlns='jabber:x:data' type='submit'>"
                        "<field var='pubsub#access_model'><value>secret</value></field></x></configure>", ns=PS_OWNER)
    assert error_of(bad) == ("modify", "not-acceptable")
    ok = await request(juliet, "set", "<configure node='sensors'><x xmlns='jabber:x:data' type='submit'>"
                       "<field var='pubsub#max_items'><value>3</value></field></x></configure>", ns=PS_OWNER)
    assert ok.get("type") == "result"
    again = await request(juliet, "get", "<configure node='sensors'/>", ns=PS_OWNER)
    assert "3" in [v.text for v in again.iter("{jabber:x:data}value")]


async def test_an_instant_node_gets_its_name_from_the_service(raw):
    juliet = await online(raw, J)
    reply = await request(juliet, "set", "<create/>")
    name = reply.find(f"{{{PS}}}pubsub/{{{PS}}}create").get("node")
    assert name and (await request(juliet, "get", f"<items node='{name}'/>")).get("type") == "result"


async def test_the_limits_bound_nodes_and_item_size():
    limits = Limits(pubsub_nodes_per_account=1, pubsub_item_bytes=100)
    async with Server(["example.com"], limits=limits) as srv:
        srv.accounts.add("juliet@example.com", "secret")
        from tests.support import RawClient
        c = await RawClient.open(srv.port)
        try:
            await c.login(J)
            await create(c, "one")
            second = await request(c, "set", "<create node='two'/>")
            assert (*error_of(second), app_condition(second)) == ("wait", "resource-constraint", "max-nodes-exceeded")
            big = await request(c, "set", publish_xml("one", "x", f"<data xmlns='urn:x'>{'a' * 200}</data>"))
            assert (*error_of(big), app_condition(big)) == ("modify", "not-acceptable", "payload-too-big")
            too_many = await request(c, "set", "<configure node='one'><x xmlns='jabber:x:data' type='submit'>"
                                     "<field var='pubsub#max_items'><value>5000</value></field></x></configure>",
                                     ns=PS_OWNER)
            assert error_of(too_many) == ("modify", "not-acceptable")
        finally:
            await c.close()


async def test_nodes_items_and_subscriptions_survive_a_restart(tmp_path):
    db = str(tmp_path / "lab.sqlite")
    from tests.support import RawClient
    async with Server(["example.com", "example.net"], db=db) as srv:
        for user in ("juliet@example.com", "romeo@example.net"):
            srv.accounts.add(user, "secret")
        juliet = await RawClient.open(srv.port)
        try:
            await juliet.login(J)
            await create(juliet, "sensors", max_items=5)
            await request(juliet, "set", publish_xml("sensors", "r1", READING))
            await request(juliet, "set", "<subscribe node='sensors' jid='juliet@example.com'/>")
        finally:
            await juliet.close()
    async with Server(["example.com", "example.net"], db=db) as srv:
        juliet, romeo = await RawClient.open(srv.port), await RawClient.open(srv.port)
        try:
            await juliet.login(J)
            await romeo.login(R)
            items = await request(romeo, "get", "<items node='sensors'/>")
            same(items, f"<iq type='result' id='*' from='{SERVICE}' to='{R}'><pubsub xmlns='{PS}'>"
                        f"<items node='sensors'><item id='r1' publisher='juliet@example.com'>{READING}</item>"
                        "</items></pubsub></iq>")
            await juliet.send("<presence/>")
            await flush(juliet)
            await request(juliet, "set", publish_xml("sensors", "r2", READING))  # still subscribed, still owner
            got = await flush(juliet)
            assert [i.get("id") for el in got for i in el.iter(f"{{{PS_EVENT}}}item")] == ["r2"]
            config = await request(juliet, "get", "<configure node='sensors'/>", ns=PS_OWNER)
            assert "5" in [v.text for v in config.iter("{jabber:x:data}value")]
        finally:
            await juliet.close()
            await romeo.close()


async def test_items_of_a_node_without_persist_items_are_not_stored(tmp_path):
    db = str(tmp_path / "lab.sqlite")
    from tests.support import RawClient
    for round_ in (1, 2):
        async with Server(["example.com"], db=db) as srv:
            srv.accounts.add("juliet@example.com", "secret")
            c = await RawClient.open(srv.port)
            try:
                await c.login(J)
                if round_ == 1:
                    await create(c, "live", persist_items=0)
                    await request(c, "set", publish_xml("live", "r1", READING))
                    in_memory = await request(c, "get", "<items node='live'/>")
                    assert [i.get("id") for i in in_memory.iter(f"{{{PS}}}item")] == ["r1"]
                else:
                    after = await request(c, "get", "<items node='live'/>")
                    assert after.get("type") == "result" and not list(after.iter(f"{{{PS}}}item"))
            finally:
                await c.close()


async def test_a_removed_account_is_no_longer_a_subscriber(raw, server):
    juliet, romeo = await online(raw, J), await online(raw, R)
    await create(juliet, "sensors")
    await request(romeo, "set", "<subscribe node='sensors' jid='romeo@example.net'/>")
    server.accounts.remove("romeo@example.net")
    assert server.pubsub[SERVICE]["sensors"].subscriptions == {}


async def test_an_owner_reads_the_nodes_subscriptions_and_nobody_else_does(raw):
    juliet, romeo = await online(raw, J), await online(raw, R)
    await create(juliet, "sensors")
    await request(romeo, "set", "<subscribe node='sensors' jid='romeo@example.net'/>")
    answer = await request(juliet, "get", "<subscriptions node='sensors'/>", ns=PS_OWNER)
    same(answer, f"<iq type='result' id='*' from='{SERVICE}' to='{J}'><pubsub xmlns='{PS_OWNER}'>"
                 "<subscriptions node='sensors'><subscription jid='romeo@example.net' subscription='subscribed'/>"
                 "</subscriptions></pubsub></iq>")  # 8.8.1
    refused = await request(romeo, "get", "<subscriptions node='sensors'/>", ns=PS_OWNER)
    assert error_of(refused) == ("auth", "forbidden")


async def test_a_removed_accounts_nodes_go_with_it_and_their_subscribers_are_told(raw, server):
    juliet, romeo = await online(raw, J), await online(raw, R)
    await create(juliet, "sensors")
    await request(romeo, "set", "<subscribe node='sensors' jid='romeo@example.net'/>")
    await flush(romeo)
    server.accounts.remove("juliet@example.com")
    same_list(await flush(romeo), [event_xml("romeo@example.net", "<delete node='sensors'/>")])  # as in 8.4.2
    server.accounts.add("juliet@example.com", "secret")
    again = await online(raw, J)
    await create(again, "sensors")  # a new account of that name (or anyone) may make the node again
    assert server.pubsub[SERVICE]["sensors"].owners == ["juliet@example.com"]


PUBLISH_OPTIONS = (f"<publish-options><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'>"
                   f"<value>{PS}#publish-options</value></field><field var='pubsub#access_model'>"
                   "<value>{}</value></field></x></publish-options>")


async def test_publish_options_are_preconditions(raw):
    juliet = await online(raw, J)
    await create(juliet, "diary", access_model="whitelist")
    met = await request(juliet, "set", publish_xml("diary", "d1", READING) + PUBLISH_OPTIONS.format("whitelist"))
    assert met.get("type") == "result"
    unmet = await request(juliet, "set", publish_xml("diary", "d2", READING) + PUBLISH_OPTIONS.format("open"))
    assert (*error_of(unmet), app_condition(unmet)) == ("cancel", "conflict", "precondition-not-met")
    items = await request(juliet, "get", "<items node='diary'/>")
    assert [i.get("id") for i in items.iter(f"{{{PS}}}item")] == ["d1"]


async def test_a_service_with_auto_create_makes_the_node_on_first_publish(raw, server):
    """7.1.4, as personal eventing (XEP-0163) needs: the node is created with the publish-options as its
    configuration, and the publisher owns it."""
    from xmpplab.server.pubsub import PubSubComponent, PubSubService

    service = PubSubService(server, "pep.example.com", auto_create=True)
    server.add_component("pep.example.com", PubSubComponent(service))
    juliet = await online(raw, J)
    reply = await request(juliet, "set", publish_xml("urn:xmpp:avatar:metadata", "a1", READING)
                          + PUBLISH_OPTIONS.format("whitelist"), to="pep.example.com")
    assert reply.get("type") == "result"
    node = service["urn:xmpp:avatar:metadata"]
    assert node.affiliation(JID_J) == "owner" and node.config.access_model == "whitelist"
    info = await juliet.request("<iq type='get' id='i9' to='pep.example.com'>"
                                "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>")
    assert f"{PS}#auto-create" in {f.get("var") for f in info[0].iter("{*}feature")}
    assert f"{PS}#auto-create" not in await _features(juliet, SERVICE)


async def _features(c, jid: str) -> set:
    info = await c.request(f"<iq type='get' id='f-{jid}' to='{jid}'>"
                           "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>")
    return {f.get("var") for f in info[0].iter("{*}feature")}


async def test_a_notification_that_bounces_ends_the_subscription(raw, server):
    """13.4: an error of type cancel for a notification (here a normal message to a full JID that has gone,
    RFC 6121 8.5.3.2.1: service-unavailable) ends that address's subscription; the others stay."""
    juliet, romeo, nurse = await online(raw, J), await online(raw, R), await online(raw, N)
    await create(juliet, "sensors", notification_type="normal")
    await request(romeo, "set", f"<subscribe node='sensors' jid='{R}'/>")
    await request(nurse, "set", f"<subscribe node='sensors' jid='{N}'/>")
    assert await subscriber_count(juliet) == "2"
    await romeo.close()
    await until(gone(server, R), server, what="romeo's session is closed")
    await request(juliet, "set", publish_xml("sensors", "r1", READING))
    assert [i.get("id") for el in await flush(nurse) for i in el.iter(f"{{{PS_EVENT}}}item")] == ["r1"]
    assert await subscriber_count(juliet) == "1"  # the bounce came back before juliet's next request
    assert list(server.pubsub[SERVICE]["sensors"].subscriptions) == [N]


async def subscriber_count(c) -> str:
    """pubsub#num_subscribers of the node 'sensors', from its disco#info meta-data (XEP-0060 5.4)."""
    info = await c.request(f"<iq type='get' id='m1' to='{SERVICE}'>"
                           "<query xmlns='http://jabber.org/protocol/disco#info' node='sensors'/></iq>")
    return next(v.text for f in info.iter("{jabber:x:data}field") if f.get("var") == "pubsub#num_subscribers"
                for v in f.findall("{jabber:x:data}value"))


async def test_a_presence_node_is_open_to_those_who_see_the_owners_presence(raw):
    """4.5 and 6.1.3.2, as personal eventing's default: Romeo may subscribe once Juliet lets him see her
    presence (RFC 6121 3.1), and not before."""
    juliet, romeo = await online(raw, J), await online(raw, R)
    await create(juliet, "mood", access_model="presence")
    refused = await request(romeo, "set", "<subscribe node='mood' jid='romeo@example.net'/>")
    assert (*error_of(refused), app_condition(refused)) == ("auth", "not-authorized", "presence-subscription-required")
    hidden = await request(romeo, "get", "<items node='mood'/>")
    assert app_condition(hidden) == "presence-subscription-required"
    await romeo.send("<presence to='juliet@example.com' type='subscribe'/>")
    await juliet.send("<presence to='romeo@example.net' type='subscribed'/>")
    await flush(juliet)
    await flush(romeo)
    allowed = await request(romeo, "set", "<subscribe node='mood' jid='romeo@example.net'/>")
    assert allowed.get("type") == "result"
