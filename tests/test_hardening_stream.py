"""The stream core refuses what an expat-based peer would choke on, and what would stall it.

libxml2 (under lxml) reports namespace errors as non-fatal and keeps parsing, so an
unbound prefix used to reach the tree and be relayed; expat (slixmpp, Prosody,
ejabberd) treats it as a fatal error and drops the stream. RFC 6120 section 11
makes XMPP namespace-aware XML 1.0: all of these are ``<not-well-formed/>``
(section 4.9.3.13).
"""

import pytest

from xmpplab.stream import StanzaReceived, StreamOpened, StreamParser, StreamViolation

HEADER = (b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
          b"xmlns:stream='http://etherx.jabber.org/streams' to='example.com' version='1.0'>")


def opened(**kw) -> StreamParser:
    p = StreamParser(**kw)
    assert isinstance(p.feed(HEADER)[0], StreamOpened)
    return p


def violation(events) -> StreamViolation:
    """The stream ended in a violation and no stanza came out of the chunk."""
    assert [type(e) for e in events] == [StreamViolation], events
    return events[0]


# namespace well-formedness (Namespaces in XML 1.0) -----------------------------------------------
NOT_NAMESPACE_WELL_FORMED = [
    # an unbound prefix on an element, at any depth, or at the top level
    b"<message to='bob@lab.test/r'><body>x</body><foo:bar/></message>",
    b"<message><x xmlns='urn:x'><y><foo:z/></y></x></message>",
    b"<foo:bar/>",
    b"<xmlns:foo/>",
    # an unbound prefix on an attribute
    b"<message to='bob@lab.test/r' foo:y='1'><body>x</body></message>",
    b"<message><body>x</body><x xmlns='urn:x'><y foo:y='1'/></x></message>",
    # a prefix bound on a sibling only
    b"<message><x xmlns:a='urn:a' a:b='1'/><y a:b='2'/></message>",
    # a prefix cannot be undeclared in XML 1.0 (xmlns:foo='' is XML 1.1 only)
    b"<message xmlns:foo=''><body>x</body></message>",
    b"<message xmlns:a='urn:a'><a:x xmlns:a=''/></message>",
    # the reserved prefixes and names
    b"<message xmlns:xml='urn:x'/>",
    b"<message xmlns:xmlns='urn:x'/>",
    b"<message xmlns:x='http://www.w3.org/2000/xmlns/'/>",
    b"<message xmlns:x='http://www.w3.org/XML/1998/namespace'/>",
    b"<message xmlns='http://www.w3.org/XML/1998/namespace'/>",
    # the same attribute twice once the prefixes are expanded
    b"<message xmlns:a='urn:a' xmlns:b='urn:a' a:x='1' b:x='2'/>",
    # a namespace name must be a URI reference (Namespaces in XML 1.0 section 2.2): libxml2 logs these
    # as errors, and stops logging after 100 errors, so none of them may be let through
    b"<message><x xmlns='%'/></message>",
    b"<message><x xmlns:a='urn:x y'/></message>",
    # names that are not QNames
    b"<a:b:c xmlns:a='urn:a'/>",
    b"<message :a='1'/>",
    b"<message xmlns:a='urn:a' a:='1'/>",
    b"<message xmlns:='urn:a'/>",
]


@pytest.mark.parametrize("data", NOT_NAMESPACE_WELL_FORMED)
def test_namespace_ill_formed_stanzas_are_not_well_formed(data):
    ev = violation(opened().feed(data))
    assert ev.condition == "not-well-formed"


@pytest.mark.parametrize("data", NOT_NAMESPACE_WELL_FORMED[:3])
def test_byte_at_a_time_the_stanza_never_comes_out(data):
    p = opened()
    events = [e for i in range(len(data)) for e in p.feed(data[i:i + 1])]
    assert [type(e) for e in events] == [StreamViolation]
    assert events[0].condition == "not-well-formed"


@pytest.mark.parametrize("header", [
    HEADER.replace(b"version='1.0'>", b"version='1.0' foo:bar='1'>"),
    b"<stream:stream xmlns='jabber:client' to='example.com' version='1.0'>",  # 'stream' never bound
])
def test_an_unbound_prefix_in_the_stream_header_is_not_well_formed(header):
    ev = violation(StreamParser().feed(header))
    assert ev.condition == "not-well-formed"


@pytest.mark.parametrize("data", [
    b"<message xml:lang='en'><body>x</body></message>",
    b"<message><x:y xmlns:x='urn:x' x:a='1'><x:z/></x:y></message>",
    b"<message xmlns:a='urn:a' x='1' a:x='2'/>",              # one local name, two namespaces: allowed
    b"<message><x xmlns='urn:x'><y xmlns=''/></x></message>",  # undeclaring the default namespace is XML 1.0
    b"<iq type='get' id='v'><vCard xmlns='vcard-temp'/></iq>",  # a relative namespace name: only a warning
])
def test_namespace_well_formed_stanzas_pass(data):
    (ev,) = opened().feed(data)
    assert isinstance(ev, StanzaReceived)


def test_many_harmless_warnings_do_not_blind_the_check():
    # libxml2 stops reporting after 100 errors and after 100 warnings: relative namespace
    # names are warnings, and must not use up what reports an unbound prefix.
    p = opened()
    for _ in range(150):
        assert isinstance(p.feed(b"<iq type='get' id='v'><vCard xmlns='vcard-temp'/></iq>")[0], StanzaReceived)
    assert violation(p.feed(b"<message><foo:bar/></message>")).condition == "not-well-formed"


# the XML version (RFC 6120 section 11.6) ----------------------------------------------------------
@pytest.mark.parametrize("version", [b"1.1", b"2.0"])
def test_xml_other_than_1_0_is_refused(version):
    ev = violation(StreamParser().feed(HEADER.replace(b"version='1.0'?>", b"version='" + version + b"'?>")))
    assert ev.condition == "bad-format"
    assert "1.0" in ev.text


def test_a_header_without_xml_declaration_is_xml_1_0():
    p = StreamParser()
    assert isinstance(p.feed(HEADER.split(b"?>", 1)[1])[0], StreamOpened)


# markup that libxml2 would wait on forever --------------------------------------------------------
@pytest.mark.parametrize("data", [b"<'''''''", b"< message", b"<1abc", b"</'", b"<!'", b"<?'",
                                  b"<message>&'''"])
def test_a_lt_or_amp_that_cannot_start_markup_is_not_well_formed_at_once(data):
    assert violation(opened().feed(data)).condition == "not-well-formed"


@pytest.mark.parametrize("data", [b"<? >", b"<message/><? x ><message/>", b"<!'>", b"<message><?'a>",
                                  b"<message/><! x><message/>"])
def test_a_pi_or_declaration_that_cannot_start_is_refused_even_before_a_later_gt(data):
    """libxml2 waits for '?>' (or the end of a declaration) and says nothing however many '>' follow."""
    events = opened().feed(data)
    assert all(isinstance(e, StanzaReceived) for e in events[:-1]), events  # only the stanza before it
    assert isinstance(events[-1], StreamViolation) and events[-1].condition == "not-well-formed", events


def test_bad_markup_split_before_a_later_gt_is_refused_too():
    p = opened()
    assert [type(e) for e in p.feed(b"<message/><")] == [StanzaReceived]
    assert violation(p.feed(b"? ><message/>")).condition == "not-well-formed"  # the '<' was carried


def test_the_bad_markup_is_found_across_chunks():
    p = opened()
    assert [type(e) for e in p.feed(b"<message/><")] == [StanzaReceived]
    events = p.feed(b"'''")
    assert [type(e) for e in events] == [StreamViolation]


def test_a_lt_inside_cdata_is_text_even_when_split():
    data = b"<message><body><![CDATA[ <'' & <3 ]]></body></message>"
    for cut in range(1, len(data)):
        p = opened()
        events = p.feed(data[:cut]) + p.feed(data[cut:])
        assert [type(e) for e in events] == [StanzaReceived], cut
        assert events[0].element[0].text == " <'' & <3 "


# attributes per element (Limits.max_attributes) ---------------------------------------------------
def test_attributes_per_element_are_limited():
    p = opened(max_attributes=4)
    assert isinstance(p.feed(b"<message a='1' b='2' c='3' d='4'/>")[0], StanzaReceived)
    ev = violation(p.feed(b"<message><x a='1' b='2' c='3' d='4' e='5'/></message>"))
    assert ev.condition == "policy-violation" and "4" in ev.text


def test_the_stream_header_counts_too():
    ev = violation(StreamParser(max_attributes=1).feed(HEADER))  # to and version
    assert ev.condition == "policy-violation"


def test_the_default_allows_64():
    p = opened()
    attrs = b" ".join(b"a%d='x'" % i for i in range(64))
    assert isinstance(p.feed(b"<message " + attrs + b"/>")[0], StanzaReceived)
    assert violation(p.feed(b"<message " + attrs + b" b='1'/>")).condition == "policy-violation"
