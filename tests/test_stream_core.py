"""The sans-IO stream parser: bytes in, events out, no sockets."""

import pytest

from xmpplab.stream import StanzaReceived, StreamClosed, StreamOpened, StreamParser, StreamViolation
from xmpplab.xml import XMLInputError, parse_fragment, serialize

HEADER = (b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
          b"xmlns:stream='http://etherx.jabber.org/streams' to='example.com' version='1.0'>")


def test_header_stanzas_and_close_in_one_chunk():
    p = StreamParser()
    events = p.feed(HEADER + b"<message to='romeo@example.net'><body>hi</body></message><presence/></stream:stream>")
    assert [type(e) for e in events] == [StreamOpened, StanzaReceived, StanzaReceived, StreamClosed]
    opened = events[0]
    assert opened.default_ns == "jabber:client" and opened.attrs == {"to": "example.com", "version": "1.0"}
    assert serialize(events[1].element) == "<message to=\"romeo@example.net\"><body>hi</body></message>"


def test_byte_at_a_time_gives_the_same_stanzas():
    data = HEADER + "<message><body>é ∞ 😀</body></message><iq type='get' id='1'/>".encode()
    p = StreamParser()
    events = [e for i in range(len(data)) for e in p.feed(data[i:i + 1])]
    stanzas = [serialize(e.element) for e in events if isinstance(e, StanzaReceived)]
    assert stanzas == ["<message><body>é ∞ 😀</body></message>", "<iq type=\"get\" id=\"1\"/>"]


def test_reset_starts_a_new_stream_after_starttls_or_sasl():
    p = StreamParser()
    p.feed(HEADER + b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
    p.reset()
    events = p.feed(HEADER)
    assert isinstance(events[0], StreamOpened)


def test_stanza_keeps_its_namespace_and_attributes_after_detaching():
    p = StreamParser()
    p.feed(HEADER)
    (ev,) = p.feed(b"<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>")
    assert ev.element.tag == "{jabber:client}iq"
    assert serialize(ev.element) == '<iq type="set" id="b"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/></iq>'


def test_whitespace_keepalives_do_not_accumulate():
    p = StreamParser()
    p.feed(HEADER)
    for _ in range(10000):
        assert p.feed(b" ") == []
    assert p.feed(b"<presence/>")[0].element.tag == "{jabber:client}presence"


@pytest.mark.parametrize("data, condition", [
    (b"<message><!-- x --></message>", "restricted-xml"),
    (b"<?target data?>", "restricted-xml"),
    (b"<message>&nbsp;</message>", "restricted-xml"),
    (b"<a><b></a>", "not-well-formed"),
    (b"<message>" + b"<x>" * 60, "policy-violation"),
])
def test_violations(data, condition):
    p = StreamParser()
    p.feed(HEADER)
    events = p.feed(data)
    assert isinstance(events[-1], StreamViolation) and events[-1].condition == condition
    assert p.failed and p.feed(b"<presence/>") == []  # nothing more after a violation


def test_size_limit_is_configurable():
    p = StreamParser(max_stanza_bytes=1000)
    p.feed(HEADER)
    [under] = p.feed(b"<message><body>" + b"a" * 500 + b"</body></message>")
    assert isinstance(under, StanzaReceived) and under.element.findtext("{*}body") == "a" * 500
    events = p.feed(b"<message><body>" + b"a" * 1500)
    assert events[-1].condition == "policy-violation"


@pytest.mark.parametrize("read", [65536, 262144, 300_000, 1 << 20])
def test_a_stanza_over_the_limit_is_refused_however_it_is_read(read):
    """300,000 bytes against a limit of 262,144, in reads of any size, also one read holding all of it: the read
    that completes it must not let it through (the server would relay what a recipient with that limit refuses)."""
    p = StreamParser(max_stanza_bytes=262144)
    p.feed(HEADER)
    whole = b"<message to='romeo@example.net'><body>" + b"a" * (300_000 - 60) + b"</body></message><presence/>"
    events = []
    for start in range(0, len(whole), read):
        events += p.feed(whole[start:start + read])
    assert not any(isinstance(e, StanzaReceived) for e in events), "the oversized stanza was let through"
    assert events[-1].condition == "policy-violation"


def test_a_stanza_just_under_the_limit_over_several_reads_passes_with_the_next():
    p = StreamParser(max_stanza_bytes=262144)
    p.feed(HEADER)
    body = b"a" * (262144 - 200)
    whole = b"<message><body>" + body + b"</body></message><presence/>"
    events = []
    for start in range(0, len(whole), 65536):
        events += p.feed(whole[start:start + 65536])
    assert [type(e) for e in events] == [StanzaReceived, StanzaReceived]
    assert events[0].element.findtext("{*}body") == body.decode()


def test_parse_fragment_for_people():
    el = parse_fragment("<message to='romeo@example.net'><body>hi</body></message>")
    assert el.tag == "{jabber:client}message"
    for bad, why in [("<message>", "not well-formed"), ("<a/><b/>", "exactly one"), ("", "empty"),
                     ("<a><!-- c --></a>", "comments")]:
        with pytest.raises(XMLInputError, match=why):
            parse_fragment(bad)
