"""explain() for what a modern messaging server adds: blocking (XEP-0191), client state (XEP-0352), the archive
(XEP-0313) with its pages (XEP-0059) and stanza ids (XEP-0359), vCards (XEP-0054), carbons (XEP-0280) and
stream management (XEP-0198): each sentence with its XEP section.

The sections are numbered as in the XEPs' XML sources (xsf/xeps); when a checkout of that repository is on this
machine, the last test reads each cited section's title from it.
"""

import os
import re
import subprocess
from pathlib import Path

import pytest

from xmpplab.render import explain
from xmpplab.render.specs import XEPS

STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
RSM = "http://jabber.org/protocol/rsm"
ARCHIVED = ("<message to='juliet@example.com/balcony'><result xmlns='urn:xmpp:mam:2' queryid='f27' id='28482'>"
            "<forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='2010-07-10T23:08:25Z'/>"
            "<message xmlns='jabber:client' from='romeo@example.net/orchard' to='juliet@example.com/balcony' "
            "type='chat'><body>Hail to thee</body></message></forwarded></result></message>")


@pytest.mark.parametrize(("xml", "direction", "citations", "words"), [
    # XEP-0191 blocking
    ("<iq type='get' id='b0'><blocklist xmlns='urn:xmpp:blocking'/></iq>", "C→S", ["XEP-0191 §3.2"], "block list"),
    ("<iq type='result' id='b0' to='juliet@example.com/balcony'><blocklist xmlns='urn:xmpp:blocking'>"
     "<item jid='iago@example.net'/></blocklist></iq>", "S→C", ["XEP-0191 §3.2"], "1 blocked: iago@example.net"),
    ("<iq type='set' id='b1' from='juliet@example.com/balcony'><block xmlns='urn:xmpp:blocking'>"
     "<item jid='iago@example.net'/></block></iq>", "C→S", ["XEP-0191 §3.3", "XEP-0191 §6"],
     "juliet blocks iago@example.net"),
    ("<iq type='set' id='push-1' to='juliet@example.com/chamber'><block xmlns='urn:xmpp:blocking'>"
     "<item jid='iago@example.net'/></block></iq>", "S→C", ["XEP-0191 §3.3", "XEP-0191 §6"], "block push"),
    ("<iq type='set' id='b2'><unblock xmlns='urn:xmpp:blocking'><item jid='iago@example.net'/></unblock></iq>",
     "C→S", ["XEP-0191 §3.4"], "unblocks iago@example.net"),
    ("<iq type='set' id='push-2' to='juliet@example.com/chamber'><unblock xmlns='urn:xmpp:blocking'>"
     "<item jid='iago@example.net'/></unblock></iq>", "S→C", ["XEP-0191 §3.4"], "unblock push"),
    ("<iq type='set' id='b3'><unblock xmlns='urn:xmpp:blocking'/></iq>", "C→S", ["XEP-0191 §3.5"], "everyone"),
    (f"<message type='error' from='iago@example.net' to='juliet@example.com/balcony'><error type='cancel'>"
     f"<not-acceptable xmlns='{STANZAS}'/><blocked xmlns='urn:xmpp:blocking:errors'/></error></message>", "S→C",
     ["XEP-0191 §3.3", "RFC 6120 §8.3.3.9"], "blocked its recipient"),
    # XEP-0352 client state indication
    ("<inactive xmlns='urn:xmpp:csi:0'/>", "C→S", ["XEP-0352 §4.2", "XEP-0352 §5"], "in the background"),
    ("<active xmlns='urn:xmpp:csi:0'/>", "C→S", ["XEP-0352 §4.2", "XEP-0352 §5"], "what it held back"),
    # XEP-0313 message archive, XEP-0059 pages, XEP-0359 stanza ids
    ("<iq type='set' id='q1'><query xmlns='urn:xmpp:mam:2' queryid='f27'><x xmlns='jabber:x:data' type='submit'>"
     "<field var='FORM_TYPE'><value>urn:xmpp:mam:2</value></field><field var='with'><value>romeo@example.net"
     f"</value></field></x><set xmlns='{RSM}'><max>10</max><before/></set></query></iq>", "C→S",
     ["XEP-0313 §4", "XEP-0313 §4.1", "XEP-0059 §2.1", "XEP-0059 §2.5"], "with romeo@example.net"),
    (f"<iq type='set' id='q2'><query xmlns='urn:xmpp:mam:2'><set xmlns='{RSM}'><max>10</max><after>09af3</after>"
     "</set></query></iq>", "C→S", ["XEP-0313 §4", "XEP-0313 §4.1", "XEP-0059 §2.1", "XEP-0059 §2.2"],
     "the page after 09af3"),
    (ARCHIVED, "S→C", ["XEP-0313 §4.2"], "romeo wrote to juliet on 2010-07-10T23:08:25Z: “Hail to thee”"),
    ("<iq type='result' id='q1' to='juliet@example.com/balcony'><fin xmlns='urn:xmpp:mam:2' complete='true'>"
     f"<set xmlns='{RSM}'><first index='0'>28482</first><last>09af3</last><count>2</count></set></fin></iq>", "S→C",
     ["XEP-0313 §4.2", "XEP-0313 §4.3", "XEP-0059 §2.2", "XEP-0059 §2.7"], "nothing more matches"),
    ("<message from='romeo@example.net/orchard' to='juliet@example.com/balcony' type='chat'><body>hi</body>"
     "<stanza-id xmlns='urn:xmpp:sid:0' by='juliet@example.com' id='5f1c'/></message>", "S→C",
     ["RFC 6121 §5.2.2", "XEP-0313 §3.5", "XEP-0359 §2.1"], "keeps this message under the id '5f1c'"),
    # XEP-0054 vCard
    ("<iq type='get' id='v1' from='romeo@example.net/orchard'><vCard xmlns='vcard-temp'/></iq>", "C→S",
     ["XEP-0054 §3.1"], "his own vCard"),
    ("<iq type='set' id='v2' from='juliet@example.com/balcony'><vCard xmlns='vcard-temp'><FN>Juliet Capulet</FN>"
     "<NICKNAME>Jules</NICKNAME></vCard></iq>", "C→S", ["XEP-0054 §3.2"], "nickname “Jules”"),
    ("<iq type='get' id='v3' from='romeo@example.net/orchard' to='juliet@example.com'><vCard xmlns='vcard-temp'/>"
     "</iq>", "C→S", ["XEP-0054 §3.3"], "juliet's vCard"),
    ("<iq type='result' id='v3' from='juliet@example.com' to='romeo@example.net/orchard'><vCard xmlns='vcard-temp'>"
     "<FN>Juliet Capulet</FN></vCard></iq>", "S→C", ["XEP-0054 §3.3"], "juliet's vCard: name “Juliet Capulet”"),
    # XEP-0049 private XML storage
    ("<iq type='set' id='p1' from='juliet@example.com/balcony'><query xmlns='jabber:iq:private'>"
     "<storage xmlns='storage:bookmarks'/></query></iq>", "C→S", ["XEP-0049 §2.2", "XEP-0049 §2.3"],
     "stores private XML under 'storage:bookmarks'"),
    ("<iq type='get' id='p2' from='romeo@example.net/orchard' to='juliet@example.com'>"
     "<query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'/></query></iq>", "C→S", ["XEP-0049 §3"],
     "only that account may read or write"),
    # XEP-0357 push notifications
    ("<iq type='set' id='x42'><enable xmlns='urn:xmpp:push:0' jid='push.example.com' node='yxs32'/></iq>", "C→S",
     ["XEP-0357 §5"], "notify the app's push service (push.example.com, node 'yxs32')"),
    ("<iq type='set' id='x97'><disable xmlns='urn:xmpp:push:0' jid='push.example.com'/></iq>", "C→S",
     ["XEP-0357 §6"], "stop notifying push.example.com"),
    # XEP-0398: the avatar hash the server adds to presence
    ("<presence from='juliet@example.com/balcony'><x xmlns='vcard-temp:x:update'><photo>8ad2c3f4e5a6b7c8d9e0"
     "</photo></x></presence>", "S→C", ["RFC 6121 §4", "XEP-0153", "XEP-0398 §4"], "avatar hash 8ad2c3f4e5…"),
    # XEP-0280 carbons on and off
    ("<iq type='set' id='c1'><enable xmlns='urn:xmpp:carbons:2'/></iq>", "C→S", ["XEP-0280 §4"], "carbons on"),
    ("<iq type='set' id='c2'><disable xmlns='urn:xmpp:carbons:2'/></iq>", "C→S", ["XEP-0280 §5"], "carbons off"),
    # XEP-0198 stream management nonzas
    ("<enable xmlns='urn:xmpp:sm:3' resume='true'/>", "C→S", ["XEP-0198 §3"], "resume the session"),
    ("<enabled xmlns='urn:xmpp:sm:3' id='5f1c' resume='true' max='300'/>", "S→C", ["XEP-0198 §3"],
     "for up to 300 seconds"),
    ("<r xmlns='urn:xmpp:sm:3'/>", "S→C", ["XEP-0198 §4"], "how many stanzas"),
    ("<a xmlns='urn:xmpp:sm:3' h='7'/>", "C→S", ["XEP-0198 §4"], "h=7"),
    ("<resume xmlns='urn:xmpp:sm:3' previd='5f1c' h='3'/>", "C→S", ["XEP-0198 §5"], "the session 5f1c"),
    ("<resumed xmlns='urn:xmpp:sm:3' previd='5f1c' h='7'/>", "S→C", ["XEP-0198 §5"], "had handled 7"),
    (f"<failed xmlns='urn:xmpp:sm:3'><item-not-found xmlns='{STANZAS}'/></failed>", "S→C",
     ["XEP-0198 §6", "XEP-0198 §5", "RFC 6120 §8.3.3.7"], "unknown or has expired"),
])
def test_each_messaging_xep_is_explained_with_its_section(xml, direction, citations, words):
    e = explain(xml, direction=direction)
    assert e.labels[:len(citations)] == citations, (e.labels, e.text)
    assert words in e.text, e.text
    assert e.text.endswith(".")


def test_features_name_stream_management_and_client_state_with_their_sections():
    e = explain("<stream:features><sm xmlns='urn:xmpp:sm:3'/><csi xmlns='urn:xmpp:csi:0'/></stream:features>")
    assert e.labels == ["RFC 6120 §4.3.2", "XEP-0198 §2", "XEP-0352 §4.1"]
    assert "stream management (acknowledgements and resumption)" in e.text
    assert "client state indication" in e.text


def test_an_ack_says_which_side_counted():
    sent = explain("<a xmlns='urn:xmpp:sm:3' h='7'/>", direction="S→C").text
    assert sent.startswith("The server acknowledges") and "received from the client" in sent
    assert "received from the server" in explain("<a xmlns='urn:xmpp:sm:3' h='2'/>", direction="C→S").text


def test_a_carbon_is_still_explained_as_a_copy_for_the_other_device():
    e = explain("<message from='romeo@example.net' to='romeo@example.net/home' type='chat'>"
                "<received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>"
                "<message xmlns='jabber:client' from='juliet@example.com/balcony' to='romeo@example.net/garden' "
                "type='chat'><body>Wherefore?</body></message></forwarded></received></message>", direction="S→C")
    assert "XEP-0280 §7" in e.labels and "a carbon" in e.text
    private = explain("<message to='juliet@example.com' type='chat'><body>psst</body>"
                      "<private xmlns='urn:xmpp:carbons:2'/></message>", direction="C→S")
    assert "XEP-0280 §9" in private.labels and "not to copy it" in private.text


# ---------------------------------------------------------------------------- the sections, against the XEPs
def _xeps_checkout() -> Path | None:
    for candidate in (os.environ.get("XMPPLAB_XEPS"), "/work/.mirror/xsf+xeps/repo"):
        if candidate and Path(candidate).exists():
            return Path(candidate)
    return None


def _numbered_sections(xml: str) -> dict[str, str]:
    """{"3.2": "User Retrieves Block List", ...}: the sections of a XEP's XML source, numbered as xmpp.org does."""
    out, counters = {}, []
    for m in re.finditer(r"<section(\d)\b([^>]*)>", xml):
        level = int(m.group(1))
        counters = counters[:level] + [0] * (level - len(counters))
        counters[level - 1] += 1
        topic = re.search(r"""topic=(['"])(.*?)\1""", m.group(2))
        out[".".join(map(str, counters[:level]))] = topic.group(2).replace("&apos;", "'") if topic else ""
    return out


@pytest.mark.parametrize("number", [49, 54, 59, 357, 398, 191, 198, 280, 313, 352, 359])
def test_cited_sections_have_the_numbers_and_titles_of_the_xep_source(number):
    repo = _xeps_checkout()
    if repo is None:
        pytest.skip("no checkout of github.com/xsf/xeps here (set XMPPLAB_XEPS to one to check the sections)")
    git = ["git", "--git-dir", str(repo)] if not (repo / ".git").exists() else ["git", "-C", str(repo)]
    xml = subprocess.run([*git, "show", f"HEAD:xep-{number:04d}.xml"], capture_output=True, text=True, check=True,
                         timeout=60).stdout
    sections = _numbered_sections(xml)
    title, cited = XEPS[number]
    assert cited, f"XEP-{number:04d} cites no sections"
    for section, (_anchor, section_title) in cited.items():
        assert sections.get(section) == section_title, (number, section, sections.get(section))
