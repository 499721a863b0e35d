"""Chapter 02, Streams: write the stream header a client opens with (02.1) and the resource binding request (02.2)."""

from __future__ import annotations

import re

from ..xml import (
    NS_BIND,
    NS_CLIENT,
    NS_STREAM,
    XMLInputError,
    parse_fragment,
    split_qname,
)
from .core import Checker, exercise

_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.DOTALL)
_START = re.compile(r"^\s*<\s*([A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?)")


def parse_stream_header(text, c: Checker):
    """Parse an opening ``<stream:stream ...>`` tag (never closed on the wire) into an element, or None."""
    if not isinstance(text, str):
        c.fail(f"write the stream header as text (a string), not {type(text).__name__}")
        return None
    text = _DECLARATION.sub("", text, count=1).strip()   # an XML declaration may come first (RFC 6120 §11.5)
    if not text:
        c.fail("the answer is empty: write the opening tag <stream:stream ...>")
        return None
    if "</stream:stream>" in text:
        text = text.replace("</stream:stream>", "").strip()
        c.ok("the closing </stream:stream> comes only at the very end of the session: leave it out here "
             "(accepted anyway)")
    if text.endswith("/>"):
        c.fail("a stream header is never closed: it opens an XML document that lasts the whole session, "
               "so end it with '>' and not '/>' (RFC 6120 §4.2)")
        return None
    name = _START.match(text)
    if name is None:
        c.fail("the answer should start with the opening tag <stream:stream ...>")
        return None
    try:
        el = parse_fragment(f"{text}</{name.group(1)}>", default_ns="")
    except XMLInputError as exc:
        if "prefix" in str(exc).lower():
            c.fail("the prefix 'stream' needs its declaration: xmlns:stream='http://etherx.jabber.org/streams' "
                   "(RFC 6120 §4.8.1)")
        else:
            c.fail(f"the header could not be read: {exc}")
        return None
    if len(el):
        c.fail("write only the stream header: what comes inside the stream (features, stanzas) comes later")
    return el


@exercise("02.1", "Open a stream to example.com")
def _(answer, **context):
    """Start from the first thing Juliet's client sent (the first C→S row of the stream view). It is an opening tag
    only: <stream:stream ...> with no </stream:stream>.

    It needs to='example.com' (the domain, not Juliet's JID), version='1.0', xmlns='jabber:client' and
    xmlns:stream='http://etherx.jabber.org/streams'.

    Leave out 'id': the server picks the stream id and sends it in its own header."""
    c = Checker()
    el = parse_stream_header(answer, c)
    if el is None:
        return c
    c.el = el
    if not c.element("stream", ns=NS_STREAM):
        return c
    to = el.get("to")
    if to is not None and "@" in to:
        c.fail(f"to='{to}' names a person; a stream goes to a server: to='example.com' (RFC 6120 §4.7.2)")
    else:
        c.attribute("to", "example.com", jid=True)
    version = el.get("version")
    if version is None:
        c.fail("add version='1.0': it says the client speaks XMPP 1.0 and expects stream features "
               "(RFC 6120 §4.7.5)")
    else:
        c.attribute("version", "1.0")
    c.that(el.nsmap.get(None) == NS_CLIENT,
           "the default namespace is jabber:client: the stanzas in this stream are client stanzas",
           "declare the content namespace: xmlns='jabber:client' (RFC 6120 §4.8.2)")
    c.no_attribute("id", "the server chooses the stream id, RFC 6120 §4.7.3")
    return c


@exercise("02.2", "Ask for the resource 'balcony'", stanza="iq")
def _(c, **context):
    """Resource binding is an <iq/> request; look at the C→S iq in Juliet's stream view.

    It changes something on the server, so its type is 'set'; like every iq it needs an 'id'.

    Inside: <bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>balcony</resource></bind>."""
    kind = c.el.get("type")
    if kind == "get":
        c.fail("type='get' only asks a question; binding a resource changes something: type='set' (RFC 6120 §7.7)")
    else:
        c.attribute("type", "set")
    if not c.el.get("id"):
        c.fail("an iq needs an 'id' (any value): the answer carries the same id, so the client can tell "
               "which request it answers (RFC 6120 §8.2.3)")
    else:
        c.ok(f"id='{c.el.get('id')}'")
    other = next((ch for ch in c.el if isinstance(ch.tag, str) and split_qname(ch.tag) == (NS_CLIENT, "bind")), None)
    if other is not None:
        c.fail("<bind/> needs its own namespace: <bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'> (RFC 6120 §7); "
               "without it the server does not know what the request is about")
        return c
    if c.el.find(f"{{{NS_BIND}}}bind") is None:
        c.fail("<iq/> needs a child <bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'> holding the resource "
               "(RFC 6120 §7.7)")
        return c
    bind = c.child("bind", NS_BIND)
    if bind is not None:
        c.child("resource", text="balcony", el=bind)
    return c
