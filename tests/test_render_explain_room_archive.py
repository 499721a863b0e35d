"""explain() for a room's message archive (XEP-0313 §3.3.2, §6.1.2): the query at the room, each result from the
room with the occupant who said it (and the real JID only where the reader may see it), the end of the results,
and the stanza id the room adds."""

import pytest

from xmpplab.render import explain

ROOM = "garden@conference.example.com"
RSM = "http://jabber.org/protocol/rsm"


def result(extra: str = "") -> str:
    return (f"<message from='{ROOM}' to='juliet@example.com/balcony'><result xmlns='urn:xmpp:mam:2' queryid='g27' "
            "id='3a-5f'><forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' "
            f"stamp='2026-12-05T10:00:00Z'/><message xmlns='jabber:client' from='{ROOM}/romeo' type='groupchat' "
            f"id='m1'><body>Hi</body>{extra}</message></forwarded></result></message>")


@pytest.mark.parametrize(("xml", "direction", "citations", "words"), [
    (f"<iq type='set' id='r1' to='{ROOM}'><query xmlns='urn:xmpp:mam:2' queryid='g27'><set xmlns='{RSM}'>"
     "<max>10</max><before/></set></query></iq>", "C→S",
     ["XEP-0313 §4", "XEP-0313 §4.1", "XEP-0059 §2.1", "XEP-0059 §2.5", "XEP-0313 §3.3.2", "XEP-0313 §6.1.2"],
     f"asks the room {ROOM} for its archive, everything (at most 10 per page, the last page"),
    (f"<iq type='set' id='r2' to='{ROOM}'><query xmlns='urn:xmpp:mam:2'><x xmlns='jabber:x:data' type='submit'>"
     "<field var='FORM_TYPE'><value>urn:xmpp:mam:2</value></field><field var='with'>"
     f"<value>{ROOM}/romeo</value></field></x></query></iq>", "C→S",
     ["XEP-0313 §4", "XEP-0313 §4.1", "XEP-0313 §3.3.2", "XEP-0313 §6.1.2"], f"the messages with {ROOM}/romeo"),
    (result(), "S→C", ["XEP-0313 §4.2", "XEP-0313 §6.1.2"], "romeo wrote in the room on 2026-12-05T10:00:00Z: “Hi”"),
    (result(), "S→C", ["XEP-0313 §4.2", "XEP-0313 §6.1.2"], "only the nickname"),
    (result("<x xmlns='http://jabber.org/protocol/muc#user'><item jid='romeo@example.net/orchard'/></x>"), "S→C",
     ["XEP-0313 §4.2", "XEP-0313 §6.1.2"], "real JID, romeo@example.net/orchard"),
    (f"<iq type='result' id='r1' from='{ROOM}' to='juliet@example.com/balcony'><fin xmlns='urn:xmpp:mam:2' "
     f"complete='true'><set xmlns='{RSM}'><first index='0'>3a-5f</first><last>3a-5f</last><count>1</count></set>"
     "</fin></iq>", "S→C",
     ["XEP-0313 §4.2", "XEP-0313 §4.3", "XEP-0059 §2.2", "XEP-0059 §2.7", "XEP-0313 §3.3.2", "XEP-0313 §6.1.2"],
     f"The room {ROOM} ends the archive results"),
    (f"<message from='{ROOM}/romeo' to='juliet@example.com/balcony' type='groupchat'><body>Hi</body>"
     f"<stanza-id xmlns='urn:xmpp:sid:0' by='{ROOM}' id='3a-5f'/></message>", "S→C",
     ["RFC 6121 §5.2.2", "XEP-0045", "XEP-0313 §3.5", "XEP-0359 §2.1"],
     f"the archive of the room {ROOM} keeps this message under the id '3a-5f'"),
])
def test_a_room_archive_is_explained_with_its_sections(xml, direction, citations, words):
    e = explain(xml, direction=direction)
    assert e.labels[:len(citations)] == citations, (e.labels, e.text)
    assert words in e.text, e.text
    assert e.text.endswith(".")


def test_an_account_archive_is_still_explained_as_the_accounts():
    e = explain("<iq type='set' id='q1'><query xmlns='urn:xmpp:mam:2' queryid='f27'/></iq>", direction="C→S")
    assert "server's message archive for its messages" in e.text and "XEP-0313 §6.1.2" not in e.labels
