"""Sequence charts: participants, arrows in time order with short labels, the SVG and the text."""

from lxml import etree

from tests.support_recordings import federation_events
from xmpplab.render.sequence import describe_item, sequence_chart
from xmpplab.transcript import Transcript

SVG = "{http://www.w3.org/2000/svg}"

EXCHANGE = """
C: <stream:stream to='example.com' version='1.0'
     xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>
S: <stream:stream from='example.com' id='s1' version='1.0'
     xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>
S: <stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:features>
C: <iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>
S: <iq type='result' id='r1' to='juliet@example.com/balcony'><query xmlns='jabber:iq:roster'/></iq>
C: <presence to='romeo@example.net' type='subscribe'/>
C: <message to='romeo@example.net' type='chat'><body>hi</body></message>
S: <message from='romeo@example.net' type='error'><error type='cancel'><service-unavailable
     xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>
C: <presence><show>away</show></presence>
C: <iq type='get' id='p1' to='example.com'><ping xmlns='urn:xmpp:ping'/></iq>
"""


def test_short_labels():
    t = Transcript.from_rfc_text(EXCHANGE)
    labels = [describe_item(i) for i in t.items()]
    assert labels == ["<stream:stream>", "<stream:stream>", "features: starttls", "iq get roster", "iq result roster",
                      "presence subscribe", "message chat 'hi'", "message error service-unavailable",
                      "presence away", "iq get ping"]


def test_chart_of_an_exchange_in_order():
    t = Transcript.from_rfc_text(EXCHANGE)
    chart = sequence_chart(t)  # a transcript: its stanzas
    assert [p.label for p in chart.participants] == ["balcony", "example.com"]
    assert chart.participants[0].id == "juliet@example.com/balcony"
    assert [(a.number, a.src, a.dst, a.label) for a in chart.arrows] == [
        (1, "juliet@example.com/balcony", "example.com", "iq get roster"),
        (2, "example.com", "juliet@example.com/balcony", "iq result roster"),
        (3, "juliet@example.com/balcony", "example.com", "presence subscribe"),
        (4, "juliet@example.com/balcony", "example.com", "message chat 'hi'"),
        (5, "example.com", "juliet@example.com/balcony", "message error service-unavailable"),
        (6, "juliet@example.com/balcony", "example.com", "presence away"),
        (7, "juliet@example.com/balcony", "example.com", "iq get ping")]
    everything = sequence_chart(t, stanzas_only=False)
    assert [a.label for a in everything.arrows][:3] == ["<stream:stream>", "<stream:stream>", "features: starttls"]
    # a Selection: exactly its items
    only = sequence_chart(t.filter(kind="iq"))
    assert [a.label for a in only.arrows] == ["iq get roster", "iq result roster", "iq get ping"]


def test_federation_chart_draws_each_crossing_once():
    t = Transcript.from_events(federation_events(resources=("phone1", "phone2")))
    chart = sequence_chart(t)
    assert [p.label for p in chart.participants] == ["pc", "server1.com", "server2.com", "phone1", "phone2"]
    assert [(a.src, a.dst, a.kind) for a in chart.arrows] == [
        ("user1@server1.com/pc", "server1.com", "c2s"),
        ("server1.com", "server2.com", "s2s"),          # recorded at both ends, drawn once
        ("server2.com", "user2@server2.com/phone1", "c2s"),
        ("server2.com", "user2@server2.com/phone2", "c2s")]
    assert {a.label for a in chart.arrows} == {"message chat 'hi'"}
    text = chart.text()
    rows = [line.split()[:4] for line in text.splitlines()[4:]]
    assert rows == [["1", "+0.000s", "pc", "server1.com"], ["2", "+0.010s", "server1.com", "server2.com"],
                    ["3", "+0.030s", "server2.com", "phone1"], ["4", "+0.040s", "server2.com", "phone2"]]
    assert "participants: pc = user1@server1.com/pc, server1.com, server2.com" in text


def test_svg_is_self_contained_and_in_time_order():
    t = Transcript.from_rfc_text(EXCHANGE)
    chart = sequence_chart(t)
    svg = chart.svg()
    root = etree.fromstring(svg.encode())
    assert root.tag == f"{SVG}svg" and "href=\"http" not in svg and "<script" not in svg
    arrows = [g for g in root.iter(f"{SVG}g") if "arrow" in (g.get("class") or "")]
    assert len(arrows) == len(chart.arrows)
    label_y = []
    for g in arrows:
        label = next(t for t in g.iter(f"{SVG}text") if t.get("font-size") == "12")
        label_y.append((float(label.get("y")), label.text))
    assert [text for _, text in label_y] == [a.label for a in chart.arrows]
    assert [y for y, _ in label_y] == sorted(y for y, _ in label_y)
    # client to server green, server to client black; the XML is the tooltip
    first, second = arrows[0], arrows[1]
    assert first.find(f"{SVG}line").get("stroke") == "#2e7d32" and second.find(f"{SVG}line").get("stroke") == "#222222"
    assert "jabber:iq:roster" in first.find(f"{SVG}title").text
    # lifelines run left to right in participant order
    heads = [g for g in root.iter(f"{SVG}g") if "participant" in (g.get("class") or "")]
    xs = [float(g.find(f"{SVG}line").get("x1")) for g in heads]
    assert xs == sorted(xs) and len(xs) == 2
    bundle = chart._repr_mimebundle_()
    assert bundle["image/svg+xml"] == svg and "<svg" in bundle["text/html"]
    assert bundle["text/plain"] == chart.text()


def test_limit_and_escaping():
    t = Transcript.from_rfc_text("""
C: <message to='romeo@example.net' type='chat'><body>&lt;b&gt; &amp; "quotes"</body></message>
C: <message to='romeo@example.net' type='chat'><body>two</body></message>
C: <message to='romeo@example.net' type='chat'><body>three</body></message>
""")
    chart = sequence_chart(t, limit=2)
    assert len(chart) == 2 and chart.omitted == 1
    assert "… 1 more not shown" in chart.text()
    svg = chart.svg()
    etree.fromstring(svg.encode())  # well-formed despite <, & and quotes in the body
    assert "&lt;b&gt; &amp; &quot;quotes&quot;" in svg and "1 more not drawn" in svg


def test_empty_chart():
    t = Transcript.from_rfc_text("C: <stream:stream to='example.com' xmlns='jabber:client' "
                                 "xmlns:stream='http://etherx.jabber.org/streams'>")
    chart = sequence_chart(t)
    assert chart.arrows == [] and "nothing was sent" in chart.text()
    etree.fromstring(chart.svg().encode())
