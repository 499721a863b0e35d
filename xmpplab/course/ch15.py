"""Chapter 15, Live data beyond chat: publish-subscribe (XEP-0060) for sensor readings and game moves."""

from ..jid import JID
from ..xml import NS_CLIENT, split_qname
from .core import Checker, Result, exercise, settle

PUBSUB = "http://jabber.org/protocol/pubsub"
SERVICE = "pubsub.example.com"
BENVOLIO = "benvolio@example.net"


def _publish(c: Checker, node: str) -> None:
    """The <pubsub/> of an iq set holds <publish node=…> with one <item/> holding one payload (XEP-0060 7.1)."""
    pubsub = c.child("pubsub", PUBSUB)
    if pubsub is None:
        return
    if pubsub.find(f"{{{PUBSUB}}}subscribe") is not None:
        c.fail("<subscribe/> asks to *receive* a node's items; to send one, the action is <publish node='…'/>")
        return
    publish = c.child("publish", el=pubsub)
    if publish is None:
        return
    c.attribute("node", node, el=publish)
    items = publish.findall(f"{{{PUBSUB}}}item")
    if not items:
        c.fail("<publish/> needs an <item/>: the item is what the service stores and sends on (XEP-0060 7.1.1)")
        return
    if len(items) > 1:
        c.fail("publish one <item/> at a time; each publish is one item (XEP-0060 7.1.3.6)")
        return
    payloads = [p for p in items[0] if isinstance(p.tag, str)]
    if len(payloads) != 1:
        c.fail("the <item/> holds exactly one payload element, such as <move xmlns='urn:example:chess'>e2e4</move>"
               + ("" if payloads else "; this one is empty"))
        return
    ns = split_qname(payloads[0].tag)[0]
    if ns in (NS_CLIENT, PUBSUB, ""):
        c.fail("give the payload a namespace of its own (xmlns='urn:example:chess'): it is your application's "
               "data, not part of XMPP or of pubsub")
    else:
        c.ok(f"the item carries one <{split_qname(payloads[0].tag)[1]}/> in its own namespace, {ns}")


@exercise("15.1", "Publish a chess move", stanza="iq")
def _(c, **context):
    """Publishing changes something on the service, so it is an iq of type 'set' with an 'id', sent to
    pubsub.example.com.

    Inside: <pubsub xmlns='http://jabber.org/protocol/pubsub'> holding <publish node='chess'>, which holds one
    <item id='move-1'>, which holds your payload in a namespace of your own.

    <iq type='set' to='pubsub.example.com' id='m1'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish
    node='chess'><item id='move-1'><move xmlns='urn:example:chess'>e2e4</move></item></publish></pubsub></iq>"""
    c.value("type", "set", "type='set': publishing changes the node",
            {"get": "type='get' asks for something; publishing changes the node, so the iq has type='set'",
             None: "a request that changes something is an iq with type='set'"},
            "a request that changes something is an iq with type='set', not '{}'")
    c.has_id()
    to = c.address("to", "the iq goes to the publish-subscribe service: to='pubsub.example.com'")
    if to is not None:
        if to.local is None and to.domain == "example.com":
            c.fail("example.com is the server itself; the pubsub service has an address of its own, "
                   "pubsub.example.com (its disco#items lists it)")
        elif to.domain != SERVICE or to.local is not None:
            c.fail(f"'to' should be the pubsub service, pubsub.example.com, not '{c.el.get('to')}': the service "
                   "sends the move on to every subscriber, so you need not know who they are")
        else:
            c.ok("to='pubsub.example.com', the publish-subscribe service")
    _publish(c, "chess")
    return c


@exercise("15.2", "Benvolio joins the greenhouse feed", live=True)
async def _(answer=None, *, lab=None, **context):
    """Benvolio logs in first: benvolio = await lab.connect('benvolio@example.net/square').

    He subscribes with an iq set to pubsub.example.com: <pubsub xmlns='http://jabber.org/protocol/pubsub'> holding
    <subscribe node='greenhouse' jid='benvolio@example.net'/> (XEP-0060 6.1). The jid is his own address.

    await benvolio.iq("<iq type='set' to='pubsub.example.com'><pubsub xmlns='http://jabber.org/protocol/pubsub'>"
    "<subscribe node='greenhouse' jid='benvolio@example.net'/></pubsub></iq>")"""
    if lab is None:
        return Result("15.2", False, [(False, "this check looks at the Lab: write await acheck('15.2', lab=lab)")])
    try:
        server = lab.server_for("example.com")
    except ValueError:
        return Result("15.2", False, [(False, "this Lab does not serve example.com; start it with "
                                              "lab = await xmpplab.Lab.start()")])
    where = _where(server)
    snapshot = await settle(lambda: _subscribed(server.snapshot(), *where))
    if _node(server.snapshot(), *where[:2]) is None:
        return Result("15.2", False, [(False, "there is no node 'greenhouse' on pubsub.example.com yet: run the "
                                              "cells above that create it")])
    if snapshot:
        return Result("15.2", True, [(True, f"{snapshot} is subscribed to 'greenhouse': every reading published "
                                            "there now reaches him too")])
    return Result("15.2", False, [(False, "benvolio is not subscribed to 'greenhouse' yet: he sends <subscribe "
                                          "node='greenhouse' jid='benvolio@example.net'/> inside <pubsub/> to "
                                          "pubsub.example.com")])


def _where(server) -> tuple[str, str, str]:
    """The service, the greenhouse node and Benvolio as the server names them: on a class server, the student's
    (``pubsub.class.example``, ``student07.greenhouse``, ``student07.benvolio@class.example``)."""
    names = getattr(server, "names", None)
    if names is None:
        return SERVICE, "greenhouse", BENVOLIO
    return names.real(SERVICE), names.node("greenhouse"), names.real(BENVOLIO)


def _node(snapshot, service: str, name: str):
    return next((node for s in snapshot.pubsub if s.domain == service for node in s.nodes if node.name == name), None)


def _subscribed(snapshot, service: str, name: str, benvolio: str) -> str | None:
    """Benvolio's subscribed JID (bare or full) on the greenhouse node, or None."""
    node = _node(snapshot, service, name)
    if node is None:
        return None
    return next((jid for jid in node.subscribers if JID(jid).bare == JID(benvolio)), None)
