"""Routing graphs: the model built from a live Lab and from transcripts, the path of one stanza,
DOT, and what the notebook shows with and without a Graphviz renderer."""

import os
import re
import stat

import pytest
from lxml import etree

from tests.support_recordings import T0, federation_events
from tests.support_wait import round_trip
from xmpplab.lab import Lab
from xmpplab.render import graphviz_backend as gv
from xmpplab.render.graph import Hop, RoutingGraph, routing_graph, stanza_path
from xmpplab.transcript import Transcript

needs_dot = pytest.mark.skipif(gv.find_renderer() is None,
                               reason=f"no Graphviz renderer: {gv.why_no_renderer()}")


@pytest.fixture(autouse=True)
def fresh_backend():
    """Each test searches for a renderer again (some tests change what is found)."""
    gv.reset()
    yield
    gv.reset()


@pytest.fixture
def federation():
    return Transcript.from_events(federation_events(), recorded_by="server1.com and server2.com")


# ---------------------------------------------------------------------- the path of one stanza
def test_federated_path_has_four_hops_in_order(federation):
    sent = federation.first(kind="message", conn="c2s-1")
    path = stanza_path(federation, sent)
    assert [h.number for h in path] == [1, 2, 3, 4]
    assert path.nodes == ["user1@server1.com/pc", "server1.com", "server2.com", "user2@server2.com/phone1"]
    assert [h.label for h in path] == ["pc", "server1.com", "server2.com", "phone1"]
    assert [h.kind for h in path] == ["resource", "server", "server", "resource"]
    assert [h.via for h in path] == [None, "c2s", "s2s", "c2s"]
    assert [h.src for h in path] == [None, "user1@server1.com/pc", "server1.com", "server2.com"]
    # both servers' recordings of the one s2s connection are one hop
    assert path[2].conns == ("s2sout-1", "s2s-1")
    assert path[1].conns == ("c2s-1",) and path[3].conns == ("c2s-2",)
    assert path[3].item.conn == "c2s-2" and path[3].item.from_ == "user1@server1.com/pc"
    assert path.stanza is sent
    assert repr(path) == "<StanzaPath 1 pc → 2 server1.com → 3 server2.com → 4 phone1>"


def test_path_from_the_delivered_copy_goes_back_to_the_sender(federation):
    delivered = federation.first(kind="message", conn="c2s-2")
    path = stanza_path(federation, delivered)
    assert path.nodes == ["user1@server1.com/pc", "server1.com", "server2.com", "user2@server2.com/phone1"]
    assert path.stanza.conn == "c2s-1"
    # from the middle too, and from a Selection (its transcript is used)
    middle = federation.first(kind="message", conn="s2s-1")
    assert stanza_path(federation.filter(kind="message"), middle).nodes == path.nodes


def test_message_to_a_bare_jid_delivered_to_two_resources():
    t = Transcript.from_events(federation_events(resources=("phone1", "phone2")))
    path = stanza_path(t, t.first(kind="message"))
    assert [h.label for h in path] == ["pc", "server1.com", "server2.com", "phone1", "phone2"]
    assert [h.src for h in path][3:] == ["server2.com", "server2.com"]
    assert [h.via for h in path] == [None, "c2s", "s2s", "c2s", "c2s"]


def test_stanza_without_id_is_followed_by_its_content():
    events = federation_events(msg_id=None, body="no id here")
    # an earlier, different message without id on the same connections must not join the path
    events[-4:-4] = [{"t": T0 + 1.5, "conn": "c2s-1", "type": "data", "dir": "in",
                      "data": "<message to='user2@server2.com' type='chat'><body>other</body></message>"}]
    t = Transcript.from_events(events)
    sent = t.first(kind="message", where=lambda i: "no id here" in i.text)
    path = stanza_path(t, sent)
    assert [h.label for h in path] == ["pc", "server1.com", "server2.com", "phone1"]
    assert all("no id here" in h.item.text for h in path)


def test_imported_rfc_example_without_headers_or_addresses():
    """RFC 6121 section 3 notation (UC/US/CS/CC): JIDs and domains come from the stanzas themselves."""
    with open(os.path.join(os.path.dirname(__file__), "..", "sample_streams", "rfc", "subscription.txt")) as f:
        t = Transcript.from_rfc_text(f.read())
    request = t.first(kind="presence", type="subscribe")
    path = stanza_path(t, request)
    assert [(h.label, h.via) for h in path] == [("orchard", None), ("example.net", "c2s"), ("example.com", "s2s"),
                                                ("balcony", "c2s")]
    g = routing_graph(t)
    assert {(e.src, e.dst) for e in g.edges_of("s2s")} == {("example.net", "example.com"),
                                                           ("example.com", "example.net")}


def test_not_a_stanza_is_refused(federation):
    header = federation.first(kind="stream-open")
    with pytest.raises(ValueError, match="follows a stanza"):
        stanza_path(federation, header)


# ---------------------------------------------------------------------- the graph of a transcript
def test_transcript_graph_nodes_and_links(federation):
    g = routing_graph(federation)
    assert {n.id for n in g.nodes_of("server")} == {"server1.com", "server2.com"}
    assert {n.id for n in g.nodes_of("account")} == {"user1@server1.com", "user2@server2.com"}
    assert [(n.id, n.label, n.parent) for n in g.nodes_of("resource")] == [
        ("user1@server1.com/pc", "pc", "user1@server1.com"),
        ("user2@server2.com/phone1", "phone1", "user2@server2.com")]
    assert {(e.src, e.dst) for e in g.edges_of("c2s")} == {("user1@server1.com/pc", "server1.com"),
                                                           ("user2@server2.com/phone1", "server2.com")}
    [s2s] = g.edges_of("s2s")
    assert (s2s.src, s2s.dst, s2s.conns) == ("server1.com", "server2.com", ("s2sout-1", "s2s-1"))
    assert g.subscriptions() == set()


def test_highlighted_path_in_dot_and_text(federation):
    g = routing_graph(federation)
    path = stanza_path(federation, federation.first(kind="message"))
    h = g.highlight(path)
    assert h.path == list(path) and g.path == []  # a copy: the plain graph is unchanged
    dot = h.dot()
    hop_lines = [line for line in dot.splitlines() if 'class="hop"' in line]
    assert [line.split(" [")[0].strip() for line in hop_lines] == [
        '"user1@server1.com/pc" -> "server1.com"', '"server1.com" -> "server2.com"',
        '"server2.com" -> "user2@server2.com/phone1"']
    assert ['label="2 (c2s)"' in hop_lines[0], 'label="3 (s2s)"' in hop_lines[1],
            'label="4 (c2s)"' in hop_lines[2]] == [True, True, True]
    pc_line = next(line for line in dot.splitlines() if line.strip().startswith('"user1@server1.com/pc" ['))
    assert 'xlabel="1"' in pc_line and 'label="/pc' in pc_line
    text = h.text()
    assert "Path: 4 hops" in text
    rows = [line.split()[:2] for line in text.split("Path: 4 hops")[1].splitlines()[3:]]
    assert rows == [["1", "pc"], ["2", "server1.com"], ["3", "server2.com"], ["4", "phone1"]]


def test_dot_labels_and_distinct_link_styles(federation):
    dot = routing_graph(federation).dot()
    lines = dot.splitlines()

    def line_of(start):
        return next(line for line in lines if line.strip().startswith(start))

    assert 'label="server1.com"' in line_of('"server1.com" [') and 'shape="box3d"' in line_of('"server1.com" [')
    assert 'label="user1@server1.com"' in line_of('"user1@server1.com" [')
    assert 'label="/pc' in line_of('"user1@server1.com/pc" [')
    # issue 13: the bare JID is linked to each of its resources, drawn "/pc" beside it
    for bare, full in (("user1@server1.com", "user1@server1.com/pc"),
                       ("user2@server2.com", "user2@server2.com/phone1")):
        link = attrs_of(line_of(f'"{bare}" -> "{full}"'))
        assert link["class"] == "resource" and link["label"] == "resource" and link["arrowhead"] == "none"
    assert len([line for line in lines if 'class="resource"' in line]) == 2
    c2s = line_of('"user1@server1.com/pc" -> "server1.com"')
    s2s = line_of('"server1.com" -> "server2.com"')
    assert 'class="c2s"' in c2s and 'class="s2s"' in s2s
    style, style2 = attrs_of(c2s), attrs_of(s2s)
    assert style["color"] != style2["color"] and style["dir"] == "none" and "dir" not in style2
    assert style2["style"] == "bold" and float(style2["penwidth"]) > float(style["penwidth"])
    # ids and labels with quotes are escaped
    g = RoutingGraph('a "quoted" title')
    assert 'label="a \\"quoted\\" title"' in g.dot()


def attrs_of(dot_line: str) -> dict:
    """The attributes of one DOT node or edge line."""
    return dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', dot_line.split(" [", 1)[1]))


# ---------------------------------------------------------------------- a live Lab
async def test_lab_graph_resources_and_subscriptions():
    async with Lab.start(replace=False) as lab:
        balcony = await lab.connect("juliet@example.com/balcony")
        chamber = await lab.connect("juliet@example.com/chamber")
        romeo = await lab.connect("romeo@example.net/orchard")
        await chamber.send_presence(priority=5, show="away")
        # romeo asks to see juliet; she approves. She asks back; he does not answer (pending).
        await romeo.subscribe("juliet@example.com")
        await balcony.next("presence", predicate=lambda p: p["type"] == "subscribe")
        await balcony.approve("romeo@example.net")
        await balcony.subscribe("romeo@example.net")
        await romeo.next("presence", predicate=lambda p: p["type"] == "subscribe")

        g = routing_graph(lab)
        assert {n.id for n in g.nodes_of("server")} == {"example.com", "example.net"}
        assert len({n.group for n in g.nodes_of("server")}) == 1  # one server process serves both
        assert {n.id for n in g.nodes_of("account")} == {"juliet@example.com", "romeo@example.net"}
        assert sorted(n.label for n in g.resources("juliet@example.com")) == ["balcony", "chamber"]
        assert [n.label for n in g.resources("romeo@example.net")] == ["orchard"]
        chamber_node = g.node("juliet@example.com/chamber")
        assert chamber_node.info["available"] is True and chamber_node.info["priority"] == 5
        assert chamber_node.info["show"] == "away"
        assert {(e.src, e.dst) for e in g.edges_of("c2s")} == {
            ("juliet@example.com/balcony", "example.com"), ("juliet@example.com/chamber", "example.com"),
            ("romeo@example.net/orchard", "example.net")}
        # direction: romeo sees juliet's presence; juliet asked to see romeo's, still pending
        assert g.subscriptions() == {("romeo@example.net", "juliet@example.com", "subscribed"),
                                     ("juliet@example.com", "romeo@example.net", "pending")}
        dot_lines = g.dot().splitlines()
        pending = next(line for line in dot_lines if line.strip().startswith('"juliet@example.com" -> "romeo'))
        seen = next(line for line in dot_lines if line.strip().startswith('"romeo@example.net" -> "juliet'))
        assert 'style="dashed"' in pending and "pending" in pending
        assert 'style="solid"' in seen and 'label="sees"' in seen
        text = g.text()
        assert "romeo@example.net → juliet@example.com  sees" in text
        assert "juliet@example.com → romeo@example.net  asked to see (pending)" in text
        # issue 13: each full JID hangs from its bare JID in the text, as in the drawing
        assert ("\n  juliet@example.com  bare JID, 2 resources:\n"
                "    ├─ juliet@example.com/balcony  available, priority 0") in text
        assert "\n    └─ juliet@example.com/chamber  available, show away, priority 5" in text
        assert "\n  romeo@example.net  bare JID, 1 resource:\n    └─ romeo@example.net/orchard" in text
        links = [line for line in g.dot().splitlines() if 'class="resource"' in line]
        assert sorted(line.split(" [")[0].strip() for line in links) == [
            '"juliet@example.com" -> "juliet@example.com/balcony"',
            '"juliet@example.com" -> "juliet@example.com/chamber"',
            '"romeo@example.net" -> "romeo@example.net/orchard"']

        # romeo approves: both ways now
        await romeo.approve("juliet@example.com")
        both = {("romeo@example.net", "juliet@example.com", "subscribed"),
                ("juliet@example.com", "romeo@example.net", "subscribed")}
        await round_trip(romeo)  # the server has processed his approval
        assert routing_graph(lab).subscriptions() == both
        # issue 13: a mutual subscription is one two-headed edge, not two arrows that read like two facts
        mutual = [line for line in routing_graph(lab).dot().splitlines()
                  if "subscription" in line and "romeo@example.net" in line and "juliet@example.com" in line]
        assert len(mutual) == 1 and 'dir="both"' in mutual[0] and "see each other" in mutual[0]
        assert "juliet@example.com ↔ romeo@example.net  see each other" in routing_graph(lab).text()

        # the path of a message through the Lab: one server serves both domains
        await balcony.send_message("romeo@example.net", "Art thou not Romeo?")
        await romeo.next("message")
        t = lab.transcript
        sent = t.first(kind="message", conn=balcony.conn)
        path = stanza_path(t, sent)
        assert [(h.label, h.via) for h in path] == [("balcony", None), ("example.com", "c2s"),
                                                    ("example.net", "internal"), ("orchard", "c2s")]
        assert set(path[1].conns) == {balcony.conn, "c2s-1"}  # the client's and the server's recording
        delivered = t.first(kind="message", conn=romeo.conn)
        assert stanza_path(t, delivered).nodes == path.nodes
        # the transcript's graph pairs the two recordings of each connection
        tg = routing_graph(t)
        assert len(tg.edges_of("c2s")) == 3 and {n.label for n in tg.nodes_of("resource")} == \
            {"balcony", "chamber", "orchard"}
        # the server alone gives the same graph; offline=False drops accounts with nothing going on
        assert routing_graph(lab.server).subscriptions() == routing_graph(lab).subscriptions()
        lab.add_account("nurse@example.com")
        assert "nurse@example.com" in routing_graph(lab).nodes
        assert "nurse@example.com" not in routing_graph(lab, offline=False).nodes
        text = routing_graph(lab).text()
        assert "\n  nurse@example.com  offline\n" in text and "(elsewhere)" not in text


def test_routing_graph_refuses_other_things():
    with pytest.raises(TypeError, match="Lab, a Server or a Transcript"):
        routing_graph(42)


# ---------------------------------------------------------------------- what the notebook shows
def test_no_renderer_shows_one_sentence_dot_and_table(federation, monkeypatch):
    monkeypatch.setenv("XMPPLAB_DOT", "none")
    gv.reset()
    g = routing_graph(federation).highlight(stanza_path(federation, federation.first(kind="message")))
    assert g.svg() is None and gv.find_renderer() is None
    bundle = g._repr_mimebundle_()
    assert "image/svg+xml" not in bundle
    assert bundle["text/plain"] == g.text()
    page = bundle["text/html"]
    sentence = gv.why_no_renderer()
    assert sentence.endswith(".") and sentence.count(". ") == 0  # one sentence
    assert sentence in page
    assert "<details>" in page and "DOT source" in page and "digraph &quot;routing&quot;" in page
    assert "server1.com → server2.com" in page and "Traceback" not in page
    assert g._repr_html_() == g._repr_mimebundle_(include=["text/html"])["text/html"]


def test_no_binary_anywhere(monkeypatch):
    monkeypatch.delenv("XMPPLAB_DOT", raising=False)
    monkeypatch.setattr(gv, "_candidates", list)
    gv.reset()
    assert gv.find_renderer() is None and gv.render_svg("digraph { a -> b }") is None
    why = gv.why_no_renderer()
    assert "pip install graphviz-pure" in why and why.count(". ") == 0


def test_a_broken_renderer_is_not_used_and_says_why(tmp_path, monkeypatch):
    broken = tmp_path / "dot"
    broken.write_text("#!/bin/sh\necho 'Format: \"svg\" not recognized' >&2\nexit 1\n")
    broken.chmod(broken.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("XMPPLAB_DOT", str(broken))
    gv.reset()
    assert gv.find_renderer() is None
    assert "does not work" in gv.why_no_renderer() and "not recognized" in gv.why_no_renderer()
    bundle = RoutingGraph("empty")._repr_mimebundle_()
    assert "does not work" in bundle["text/html"] and "image/svg+xml" not in bundle


def test_a_failing_picture_never_raises(monkeypatch):
    g = RoutingGraph("boom")
    monkeypatch.setattr(RoutingGraph, "svg", lambda self: 1 / 0)
    bundle = g._repr_mimebundle_()
    assert "could not be drawn (ZeroDivisionError" in bundle["text/html"]
    assert bundle["text/plain"].startswith("Routing graph (boom)")


@needs_dot
def test_graphviz_draws_svg_inline_and_png(federation):
    g = routing_graph(federation).highlight(stanza_path(federation, federation.first(kind="message")))
    svg = g.svg()
    root = etree.fromstring(svg.encode())
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = {"".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")}
    assert {"server1.com", "server2.com", "/pc", "/phone1", "user1@server1.com", "2 (c2s)", "3 (s2s)",
            "resource"} <= texts
    bundle = g._repr_mimebundle_()
    assert bundle["image/svg+xml"] == svg
    page = bundle["text/html"]
    assert "<svg" in page and "<?xml" not in page and "<!DOCTYPE" not in page
    assert 'id="graph0"' not in page  # ids made unique on the page
    assert g.png()[:8] == b"\x89PNG\r\n\x1a\n"
    hits = gv._render_cached.cache_info().hits
    assert gv.render_svg(g.dot()) == svg
    assert gv._render_cached.cache_info().hits == hits + 1  # drawn once, then taken from the cache


@needs_dot
def test_the_graphviz_package_renders_with_the_same_binary():
    source = gv.graphviz_source("digraph { juliet -> romeo }")
    svg = source.pipe(format="svg", encoding="utf-8")
    assert "juliet" in svg and "<svg" in svg


@needs_dot
def test_system_dot_first_then_graphviz_pure(tmp_path, monkeypatch):
    real = gv.find_renderer().path
    fake = tmp_path / "dot"
    fake.write_text(f"#!/bin/sh\nexec '{real}' \"$@\"\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.delenv("XMPPLAB_DOT", raising=False)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    gv.reset()
    assert gv.find_renderer().source == "system dot" and gv.find_renderer().path == str(fake)
    # a system dot that cannot draw SVG is passed over
    fake.write_text("#!/bin/sh\nexit 3\n")
    gv.reset()
    found = gv.find_renderer()
    assert found is not None and found.source == "graphviz-pure"
    env = gv.subprocess_env({"PATH": "/usr/bin"})
    shim = env["PATH"].split(os.pathsep)[0]
    assert os.path.realpath(os.path.join(shim, "dot")) == os.path.realpath(found.path)
    assert os.environ["PATH"].startswith(str(tmp_path))  # the user's PATH is left as it was


def test_hop_repr():
    assert repr(Hop(2, "server1.com", "server1.com", "server", "x", "c2s", ("c2s-1",))) == \
        "<Hop 2 server1.com via c2s (c2s-1)>"


@needs_dot
def test_nbconvert_html_export_keeps_the_svg_inline(federation):
    nbformat = pytest.importorskip("nbformat")
    nbconvert = pytest.importorskip("nbconvert")
    g = routing_graph(federation)
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("routing_graph(t)")
    cell.outputs = [nbformat.v4.new_output("display_data", data=g._repr_mimebundle_())]
    nb.cells.append(cell)
    page, _ = nbconvert.HTMLExporter().from_notebook_node(nb)
    figure = page[page.index("xmpplab-figure"):]
    figure = figure[:figure.index("</details>")]
    assert "<svg" in figure and "server1.com" in figure and "phone1" in figure


async def test_live_federated_lab_shows_the_s2s_link():
    from xmpplab.lab import Lab
    from xmpplab.render.graph import routing_graph

    async with Lab.start(["server1.com", "server2.com"], federate=True) as lab:
        pc = await lab.connect("user1@server1.com/pc")
        phone = await lab.connect("user2@server2.com/phone1")
        await pc.send_message("user2@server2.com/phone1", "hi")
        await phone.next("message")
        g = routing_graph(lab)
        s2s = {(e.src, e.dst) for e in g.edges_of("s2s")}
        assert ("server1.com", "server2.com") in s2s


async def test_live_lab_shows_the_chat_service_its_rooms_and_who_is_in_them():
    from xmpplab.lab import Lab
    from xmpplab.render.graph import routing_graph

    async with Lab.start() as lab:
        juliet = await lab.connect("juliet@example.com/balcony")
        await juliet.send_raw("<presence to='garden@conference.example.com/juliet'>"
                              "<x xmlns='http://jabber.org/protocol/muc'/></presence>")
        await juliet.next("presence", predicate=lambda p: "garden@" in str(p["from"]))
        g = routing_graph(lab)
        assert {n.id for n in g.nodes_of("service")} == {"conference.example.com"}  # example.net's has no room
        assert [n.id for n in g.nodes_of("room")] == ["garden@conference.example.com"]
        occupants = [(e.src, e.dst, e.info["nick"]) for e in g.edges_of("occupant")]
        assert occupants == [("juliet@example.com/balcony", "garden@conference.example.com", "juliet")]
        assert ("example.com", "conference.example.com") in {(e.src, e.dst) for e in g.edges_of("component")}
        assert "in room as juliet" in g.dot()
        assert "garden@conference.example.com: juliet@example.com/balcony as juliet" in g.text()
