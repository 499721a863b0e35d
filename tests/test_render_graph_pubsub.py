"""The routing graph of publish-subscribe (XEP-0060): the service, its nodes, and who receives what."""

from tests.support_roster import put_state
from tests.support_wait import round_trip, until
from xmpplab.lab import Lab
from xmpplab.render.graph import routing_graph
from xmpplab.render.graph.feeds import node_id

PS = "http://jabber.org/protocol/pubsub"
SERVICE = "pubsub.example.com"
FEED = node_id(SERVICE, "greenhouse")


def pubsub_iq(action: str) -> str:
    return f"<iq type='set' to='{SERVICE}'><pubsub xmlns='{PS}'>{action}</pubsub></iq>"


async def test_the_graph_shows_the_node_its_publisher_and_the_fan_out_to_subscribers():
    async with Lab.start(replace=False) as lab:
        sensor = await lab.connect("juliet@example.com/sensor")
        romeo = await lab.connect("romeo@example.net/orchard")
        nurse = await lab.connect("nurse@example.com/desk")
        assert SERVICE not in routing_graph(lab).nodes  # a service with no node is left out
        await sensor.iq(pubsub_iq("<create node='greenhouse'/>"))
        await romeo.iq(pubsub_iq("<subscribe node='greenhouse' jid='romeo@example.net'/>"))
        await nurse.iq(pubsub_iq("<subscribe node='greenhouse' jid='nurse@example.com/desk'/>"))
        await sensor.iq(pubsub_iq("<publish node='greenhouse'><item id='r1'>"
                                  "<reading xmlns='urn:example:sensor' celsius='21.5'/></item></publish>"))
        await round_trip(sensor)

        g = routing_graph(lab)
        assert g.node(SERVICE).kind == "service" and g.node(FEED).kind == "feed"
        assert g.node(FEED).info["items"] == 1
        assert ("example.com", SERVICE) in {(e.src, e.dst) for e in g.edges_of("component")}
        assert {(e.src, e.dst) for e in g.edges_of("publishes")} == {("juliet@example.com", FEED)}
        assert {(e.src, e.dst) for e in g.edges_of("notifies")} == {(FEED, "romeo@example.net"),
                                                                   (FEED, "nurse@example.com/desk")}
        text = g.text()
        assert ("node greenhouse (1 item stored, access open): published by juliet@example.com → received by "
                "romeo@example.net, nurse@example.com/desk") in text
        assert "Chat service pubsub.example.com" not in text
        dot = g.dot()
        fan_out = [line for line in dot.splitlines() if line.strip().startswith(f'"{FEED}" ->')]
        assert len(fan_out) == 2 and all('label="gets each item"' in line for line in fan_out)
        assert 'shape="tab"' in next(line for line in dot.splitlines() if line.strip().startswith(f'"{FEED}" ['))

        await romeo.iq(pubsub_iq("<unsubscribe node='greenhouse' jid='romeo@example.net'/>"))
        after = routing_graph(lab)
        assert {e.dst for e in after.edges_of("notifies")} == {"nurse@example.com/desk"}


async def test_personal_eventing_fans_out_from_the_account_to_the_interested_contact():
    nick = "http://jabber.org/protocol/nick"
    plugins = ("xep_0030", "xep_0199", "xep_0060", "xep_0115", "xep_0163", "xep_0172")
    async with Lab.start(replace=False) as lab:
        lab.add_account("juliet@example.com")
        lab.add_account("romeo@example.net")
        server = lab.server_for("example.com")
        put_state(server, "juliet@example.com", "romeo@example.net", "both")
        put_state(lab.server_for("example.net"), "romeo@example.net", "juliet@example.com", "both")
        juliet = await lab.connect("juliet@example.com/balcony", plugins=plugins)
        romeo = await lab.connect("romeo@example.net/orchard", plugins=plugins)
        got = []
        romeo.xmpp.add_event_handler("user_nick_publish", got.append)
        await juliet.xmpp.plugin["xep_0172"].publish_nick("Jules")
        await until(lambda: got, romeo.xmpp, what="Romeo's client gets the nick")

        g = routing_graph(lab)
        feed = node_id("juliet@example.com", nick)
        assert g.node(feed).kind == "feed" and g.node("juliet@example.com").kind != "service"
        assert {(e.src, e.dst) for e in g.edges_of("publishes")} == {("juliet@example.com", feed)}
        assert ("romeo@example.net/orchard") in {e.dst for e in g.edges_of("notifies") if e.src == feed}
        assert "Personal eventing of juliet@example.com" in g.text()
