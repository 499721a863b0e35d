"""XEP-0060 Publish-Subscribe with slixmpp's xep_0060 plugin: a real client nobody here wrote.

Juliet's sensor creates a node and publishes readings; Romeo and the nurse
subscribe and get each one as a ``pubsub_publish`` event; errors come back as
slixmpp's ``IqError`` with the XEP's condition.
"""

import asyncio

import pytest
from slixmpp.exceptions import IqError
from slixmpp.xmlstream import ET

from tests.support import slix_client
from tests.support_wait import until

SERVICE = "pubsub.example.com"
PLUGINS = ("xep_0030", "xep_0199", "xep_0060")
NS_SENSOR = "urn:example:sensor"


def reading(celsius: float):
    return ET.fromstring(f"<reading xmlns='{NS_SENSOR}' celsius='{celsius}'/>")


async def client(server, jid):
    return await slix_client(server.port, jid, plugins=PLUGINS)


@pytest.fixture
async def people(server):
    opened = [await client(server, j) for j in ("juliet@example.com/sensor", "romeo@example.net/orchard",
                                                "nurse@example.com/desk")]
    yield opened
    for c in opened:
        await c.close()


async def test_slixmpp_finds_the_service_and_its_features(people):
    juliet, _, _ = people
    items = await juliet.plugin["xep_0030"].get_items(jid="example.com")
    assert SERVICE in [jid for jid, _node, _name in items["disco_items"]["items"]]
    info = await juliet.plugin["xep_0030"].get_info(jid=SERVICE)
    assert ("pubsub", "service", None, "Publish-Subscribe") in info["disco_info"]["identities"]
    assert "http://jabber.org/protocol/pubsub#publish" in info["disco_info"]["features"]


async def test_a_published_reading_reaches_each_subscriber_as_an_event(people):
    juliet, romeo, nurse = people
    pubsub = juliet.plugin["xep_0060"]
    await pubsub.create_node(SERVICE, "greenhouse")
    got: dict[str, list] = {"romeo": [], "nurse": []}
    for name, c in (("romeo", romeo), ("nurse", nurse)):
        c.add_event_handler("pubsub_publish", lambda msg, name=name: got[name].append(
            (msg["pubsub_event"]["items"]["node"], msg["pubsub_event"]["items"]["item"]["id"],
             msg["pubsub_event"]["items"]["item"]["payload"].get("celsius"))))
        await c.plugin["xep_0060"].subscribe(SERVICE, "greenhouse")
    result = await pubsub.publish(SERVICE, "greenhouse", id="r1", payload=reading(21.5))
    assert result["pubsub"]["publish"]["item"]["id"] == "r1"
    await until(lambda: got["romeo"] and got["nurse"], romeo, nurse, what="both subscribers get the reading")
    assert got == {"romeo": [("greenhouse", "r1", "21.5")], "nurse": [("greenhouse", "r1", "21.5")]}


async def test_slixmpp_reads_back_the_newest_items_and_retracts(people):
    juliet, romeo, _ = people
    pubsub = juliet.plugin["xep_0060"]
    await pubsub.create_node(SERVICE, "greenhouse")
    for n, celsius in enumerate((20.0, 20.5, 21.0), start=1):
        await pubsub.publish(SERVICE, "greenhouse", id=f"r{n}", payload=reading(celsius))
    newest = await romeo.plugin["xep_0060"].get_items(SERVICE, "greenhouse", max_items=2)
    assert [i["id"] for i in newest["pubsub"]["items"]] == ["r2", "r3"]
    await pubsub.retract(SERVICE, "greenhouse", "r3")
    left = await romeo.plugin["xep_0060"].get_items(SERVICE, "greenhouse")
    assert [i["id"] for i in left["pubsub"]["items"]] == ["r1", "r2"]


async def test_slixmpp_sees_the_errors_of_the_xep(people):
    juliet, romeo, _ = people
    await juliet.plugin["xep_0060"].create_node(SERVICE, "greenhouse")
    with pytest.raises(IqError) as refused:
        await romeo.plugin["xep_0060"].publish(SERVICE, "greenhouse", id="x", payload=reading(99))
    assert refused.value.condition == "forbidden"
    with pytest.raises(IqError) as missing:
        await romeo.plugin["xep_0060"].get_items(SERVICE, "nowhere")
    assert missing.value.condition == "item-not-found"
    with pytest.raises(IqError) as exists:
        await romeo.plugin["xep_0060"].create_node(SERVICE, "greenhouse")
    assert exists.value.condition == "conflict"


async def test_slixmpp_configures_and_deletes_a_node(people):
    juliet, romeo, _ = people
    pubsub = juliet.plugin["xep_0060"]
    await pubsub.create_node(SERVICE, "greenhouse")
    config = await pubsub.get_node_config(SERVICE, "greenhouse")
    form = config["pubsub_owner"]["configure"]["form"]
    assert form.get_fields()["pubsub#max_items"]["value"] == "10"
    deleted = asyncio.Event()
    romeo.add_event_handler("pubsub_delete", lambda _msg: deleted.set())
    await romeo.plugin["xep_0060"].subscribe(SERVICE, "greenhouse")
    await pubsub.delete_node(SERVICE, "greenhouse")
    await asyncio.wait_for(deleted.wait(), 5)
    with pytest.raises(IqError):
        await romeo.plugin["xep_0060"].get_items(SERVICE, "greenhouse")


async def test_slixmpp_manages_a_whitelist_and_lists_subscriptions_and_nodes(people):
    juliet, romeo, _ = people
    pubsub = juliet.plugin["xep_0060"]
    form = pubsub.stanza.OwnerConfigure().get_plugin("form")  # a node_config form with one field set
    form["type"] = "submit"
    form.add_field("FORM_TYPE", ftype="hidden", value="http://jabber.org/protocol/pubsub#node_config")
    form.add_field("pubsub#access_model", value="whitelist")
    await pubsub.create_node(SERVICE, "diary", config=form)
    with pytest.raises(IqError) as closed:
        await romeo.plugin["xep_0060"].subscribe(SERVICE, "diary")
    assert closed.value.condition == "not-allowed"
    await pubsub.modify_affiliations(SERVICE, "diary", [("romeo@example.net", "member")])
    listed = await pubsub.get_node_affiliations(SERVICE, "diary")
    assert {(a["jid"].bare, a["affiliation"]) for a in listed["pubsub_owner"]["affiliations"]} == {
        ("juliet@example.com", "owner"), ("romeo@example.net", "member")}
    await romeo.plugin["xep_0060"].subscribe(SERVICE, "diary")
    mine = await romeo.plugin["xep_0060"].get_subscriptions(SERVICE)
    assert [(s["node"], s["subscription"]) for s in mine["pubsub"]["subscriptions"]] == [("diary", "subscribed")]
    nodes = await romeo.plugin["xep_0030"].get_items(jid=SERVICE)
    assert [node for _jid, node, _name in nodes["disco_items"]["items"]] == ["diary"]
