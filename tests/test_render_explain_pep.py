"""explain() on personal eventing (XEP-0163): publishing to one's own account, the notifications, and caps."""

import pytest

from xmpplab.render import explain

PS = "http://jabber.org/protocol/pubsub"
NICK = "http://jabber.org/protocol/nick"


def publish(node: str, payload: str, to: str = "") -> str:
    to_attr = f" to='{to}'" if to else ""
    return (f"<iq type='set' id='p1'{to_attr}><pubsub xmlns='{PS}'><publish node='{node}'><item id='current'>"
            f"{payload}</item></publish></pubsub></iq>")


@pytest.mark.parametrize(("node", "payload", "also"), [
    (NICK, f"<nick xmlns='{NICK}'>Jules</nick>", "XEP-0172 §4.3"),
    ("urn:xmpp:avatar:data", "<data xmlns='urn:xmpp:avatar:data'>iVBORw0KGgo=</data>", "XEP-0084 §3.1"),
    ("urn:xmpp:avatar:metadata", "<metadata xmlns='urn:xmpp:avatar:metadata'/>", "XEP-0084 §3.2"),
])
def test_publishing_to_ones_own_account_is_personal_eventing(node, payload, also):
    e = explain(publish(node, payload), direction="C→S")
    assert e.citation == "XEP-0163 §3"
    assert e.url == "https://xmpp.org/extensions/xep-0163.html#publish"
    assert "bare JID" in e.text and "+notify" in e.text
    assert also in [c.label for c in e.citations]


def test_a_pubsub_service_request_stays_xep_0060():
    e = explain(publish("sensors", "<reading xmlns='urn:example:sensor'/>", to="pubsub.example.com"), direction="C→S")
    assert e.citation == "XEP-0060 §7.1"


def test_the_notification_comes_from_the_owners_bare_jid_to_an_interested_contact():
    e = explain("<message from='juliet@example.com' to='romeo@example.net/orchard' type='headline' id='n1'>"
                f"<event xmlns='{PS}#event'><items node='{NICK}'><item id='current'>"
                f"<nick xmlns='{NICK}'>Jules</nick></item></items></event></message>", direction="S→C")
    assert e.citation == "XEP-0163 §4.3.1"
    assert e.url.endswith("#notify-addressing")
    assert "nickname" in e.text and "+notify" in e.text and "juliet" in e.text


def test_caps_in_presence_are_explained_with_their_ver():
    e = explain("<presence><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='https://slixmpp.com/' "
                "ver='QgayPKawpkPSDYmwT/WM94uAlu0='/></presence>", direction="C→S")
    assert "QgayPKawpkPSDYmwT/WM94uAlu0=" in e.text and "entity capabilities" in e.text
    sections = [c.label for c in e.citations]
    assert {"XEP-0115 §4", "XEP-0115 §6.2", "XEP-0163 §4.2"} <= set(sections)
