"""Chapter 03, Message: a headline for all of Romeo's sessions (03.1), the error for an unknown user (03.2)."""

from __future__ import annotations

from ..jid import JID, InvalidJID
from ..xml import NS_CLIENT, NS_STANZAS, split_qname
from .core import exercise

ROMEO = JID("romeo@example.net")
JULIET_BALCONY = JID("juliet@example.com/balcony")
MERCUTIO = JID("mercutio@example.com")
TYPES = ("chat", "error", "groupchat", "headline", "normal")
#: RFC 6120 section 8.3.2: what each error type tells the sender.
ERROR_TYPES = {"auth": "to retry after logging in", "continue": "it was only a warning",
               "modify": "to retry after changing the message", "wait": "to retry later"}


def _jid(value):
    try:
        return JID(value)
    except (InvalidJID, TypeError):
        return None


@exercise("03.1", "A notice for all of Romeo's devices", stanza="message")
def _(c, **context):
    """Which of the five types is for a notice that expects no reply? Look at the table of types.

    Every session should get it: address the person, not one device (a bare JID has no '/resource').

    <message to='romeo@example.net' type='headline'><body>The nurse is coming!</body></message>"""
    kind = c.el.get("type")
    if kind == "headline":
        c.ok("type='headline': a notice, no reply expected")
    elif kind is None:
        c.fail("without a type the message is 'normal', which may get a reply; a notice that needs none is "
               "type='headline' (RFC 6121 §5.2.2)")
    elif kind not in TYPES:
        c.fail(f"'{kind}' is not a message type; there are five: {', '.join(TYPES)} (RFC 6121 §5.2.2)")
    else:
        c.fail(f"type='{kind}' is not for a notice that needs no reply: that is type='headline' (RFC 6121 §5.2.2)")
    to = c.el.get("to")
    jid = _jid(to) if to is not None else None
    if to is None:
        c.fail("<message/> needs to='romeo@example.net'")
    elif jid is None:
        c.fail(f"to='{to}' is not a valid address")
    elif jid.bare != ROMEO:
        c.fail(f"'to' should be Romeo's address, romeo@example.net, not '{to}'")
    elif jid.resource is not None:
        c.fail(f"to='{to}' reaches one session only; the bare JID romeo@example.net lets his server deliver the "
               "headline to all of his sessions (RFC 6121 §8.5.2.1.1)")
    else:
        c.ok(f"to='{to}': the bare JID, so every session of Romeo's gets it")
    frm = c.el.get("from")
    if frm is not None and (_jid(frm) is None or _jid(frm).bare != JULIET_BALCONY.bare):
        c.fail(f"from='{frm}' is not Juliet: leave 'from' out, her server adds it (RFC 6120 §8.1.2.1)")
    c.child("body", text=True)
    return c


@exercise("03.2", "The error for a user who does not exist", stanza="message")
def _(c, **context):
    """An error is a message of type 'error' that goes back the way the message came: swap 'from' and 'to', and keep
    the 'id'.

    It goes to the session that sent the message, juliet@example.com/balcony, from the address Juliet wrote to.

    Inside: <error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>."""
    kind = c.el.get("type")
    if kind == "error":
        c.ok("type='error'")
    else:
        c.fail("add a 'type': an error is a message of its own type (RFC 6121 §5.2.2)" if kind is None else
               f"type='{kind}' is for a message that worked; a failure comes back as another type (RFC 6121 §5.2.2)")
    ident = c.el.get("id")
    if ident == "m7":
        c.ok("id='m7': Juliet's client can tell which message failed")
    else:
        c.fail(("add the 'id'" if ident is None else f"id='{ident}' is not right") +
               ": the error carries the id of the message that failed")
    frm = c.el.get("from")
    if frm is not None and _jid(frm) == JID("example.com"):
        c.ok("from='example.com': the server answers for the missing user (this server uses the address "
             "Juliet wrote to, mercutio@example.com)")
    elif frm is not None and _jid(frm) == MERCUTIO:
        c.ok(f"from='{frm}': the address Juliet wrote to")
    else:
        c.fail(("add 'from'" if frm is None else f"from='{frm}' is not right") +
               ": the error comes back from the address Juliet wrote to")
    to = c.el.get("to")
    if to is not None and _jid(to) == JULIET_BALCONY:
        c.ok(f"to='{to}': back to the session that sent the message")
    elif to is not None and _jid(to) == JULIET_BALCONY.bare:
        c.fail(f"to='{to}' is Juliet's bare JID; the error goes back to the session that sent the message, "
               "her full JID")
    else:
        c.fail(("add 'to'" if to is None else f"to='{to}' is not right") +
               ": the error goes back to the session that sent the message")
    error = c.el.find(f"{{{NS_CLIENT}}}error")
    if error is None:
        c.fail("add an <error/> child: it says what went wrong (RFC 6120 §8.3.2)")
        return c
    etype = error.get("type")
    if etype == "cancel":
        c.ok("<error type='cancel'>: do not retry, it cannot work (RFC 6120 §8.3.2)")
    elif etype is None:
        c.fail("<error/> needs type='cancel': it tells Juliet's client not to retry (RFC 6120 §8.3.2)")
    else:
        remedy = ERROR_TYPES.get(etype)
        said = f"says {remedy}" if remedy else "is not an error type (auth, cancel, continue, modify, wait)"
        c.fail(f"type='{etype}' {said}; nobody can fix a missing user: type='cancel' (RFC 6120 §8.3.2)")
    conditions = [ch for ch in error if isinstance(ch.tag, str) and split_qname(ch.tag)[1] != "text"]
    if not conditions:
        c.fail("<error/> needs a condition: <service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>")
        return c
    ns, name = split_qname(conditions[0].tag)
    if name != "service-unavailable":
        c.fail(f"the condition for a user who does not exist is <service-unavailable/>, not <{name}/> "
               "(RFC 6121 §8.5.1)")
    elif ns != NS_STANZAS:
        c.fail("<service-unavailable/> needs its namespace: xmlns='urn:ietf:params:xml:ns:xmpp-stanzas' "
               "(RFC 6120 §8.3.2)")
    else:
        c.ok("<service-unavailable/>: no such user here (RFC 6121 §8.5.1)")
    return c
