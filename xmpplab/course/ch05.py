"""Chapter 05, IQ: requests and answers (RFC 6120 section 8.2.3), the roster (RFC 6121 section 2), ping (XEP-0199)."""

from ..jid import JID
from ..xml import NS_PING, NS_ROSTER, split_qname
from .core import exercise, same_account

IQ_TYPES = ("get", "set", "result", "error")
JULIET = JID("juliet@example.com")


def _payloads(el) -> list:
    return [child for child in el if isinstance(child.tag, str)]


@exercise("05.1", "Add the Nurse to Juliet's roster", stanza="iq")
def _(c, **context):
    """Changing something is an iq of type 'set' with an 'id'; the roster lives on Juliet's own server, so the iq needs
    no 'to'.

    The payload is <query xmlns='jabber:iq:roster'/> holding one <item/>: its 'jid' is the contact's bare JID and
    its 'name' what Juliet calls her.

    <iq type='set' id='add-nurse'><query xmlns='jabber:iq:roster'><item jid='nurse@example.com'
    name='Nurse'/></query></iq>"""
    c.value("type", "set", "type='set': it changes something",
            {"get": "type='get' only reads the roster; adding a contact changes it: type='set'",
             None: "an iq needs a 'type': here 'set', since it changes the roster"},
            "type='{}' is for answers; a request that changes something is type='set'")
    c.that(bool(c.el.get("id")), "it has an 'id', which the answer will carry",
           "an iq needs an 'id': the answer carries the same one, so the client knows what it answers "
           "(RFC 6120 section 8.2.3)")
    to = c.el.get("to")
    if to is not None:
        c.that(same_account(to, JULIET), f"to='{to}' is Juliet's own account, which is what no 'to' means too",
               f"leave out to='{to}': the roster is kept by Juliet's own server, so the request has no 'to'")
    children = _payloads(c.el)
    if len(children) != 1:
        c.fail(f"an iq set carries exactly one child element, not {len(children)} (RFC 6120 section 8.2.3)")
    query = c.child("query", NS_ROSTER)
    if query is None:
        return c
    items = [i for i in _payloads(query) if split_qname(i.tag) == (NS_ROSTER, "item")]
    if len(items) != 1:
        c.fail(f"a roster set holds exactly one <item/>, not {len(items)} (RFC 6121 section 2.1.5)")
        return c
    c.ok("the query holds one <item/>")
    item = items[0]
    if c.attribute("jid", "nurse@example.com", jid=True, el=item):
        c.that(JID(item.get("jid")).resource is None, "the jid is a bare JID, as roster items are",
               "a roster item is a bare JID, with no resource")
    c.attribute("name", "Nurse", el=item)
    sub = item.get("subscription")
    if sub is not None and sub != "remove":
        c.fail(f"leave out subscription='{sub}': the server keeps the subscription state itself; a client "
               "only sets subscription='remove', to delete an item (RFC 6121 section 2.1.2.5)")
    elif sub == "remove":
        c.fail("subscription='remove' deletes the item; to add the Nurse leave 'subscription' out")
    return c


@exercise("05.2", "Answer the server's ping", stanza="iq")
def _(c, **context):
    """Every get is answered exactly once, by a result or an error that carries the same 'id' (RFC 6120 section 8.2.3).

    The answer goes back to whoever asked: 'to' is the request's 'from'. A ping's result is empty (XEP-0199 section
    4.1).

    <iq type='result' id='s2c1' to='example.com'/>"""
    c.value("type", "result", "type='result': a successful answer",
            {**{t: f"type='{t}' would be a new request; an answer is type='result'" for t in ("get", "set")},
             "error": "type='error' says Juliet cannot answer; she can: type='result'"},
            "an answer needs type='result'")
    got_id = c.el.get("id")
    if got_id == "s2c1":
        c.ok("id='s2c1', the same id as the request")
    else:
        c.fail("the answer must carry the request's id, id='s2c1', or the server cannot match it "
               + ("(there is no 'id')" if got_id is None else f"(not '{got_id}')"))
    c.attribute("to", "example.com", jid=True)
    frm = c.el.get("from")
    if frm is not None and not same_account(frm, JULIET):
        c.fail(f"from='{frm}' is not Juliet: leave out 'from', her server stamps it")
    children = _payloads(c.el)
    if children:
        names = ", ".join(f"<{split_qname(ch.tag)[1]}/>" for ch in children)
        if any(split_qname(ch.tag) == (NS_PING, "ping") for ch in children):
            c.fail("a pong is an empty result: leave out <ping/> (XEP-0199 section 4.1)")
        else:
            c.fail(f"a ping's result is empty: leave out {names} (XEP-0199 section 4.1)")
    else:
        c.ok("it is empty, as a ping's result is")
    return c
