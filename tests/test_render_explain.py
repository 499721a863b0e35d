"""explain(): the plain-language sentence and the RFC/XEP section each fixed sample stanza comes from.

The section numbers were checked against the tables of contents of RFC 6120
and RFC 6121 and the XEPs; a wrong citation here is a bug in
xmpplab/render/specs.py, not in the test.
"""

from pathlib import Path

import pytest

from xmpplab.render import Explanation, explain, explain_exchange
from xmpplab.render.explain import ExplainContext
from xmpplab.render.specs import (
    RFC6120,
    SASL_ERRORS,
    STANZA_ERRORS,
    STREAM_ERRORS,
    Citation,
    sasl_error,
    stanza_error,
    stream_error,
)
from xmpplab.transcript import Transcript

SAMPLES = Path(__file__).resolve().parent.parent / "sample_streams"
STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"


@pytest.fixture(scope="module")
def juliet():
    return Transcript.load(SAMPLES / "juliet-login-starttls-scram.jsonl")


@pytest.fixture(scope="module")
def romeo():
    return Transcript.load(SAMPLES / "romeo-login-plain-raw.jsonl")


@pytest.fixture(scope="module")
def subscription():
    return Transcript.from_rfc_text((SAMPLES / "rfc" / "subscription.txt").read_text())


# ---------------------------------------------------------------------------- fixed samples
@pytest.mark.parametrize(("xml", "citation", "words"), [
    ("<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>", "RFC 6121 §2.1.3", "contact list"),
    ("<iq type='set' id='r2'><query xmlns='jabber:iq:roster'><item jid='nurse@example.com'/></query></iq>",
     "RFC 6121 §2.1.5", "roster"),
    (("<iq type='set' id='r3'><query xmlns='jabber:iq:roster'><item jid='nurse@example.com' subscription='remove'/>"
     "</query></iq>"), "RFC 6121 §2.5", "deletes"),
    ("<presence to='juliet@example.com' type='subscribe'/>", "RFC 6121 §3.1", "subscription request"),
    ("<presence to='romeo@example.net' type='subscribed'/>", "RFC 6121 §3.1", "approves"),
    ("<presence to='romeo@example.net' type='unsubscribed'/>", "RFC 6121 §3.2", "cancels"),
    ("<presence to='romeo@example.net' type='unsubscribe'/>", "RFC 6121 §3.3", "unsubscribes"),
    ("<presence type='probe' from='example.net' to='juliet@example.com'/>", "RFC 6121 §4.3", "probe"),
    ("<presence type='unavailable'/>", "RFC 6121 §4.5", "offline"),
    ("<presence to='romeo@example.net/orchard'/>", "RFC 6121 §4.6", "directed presence"),
    ("<presence/>", "RFC 6121 §4.2", "available"),
    ("<iq type='get' to='example.com' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>", "XEP-0199 §4.2", "pings"),
    ("<iq type='get' to='example.com' id='d1'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>",
     "XEP-0030 §3", "features"),
    ("<iq type='get' to='example.com' id='d2'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>",
     "XEP-0030 §4", "items"),
    ("<iq type='get' to='example.com' id='v1'><query xmlns='jabber:iq:version'/></iq>", "XEP-0092", "software"),
    ("<iq type='get' to='example.com' id='g1'><query xmlns='jabber:iq:register'/></iq>", "XEP-0077 §3.1",
     "registering"),
    ("<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>balcony</resource></bind></iq>",
     "RFC 6120 §7", "balcony"),
    ("<iq type='set' id='s1'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>", "RFC 3921 §3",
     "session"),
    ("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", "RFC 6120 §5.4.2.1", "TLS"),
    ("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", "RFC 6120 §5.4.2.3", "TLS handshake"),
    ("<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", "RFC 6120 §5.4.2.2", "refuses STARTTLS"),
    ("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>[masked]</auth>", "RFC 6120 §6.4.2", "PLAIN"),
    ("<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>cj1hYmMscz1zYWx0LGk9NDA5Ng==</challenge>",
     "RFC 6120 §6.4.3", "challenge"),
    ("<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>", "RFC 6120 §6.4.3", "challenge"),
    ("<abort xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>", "RFC 6120 §6.4.4", "aborts"),
    ("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>", "RFC 6120 §6.4.6", "restart"),
    ("<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>", "RFC 6120 §6.5.10",
     "credentials are wrong"),
    ("<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>",
     "RFC 6120 §4.3.2", "STARTTLS"),
    (("<stream:stream to='example.com' version='1.0' xmlns='jabber:client' "
     "xmlns:stream='http://etherx.jabber.org/streams'>"), "RFC 6120 §4.2", "opens an XML stream"),
    ("</stream:stream>", "RFC 6120 §4.4", "closes"),
    ("<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>",
     "RFC 6120 §4.9.3.6", "host-unknown"),
    ("<stream:error><not-well-formed xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>",
     "RFC 6120 §4.9.3.13", "not-well-formed"),
    ((f"<iq type='error' from='example.com' id='x1'><error type='cancel'><service-unavailable xmlns='{STANZAS}'/>"
     "</error></iq>"), "RFC 6120 §8.3.3.19", "service-unavailable"),
    ((f"<message from='mercutio@example.org' type='error'><error type='cancel'><item-not-found xmlns='{STANZAS}'/>"
     "</error></message>"), "RFC 6120 §8.3.3.7", "item-not-found"),
    (f"<iq type='error' id='x2'><error type='cancel'><conflict xmlns='{STANZAS}'/></error></iq>",
     "RFC 6120 §8.3.3.2", "conflict"),
    ("<message to='romeo@example.net' type='chat'><body>Art thou not Romeo?</body></message>",
     "RFC 6121 §8.5.2.1.1", "bare JID"),
    ("<message to='romeo@example.net/orchard' type='chat'><body>hi</body></message>", "RFC 6121 §8.5.3",
     "full JID"),
    ("<message to='coven@chat.example.com' type='groupchat'><body>Thrice</body></message>", "RFC 6121 §5.2.2",
     "groupchat"),
    ("<message to='example.com' type='headline'><body>news</body></message>", "RFC 6121 §5.2.2", "headline"),
])
def test_explain_cites_the_section_a_sample_stanza_comes_from(xml, citation, words):
    e = explain(xml)
    assert isinstance(e, Explanation)
    assert e.citation == citation, (e.citation, e.text)
    assert words in e.text
    assert e.text[:1] and e.text.endswith(".")


def test_a_roster_get_reads_like_a_sentence_with_the_persons_name(juliet):
    item = juliet.first(kind="iq", namespace="jabber:iq:roster", direction="C→S")
    e = explain(item, juliet)
    assert e.text.startswith("juliet asks her server for her contact list")
    assert "an iq of type get in the jabber:iq:roster namespace" in e.text
    assert e.citation == "RFC 6121 §2.1.3"
    assert e.url == "https://www.rfc-editor.org/rfc/rfc6121.html#section-2.1.3"
    assert str(e).endswith("(RFC 6121 §2.1.3; RFC 6121 §2.2; RFC 6121 §2.6)")  # it sent ver=''


def test_message_to_a_bare_jid_explains_who_picks_the_session():
    e = explain("<message to='romeo@example.net' type='chat'><body>Art thou not Romeo?</body></message>",
                direction="C→S")
    assert "bare JID romeo@example.net" in e.text and "his sessions" in e.text
    assert e.labels[:2] == ["RFC 6121 §8.5.2.1.1", "RFC 6121 §5.2.2"]
    assert "“Art thou not Romeo?”" in e.text


def test_presence_details_cite_show_status_and_priority():
    e = explain("<presence><show>dnd</show><status>at mass</status><priority>-1</priority></presence>")
    assert e.labels == ["RFC 6121 §4.2", "RFC 6121 §4.7.2.1", "RFC 6121 §4.7.2.2", "RFC 6121 §4.7.2.3"]
    assert "busy" in e.text and "never gets messages sent to the bare JID" in e.text


def test_offline_delivery_cites_delayed_delivery():
    e = explain("<message from='romeo@example.net/orchard' to='juliet@example.com' type='chat'><body>hi</body>"
                "<delay xmlns='urn:xmpp:delay' from='example.com' stamp='2002-09-10T23:08:25Z'/></message>",
                direction="S→C")
    assert "XEP-0203 §2" in e.labels and "XEP-0160" in e.labels
    assert "2002-09-10T23:08:25Z" in e.text


def test_unknown_iq_namespace_says_service_unavailable():
    e = explain("<iq type='get' id='u1'><query xmlns='urn:example:nothing'/></iq>")
    assert e.labels == ["RFC 6120 §8.2.3", "RFC 6120 §8.3.3.19"]
    assert "service-unavailable" in e.text


def test_refused_xml_is_explained_with_the_stream_error_it_deserves():
    e = explain("<!-- no comments in XMPP --><message/>")
    assert e.problem and e.labels == ["RFC 6120 §4.9.3.18", "RFC 6120 §11.1"]
    assert explain("<message><body>cut").citation == "RFC 6120 §4.9.3.13"


# ---------------------------------------------------------------------------- every condition numbered
def test_every_stanza_error_condition_has_its_own_section():
    assert len(STANZA_ERRORS) == 22 and len(STREAM_ERRORS) == 25 and len(SASL_ERRORS) == 11
    assert stanza_error("bad-request").label == "RFC 6120 §8.3.3.1"
    assert stanza_error("service-unavailable").label == "RFC 6120 §8.3.3.19"
    assert stanza_error("unexpected-request").label == "RFC 6120 §8.3.3.22"
    assert stream_error("bad-format").label == "RFC 6120 §4.9.3.1"
    assert stream_error("restricted-xml").label == "RFC 6120 §4.9.3.18"
    assert stream_error("unsupported-version").label == "RFC 6120 §4.9.3.25"
    assert sasl_error("aborted").label == "RFC 6120 §6.5.1"
    assert sasl_error("temporary-auth-failure").label == "RFC 6120 §6.5.11"
    assert RFC6120["8.3.3.19"] == "service-unavailable"


def test_the_condition_tables_match_the_ones_the_server_uses():
    from xmpplab.errors import STANZA_CONDITIONS, STREAM_CONDITIONS
    assert set(STANZA_ERRORS) == set(STANZA_CONDITIONS)
    assert set(STREAM_ERRORS) == set(STREAM_CONDITIONS)
    assert list(STANZA_ERRORS) == sorted(STANZA_ERRORS)  # RFC 6120 lists them alphabetically
    assert list(STREAM_ERRORS) == sorted(STREAM_ERRORS)
    assert list(SASL_ERRORS) == sorted(SASL_ERRORS)


@pytest.mark.parametrize("condition", sorted(STANZA_ERRORS))
def test_each_stanza_error_is_explained_with_its_section(condition):
    e = explain(f"<iq type='error' id='e'><error type='cancel'><{condition} xmlns='{STANZAS}'/></error></iq>")
    assert e.citation == stanza_error(condition).label
    assert condition in e.text and "cancel" in e.text


def test_citation_links_go_to_the_rfc_editor_and_xmpp_org():
    assert Citation("RFC 6120", "8.3.3.19", "service-unavailable").url == \
        "https://www.rfc-editor.org/rfc/rfc6120.html#section-8.3.3.19"
    ping = explain("<iq type='get' to='example.com' id='p'><ping xmlns='urn:xmpp:ping'/></iq>")
    assert ping.url == "https://xmpp.org/extensions/xep-0199.html#c2s"
    version = explain("<iq type='get' to='example.com' id='v'><query xmlns='jabber:iq:version'/></iq>")
    assert version.url == "https://xmpp.org/extensions/xep-0092.html"


# ---------------------------------------------------------------------------- with a transcript
def test_a_recorded_login_is_explained_step_by_step(juliet):
    ctx = ExplainContext(juliet)
    expl = [explain(i, ctx) for i in juliet.items()]
    cites = [e.citation for e in expl]
    assert cites[:5] == ["RFC 6120 §4.2", "RFC 6120 §4.2", "RFC 6120 §4.3.2", "RFC 6120 §5.4.2.1",
                         "RFC 6120 §5.4.2.3"]
    # the headers after TLS and after SASL are restarts
    assert expl[5].citation == "RFC 6120 §4.3.3" and "RFC 6120 §5.4.3.3" in expl[5].labels
    assert expl[12].citation == "RFC 6120 §4.3.3" and "RFC 6120 §6.4.6" in expl[12].labels
    assert expl[8].step == "SASL auth" and "SCRAM-SHA-256" in expl[8].text
    assert any("user juliet" in n for n in expl[8].notes)         # the client-first message, decoded
    assert any("p=[masked]" in n for n in expl[10].notes)         # the proof stays masked
    assert expl[15].citation == "RFC 6120 §7" and "'balcony'" in expl[15].text
    assert expl[17].text.startswith("juliet tells her server she is available")
    assert expl[19].citation == "RFC 6121 §4.2.2"                 # her own presence comes back
    assert expl[20].citation == "RFC 6121 §2.1.4"
    assert expl[23].citation == "RFC 6120 §4.4"


def test_answers_know_their_request(romeo):
    ping = romeo.first(kind="iq", type="get")
    pong = romeo.answer_to(ping)
    e = explain(pong, romeo)
    assert "pong" in e.text and "XEP-0199" in e.labels
    both = explain_exchange(ping, context=romeo)
    assert "romeo pings his server" in both.text and "The answer:" in both.text
    assert "RFC 6120 §8.2.3" in both.labels


def test_an_empty_answer_to_a_versioned_roster_get_says_nothing_changed():
    # RFC 6121 §2.6: with roster versioning, an empty result means the client's copy is current.
    # explain() used to raise KeyError here (it cited a section the table of sections lacks).
    t = Transcript.from_rfc_text(
        "C: <iq from='juliet@example.com/balcony' id='r1' type='get'>"
        "<query xmlns='jabber:iq:roster' ver='ver14'/></iq>\n"
        "S: <iq id='r1' to='juliet@example.com/balcony' type='result'/>\n")
    answer = t.first(kind="iq", type="result")
    e = explain(answer, t)
    assert "nothing changed" in e.text
    assert e.citation == "RFC 6121 §2.6"


def test_the_subscription_dance_uses_both_names(subscription):
    texts = [explain(i, subscription).text for i in subscription.items()]
    assert texts[0].startswith("romeo asks to see juliet's presence")
    assert any(t.startswith("juliet approves romeo's request") for t in texts)
    assert any(t.startswith("The server pushes a roster change to romeo") for t in texts)
    assert any(t.startswith("Server to server (example.net → example.com)") for t in texts)


def test_explain_takes_elements_and_slixmpp_stanzas():
    from lxml import etree
    el = etree.fromstring("<iq xmlns='jabber:client' type='get' id='r'><query xmlns='jabber:iq:roster'/></iq>")
    assert explain(el).citation == "RFC 6121 §2.1.3"

    class FakeSlixStanza:  # what matters: an .xml attribute and str() giving the XML
        xml = object()

        def __str__(self):
            return "<presence xmlns='jabber:client' type='subscribe' to='juliet@example.com'/>"

    assert explain(FakeSlixStanza()).citation == "RFC 6121 §3.1"
    with pytest.raises(TypeError):
        explain(42)


def test_an_explanation_displays_itself():
    e = explain("<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>")
    bundle = e._repr_mimebundle_()
    assert "RFC 6121 §2.1.3" in bundle["text/plain"]
    assert 'href="https://www.rfc-editor.org/rfc/rfc6121.html#section-2.1.3"' in bundle["text/html"]
    assert "<iq" not in bundle["text/html"]


def test_dialback_and_muc_presence_are_explained_with_their_xeps():
    from xmpplab.render import explain

    key = explain("<db:result xmlns:db='jabber:server:dialback' from='server1.com' to='server2.com'>k</db:result>")
    assert "dialback key" in key.text and key.citation == "XEP-0220"
    ok = explain("<db:result xmlns:db='jabber:server:dialback' from='server2.com' to='server1.com' type='valid'/>")
    assert "server2.com accepts the stream" in ok.text
    verify = explain("<db:verify xmlns:db='jabber:server:dialback' from='server2.com' to='server1.com' id='S2'>k"
                     "</db:verify>")
    assert "authoritative server" in verify.text and "S2" in verify.text
    occupant = explain("<presence from='garden@conference.example.com/juliet' to='juliet@example.com/balcony'>"
                       "<x xmlns='http://jabber.org/protocol/muc#user'><status code='201'/>"
                       "<item affiliation='owner' role='moderator'/><status code='110'/></x></presence>")
    assert occupant.citation == "XEP-0045"
    assert "role moderator, affiliation owner" in occupant.text and "a new room was created" in occupant.text
    join = explain("<presence to='garden@conference.example.com/romeo'><x xmlns='http://jabber.org/protocol/muc'/>"
                   "</presence>")
    assert "enters the room garden@conference.example.com with the nickname 'romeo'" in join.text


# issue 13: explanations that must know an invalid address, a person, and what came before ---------------
def test_a_message_to_an_address_that_is_not_a_jid_is_explained_as_such():
    e = explain("<message to='juliet@@example.com' type='chat'><body>hi</body></message>", direction="C→S")
    assert "juliet@@example.com is not a valid address" in e.text
    assert "jid-malformed" in e.text and "bare JID" not in e.text
    assert "RFC 6120 §8.3.3.8" in e.labels


def test_a_groupchat_message_to_a_person_is_not_sent_to_a_room():
    e = explain("<message to='romeo@example.net' type='groupchat'><body>hi</body></message>", direction="C→S")
    assert "the room romeo@example.net" not in e.text
    assert "romeo@example.net is a person, not a room" in e.text
    room = explain("<message to='garden@conference.example.com' type='groupchat'><body>hi</body></message>",
                   direction="C→S")
    assert "to the room garden@conference.example.com" in room.text


def test_chat_to_a_bare_jid_goes_to_all_sessions_only_when_they_opted_in():
    e = explain("<message to='romeo@example.net' type='chat'><body>hi</body></message>", direction="C→S")
    assert "all with a non-negative priority" not in e.text
    assert "opted in" in e.text


def _events(*stanzas):
    """A recording of one client connection: (direction, XML) pairs after bind, as the server saw them."""
    events = [{"type": "open", "conn": "c2s-1", "t": 0.0, "kind": "c2s"},
              {"type": "bound", "conn": "c2s-1", "t": 0.0, "jid": "romeo@example.net/orchard"},
              {"type": "data", "conn": "c2s-1", "t": 0.0, "dir": "in",
               "data": "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
                       "to='example.net' version='1.0'>"},
              {"type": "data", "conn": "c2s-1", "t": 0.0, "dir": "out",
               "data": "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
                       "from='example.net' id='s1' version='1.0'>"}]
    for i, (direction, xml) in enumerate(stanzas, start=1):
        events.append({"type": "data", "conn": "c2s-1", "t": float(i), "dir": direction, "data": xml})
    return Transcript.from_events(events)


def test_an_unavailable_after_unsubscribe_is_explained_from_what_came_before():
    t = _events(("in", "<presence/>"),
                ("in", "<presence to='juliet@example.com' type='unsubscribe'/>"),
                ("out", "<presence from='juliet@example.com/balcony' to='romeo@example.net' type='unavailable'/>"))
    item = list(t.stanzas(kind="presence", direction="S→C"))[-1]
    e = explain(item, t)
    assert "presence probe" not in e.text
    assert "unsubscribe" in e.text and "RFC 6121 §3.3" in e.labels


def test_an_unavailable_right_after_a_subscribe_acknowledges_the_request_and_is_no_probe_answer():
    """Issue 13 item 3: in chapter 06 Juliet is online, nobody probed; the unavailable acknowledges the request."""
    t = _events(("in", "<presence/>"),
                ("in", "<presence to='juliet@example.com' type='subscribe'/>"),
                ("out", "<presence from='juliet@example.com' to='romeo@example.net' type='unavailable'/>"))
    e = explain(list(t.stanzas(kind="presence", direction="S→C"))[-1], t)
    assert "probe" not in e.text and "no session online" not in e.text
    assert "subscription request" in e.text and "says nothing" in e.text and "RFC 6121 §3.1" in e.labels


def test_a_later_unavailable_from_the_bare_jid_is_not_taken_for_the_acknowledgement():
    t = _events(("in", "<presence/>"),
                ("in", "<presence to='juliet@example.com' type='subscribe'/>"),
                ("out", "<presence from='juliet@example.com' to='romeo@example.net' type='unavailable'/>"),
                ("out", "<presence from='juliet@example.com' to='romeo@example.net/orchard' type='unavailable'/>"))
    e = explain(list(t.stanzas(kind="presence", direction="S→C"))[-1], t)
    assert "subscription request" not in e.text


def test_an_unavailable_from_a_bare_jid_after_initial_presence_answers_the_probe():
    t = _events(("in", "<presence/>"),
                ("out", "<presence from='nurse@example.net' to='romeo@example.net/orchard' type='unavailable'/>"))
    e = explain(list(t.stanzas(kind="presence", direction="S→C"))[-1], t)
    assert "probe" in e.text and "no session online" in e.text and "RFC 6121 §4.3" in e.labels


def test_an_unavailable_from_a_full_jid_is_a_session_that_ended():
    t = _events(("in", "<presence/>"),
                ("out", "<presence from='nurse@example.net/desk' to='romeo@example.net/orchard' type='unavailable'/>"))
    e = explain(list(t.stanzas(kind="presence", direction="S→C"))[-1], t)
    assert "probe" not in e.text and "session" in e.text


def test_a_long_decoded_sasl_line_wraps_in_the_stream_view():
    """Issue 13: the decoded SCRAM line of chapter 02 ran past the panel's edge (one long token)."""
    e = explain("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-1'>"
                "biwsbj1qdWxpZXQscj1meWtvK2QybGJiRmdPTlJ2OXFreGRhd0wzcnZWRm9IVVpqTkdETGNHSw==</auth>",
                direction="C→S")
    assert e.notes and max(len(w) for n in e.notes for w in n.split()) > 40  # one long token
    from xmpplab.render.explain.result import explanation_html
    note = explanation_html(e).split("<br>", 1)[1]
    assert "overflow-wrap:anywhere" in note


@pytest.mark.parametrize("mtype, words", [
    ("chat", "the account's other sessions instead"),
    ("normal", "service-unavailable error back"),
    ("headline", "dropped without a word"),
])
def test_a_message_to_a_full_jid_says_what_happens_when_that_session_is_gone(mtype, words):
    """RFC 6121 §8.5.3.2.1: chat may go to other resources; normal is bounced; headline is dropped."""
    e = explain(f"<message to='romeo@example.net/orchad' type='{mtype}'><body>hi</body></message>")
    assert words in e.text and "RFC 6121 §8.5.3" in e.labels, e.text
