"""explain() on publish-subscribe (XEP-0060): each use case with its section, and the events the service sends.

Section numbers are those of XEP-0060 version 1.30 (checked against its source); a wrong one is a bug in
xmpplab/render/specs.py.
"""

import pytest

from xmpplab.render import explain

PS = "http://jabber.org/protocol/pubsub"
TO = "to='pubsub.example.com'"


def pubsub(type_, action, ns=PS):
    return f"<iq type='{type_}' id='x' {TO}><pubsub xmlns='{ns}'>{action}</pubsub></iq>"


@pytest.mark.parametrize(("xml", "citation", "words"), [
    (pubsub("set", "<publish node='sensors'><item id='r1'><reading xmlns='urn:example:sensor'/></item></publish>"),
     "XEP-0060 §7.1", "every subscriber"),
    (pubsub("set", "<subscribe node='sensors' jid='romeo@example.net'/>"), "XEP-0060 §6.1", "subscribe"),
    (pubsub("set", "<unsubscribe node='sensors' jid='romeo@example.net'/>"), "XEP-0060 §6.2", "no more"),
    (pubsub("get", "<items node='sensors' max_items='2'/>"), "XEP-0060 §6.5", "2 newest"),
    (pubsub("set", "<retract node='sensors'><item id='r1'/></retract>"), "XEP-0060 §7.2", "'r1'"),
    (pubsub("set", "<create node='sensors'/>"), "XEP-0060 §8.1", "owns"),
    (pubsub("set", "<delete node='sensors'/>", f"{PS}#owner"), "XEP-0060 §8.4", "subscribers are told"),
    (pubsub("get", "<configure node='sensors'/>", f"{PS}#owner"), "XEP-0060 §8.2", "configuration"),
])
def test_each_request_names_its_use_case(xml, citation, words):
    e = explain(xml, direction="C→S")
    assert e.citation == citation, e
    assert words in e.text, e.text
    assert e.url.startswith("https://xmpp.org/extensions/xep-0060.html#")


def test_the_notification_says_one_message_goes_to_each_subscriber():
    e = explain("<message from='pubsub.example.com' to='romeo@example.net' type='headline' id='n1'>"
                f"<event xmlns='{PS}#event'><items node='sensors'><item id='r1'>"
                "<reading xmlns='urn:example:sensor' celsius='21.5'/></item></items></event></message>",
                direction="S→C")
    assert e.citation == "XEP-0060 §7.1.2.1"
    assert e.url.endswith("#publisher-publish-success-withpayload")
    assert "'r1'" in e.text and "'sensors'" in e.text and "each subscriber" in e.text
    assert "headline" not in e.topic and e.topic == "pubsub notification"


@pytest.mark.parametrize(("inner", "citation", "words"), [
    ("<items node='sensors'><retract id='r1'/></items>", "XEP-0060 §7.2.2.1", "deleted"),
    ("<delete node='sensors'/>", "XEP-0060 §8.4", "was deleted"),
    ("<purge node='sensors'/>", "XEP-0060 §8.5", "every item"),
])
def test_other_events(inner, citation, words):
    e = explain(f"<message from='pubsub.example.com' to='romeo@example.net'><event xmlns='{PS}#event'>{inner}"
                "</event></message>", direction="S→C")
    assert e.citation == citation and words in e.text, e


def test_the_answers_say_what_happened():
    published = explain(f"<iq type='result' id='x' from='pubsub.example.com'><pubsub xmlns='{PS}'>"
                        "<publish node='sensors'><item id='r1'/></publish></pubsub></iq>", direction="S→C")
    assert published.citation == "XEP-0060 §7.1.2" and "'r1'" in published.text
    items = explain(f"<iq type='result' id='x' from='pubsub.example.com'><pubsub xmlns='{PS}'>"
                    "<items node='sensors'><item id='r1'/><item id='r2'/></items></pubsub></iq>", direction="S→C")
    assert items.citation == "XEP-0060 §6.5" and "2 items" in items.text


def test_an_error_names_the_pubsub_condition_beside_the_defined_one():
    e = explain("<iq type='error' id='x' from='pubsub.example.com' to='romeo@example.net/orchard'>"
                "<error type='cancel' by='pubsub.example.com'>"
                "<not-allowed xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
                f"<closed-node xmlns='{PS}#errors'/></error></iq>", direction="S→C")
    assert "not-allowed" in e.text and "<closed-node/>, publish-subscribe's own error condition" in e.text
    assert e.citation == "RFC 6120 §8.3.3.10" and "XEP-0060" in e.labels
