"""Chapter 09, Federation: the stanza as it crosses a server-to-server stream (09.1), and the error a
server returns for a domain it cannot reach (09.2)."""

from __future__ import annotations

from ..jid import JID, InvalidJID
from ..xml import NS_CLIENT, NS_SERVER, NS_STANZAS, XMLInputError, parse_fragment, split_qname
from .core import Checker, exercise

PC = JID("user1@server1.com/pc")
PHONE2 = JID("user3@server3.com/phone2")
NOWHERE = JID("user9@server9.com")
BODY = "Meet me on server3!"


def _parse(c: Checker, answer, default_ns: str):
    """Parse ``answer`` as it would be read on a stream whose default namespace is ``default_ns``."""
    if hasattr(answer, "element") and not isinstance(answer, str):  # a transcript Item
        answer = answer.element
    if isinstance(answer, (str, bytes)):
        try:
            c.el = parse_fragment(answer, default_ns=default_ns)
        except XMLInputError as exc:
            c.fail(f"the XML could not be read: {exc}")
    else:
        c.el = c.parse(answer)
    return c.el


def _jid(value):
    try:
        return JID(value)
    except (InvalidJID, TypeError):
        return None


def _body(c: Checker, expected: str) -> None:
    ns = split_qname(c.el.tag)[0]
    body = c.el.find(f"{{{ns}}}body")
    if body is None:
        c.fail(f"<message/> needs its <body/> child: the server forwards the words, <body>{expected}</body>")
    elif (body.text or "").strip() != expected:
        c.fail(f"the <body/> should still say '{expected}': servers route a message, they do not change "
               f"its words (it says '{(body.text or '').strip()}')")
    else:
        c.ok(f"<body>{expected}</body>, unchanged")


@exercise("09.1", "The message on the server-to-server stream")
def _(answer, **context):
    """Start from what pc wrote, then ask what server1.com adds before it hands the message on. Look at the cell that
    printed the same stanza on every stream it crossed.

    server1.com stamps 'from' with the full JID of the session the message came from (RFC 6120 §8.1.2.1), and
    between servers 'from' is required (§8.1.2.2). 'to', 'type' and the body stay as pc wrote them.

    <message from='user1@server1.com/pc' to='user3@server3.com/phone2' type='chat'><body>Meet me on
    server3!</body></message>"""
    c = Checker()
    if _parse(c, answer, NS_SERVER) is None:
        return c
    ns, name = split_qname(c.el.tag)
    if name != "message":
        c.fail(f"the element should be <message/>, not <{name}/>: the server forwards the stanza pc sent")
        return c
    if ns == NS_CLIENT:
        c.fail("between servers, stanzas are in the jabber:server namespace (it is the default namespace the "
               "server-to-server stream header declares, RFC 6120 §4.8.3): leave out xmlns='jabber:client'")
    elif ns != NS_SERVER:
        c.fail(f"<message/> should be in jabber:server on a server-to-server stream, not {ns or 'no namespace'}")
    else:
        c.ok("it is a <message/> (in jabber:server, the namespace of a server-to-server stream)")

    sender = c.el.get("from")
    got = _jid(sender)
    if sender is None:
        c.fail("it needs a 'from': on a server-to-server stream every stanza carries one (RFC 6120 §8.1.2.2), "
               "and server1.com wrote pc's full JID there")
    elif got is None:
        c.fail(f"'from' is not a valid address: '{sender}'")
    elif got == PC:
        c.ok(f"from='{sender}': server1.com stamped the full JID of pc's session (RFC 6120 §8.1.2.1)")
    elif got == PC.bare:
        c.fail(f"from='{sender}' is user1's bare JID; the server stamps the full JID of the session that sent "
               f"it, with the resource: {PC} (RFC 6120 §8.1.2.1)")
    elif got.local is None and got.domain == PC.domain:
        c.fail(f"from='{sender}' would say the server itself wrote the message; it comes from user1's pc: {PC}")
    else:
        c.fail(f"'from' should be '{PC}' (who sent it, stamped by server1.com), not '{sender}'")

    to = c.el.get("to")
    got = _jid(to)
    if to is None:
        c.fail(f"it needs to='{PHONE2}': server3.com routes by it")
    elif got == PHONE2:
        c.ok(f"to='{to}', as pc wrote it")
    elif got == PHONE2.bare:
        c.fail(f"'to' should stay '{PHONE2}', as pc wrote it: servers route by 'to', they do not change it")
    else:
        c.fail(f"'to' should be '{PHONE2}' (user3's phone2, the address pc wrote), not '{to}'")

    mtype = c.el.get("type")
    if mtype == "chat":
        c.ok("type='chat', as pc wrote it")
    elif mtype is None:
        c.fail("keep type='chat': the servers pass it on unchanged")
    else:
        c.fail(f"'type' should stay 'chat' as pc wrote it, not '{mtype}'")
    _body(c, BODY)
    return c


@exercise("09.2", "No server for server9.com")
def _(answer, **context):
    """An error stanza is the same kind of stanza as the one that failed, with type='error', and 'from' and 'to'
    swapped: it comes back 'from' the address pc wrote to (RFC 6120 §8.3.2).

    It keeps the id of pc's message, m9, so pc can tell which message failed (RFC 6120 §8.1.3). Inside goes <error
    type='cancel'> with the condition element, in the namespace urn:ietf:params:xml:ns:xmpp-stanzas (RFC 6120
    §8.3.2).

    <message from='user9@server9.com' to='user1@server1.com/pc' id='m9' type='error'><error
    type='cancel'><remote-server-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>"""
    c = Checker()
    if _parse(c, answer, NS_CLIENT) is None:
        return c
    if not c.element("message"):
        return c
    c.attribute("type", "error")
    sender, got = c.el.get("from"), _jid(c.el.get("from"))
    if sender is None:
        c.fail(f"it needs from='{NOWHERE}': an error comes back from the address the message was sent to")
    elif got is not None and got == NOWHERE:
        c.ok(f"from='{sender}': the error answers for the address pc wrote to")
    elif got is not None and got.domain == "server1.com":
        c.fail(f"from='{sender}': server1.com generates the error, but on behalf of the address that could not "
               f"be reached, so 'from' is '{NOWHERE}' (the 'to' of pc's message)")
    else:
        c.fail(f"'from' should be '{NOWHERE}' (the 'to' of pc's message), not '{sender}'")
    to, got = c.el.get("to"), _jid(c.el.get("to"))
    if to is None:
        c.fail(f"it needs to='{PC}': the error goes back to the session that sent the message")
    elif got == PC:
        c.ok(f"to='{to}': back to pc")
    elif got == PC.bare:
        c.fail(f"to='{to}' is user1's bare JID; the error goes back to the very session that sent the message, "
               f"{PC}")
    else:
        c.fail(f"'to' should be '{PC}' (pc, who sent the message), not '{to}'")
    c.attribute("id", "m9")
    ns = split_qname(c.el.tag)[0]
    error = c.el.find(f"{{{ns}}}error")
    if error is None:
        c.fail("<message/> needs an <error/> child that says what went wrong (RFC 6120 §8.3.2)")
        return c
    etype = error.get("type")
    if etype == "cancel":
        c.ok("<error type='cancel'>: do not retry, it cannot work")
    elif etype is None:
        c.fail("<error/> needs a 'type'; for remote-server-not-found it is 'cancel' (RFC 6120 §8.3.3.16)")
    else:
        c.fail(f"<error type='{etype}'> should be type='cancel': retrying cannot make an unknown domain "
               "reachable (RFC 6120 §8.3.3.16)")
    conditions = [child for child in error if isinstance(child.tag, str) and split_qname(child.tag)[1] != "text"]
    names = {split_qname(child.tag)[1]: child for child in conditions}
    if "remote-server-not-found" in names:
        cond_ns = split_qname(names["remote-server-not-found"].tag)[0]
        if cond_ns == NS_STANZAS:
            c.ok("<remote-server-not-found/> in urn:ietf:params:xml:ns:xmpp-stanzas (RFC 6120 §8.3.3.16)")
        else:
            c.fail(f"<remote-server-not-found/> must be in the namespace {NS_STANZAS}, not "
                   f"{cond_ns or 'no namespace'}: add xmlns='{NS_STANZAS}' to it")
    elif "remote-server-timeout" in names:
        c.fail("<remote-server-timeout/> means the server is known but did not answer in time; no server at all "
               "is known for server9.com: that is <remote-server-not-found/>")
    elif "service-unavailable" in names or "item-not-found" in names:
        c.fail("that condition would come from server9.com itself; here nobody could even reach server9.com: "
               "<remote-server-not-found/>")
    elif conditions:
        c.fail(f"the condition should be <remote-server-not-found/>, not <{split_qname(conditions[0].tag)[1]}/>")
    else:
        c.fail(f"<error/> needs the condition element: <remote-server-not-found xmlns='{NS_STANZAS}'/>")
    return c
