"""Chapter 07, Service discovery: disco#info and disco#items (XEP-0030)."""

from ..jid import JID
from ..xml import NS_DISCO_INFO, NS_DISCO_ITEMS, split_qname
from .core import Checker, exercise


def _disco_info_get(c: Checker) -> None:
    """An iq get with an 'id' holding one empty <query xmlns='...disco#info'/>."""
    c.value("type", "get", "type='get': a question",
            {"set": "type='set' would ask to change something; asking what an entity is and does is type='get'",
             None: "a question is an iq with type='get'"},
            "a question is an iq with type='get', not '{}'")
    c.has_id()
    children = [ch for ch in c.el if isinstance(ch.tag, str)]
    if any(split_qname(ch.tag) == (NS_DISCO_ITEMS, "query") for ch in children):
        c.fail("disco#items asks for the entity's items (services, rooms); what it is and what it supports "
               f"is disco#info: <query xmlns='{NS_DISCO_INFO}'/> (XEP-0030 section 3)")
        return
    query = c.child("query", NS_DISCO_INFO)
    if query is not None and len([ch for ch in query if isinstance(ch.tag, str)]):
        c.fail("the question is an empty <query/>: the identities and features come in the answer")
    if len(children) > 1:
        c.fail(f"an iq get carries exactly one child element, not {len(children)} (RFC 6120 section 8.2.3)")


@exercise("07.1", "What is example.com, and what can it do?", stanza="iq")
def _(c, **context):
    """It is a question, so an iq of type 'get' with an 'id', sent to the server's own address.

    The question is an empty <query/> in the namespace http://jabber.org/protocol/disco#info (XEP-0030 section 3.1).

    <iq type='get' to='example.com' id='info1'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>"""
    to = c.el.get("to")
    if to is None:
        c.fail("the iq needs to='example.com': with no 'to', the server answers for Juliet's own account, "
               "not for itself")
    else:
        c.attribute("to", "example.com", jid=True)
    _disco_info_get(c)
    return c


@exercise("07.2", "What does Romeo's client support?", stanza="iq")
def _(c, **context):
    """The question is the same disco#info as for the server; only the address changes.

    To reach a client, and not the server answering for the account, address the full JID, with the resource:
    romeo@example.net/orchard.

    <iq type='get' to='romeo@example.net/orchard' id='info2'><query
    xmlns='http://jabber.org/protocol/disco#info'/></iq>"""
    jid = c.address("to", "the iq needs to='romeo@example.net/orchard', the address of Romeo's client")
    if jid is None:
        pass
    elif jid.bare != JID("romeo@example.net"):
        c.fail(f"'to' should be Romeo's client, romeo@example.net/orchard, not '{c.el.get('to')}'")
    elif jid.resource is None:
        c.fail("romeo@example.net is his account, answered by his server; his client is the full "
               "JID with the resource: romeo@example.net/orchard")
    elif jid.resource != "orchard":
        c.fail(f"Romeo is logged in from 'orchard', not '{jid.resource}': romeo@example.net/orchard")
    else:
        c.ok("to='romeo@example.net/orchard', his client's full JID")
    _disco_info_get(c)
    return c
