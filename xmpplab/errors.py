"""Stream errors (RFC 6120 section 4.9) and stanza errors (RFC 6120 section 8.3).

A server feature raises :class:`StanzaError` and the hook machinery turns it
into the error reply; the connection layer sends :func:`stream_error` and
closes when the peer breaks the stream rules.
"""

from __future__ import annotations

from lxml import etree

from .xml import NS_CLIENT, NS_STANZAS, NS_STREAM, NS_STREAMS, element, qname, sub

#: RFC 6120 section 8.3.3: each defined condition and the error type it usually has.
STANZA_CONDITIONS = {
    "bad-request": "modify",
    "conflict": "cancel",
    "feature-not-implemented": "cancel",
    "forbidden": "auth",
    "gone": "cancel",
    "internal-server-error": "cancel",
    "item-not-found": "cancel",
    "jid-malformed": "modify",
    "not-acceptable": "modify",
    "not-allowed": "cancel",
    "not-authorized": "auth",
    "policy-violation": "modify",
    "recipient-unavailable": "wait",
    "redirect": "modify",
    "registration-required": "auth",
    "remote-server-not-found": "cancel",
    "remote-server-timeout": "wait",
    "resource-constraint": "wait",
    "service-unavailable": "cancel",
    "subscription-required": "auth",
    "undefined-condition": "cancel",
    "unexpected-request": "wait",
}

#: RFC 6120 section 4.9.3: the stream error conditions.
STREAM_CONDITIONS = frozenset({
    "bad-format", "bad-namespace-prefix", "conflict", "connection-timeout", "host-gone",
    "host-unknown", "improper-addressing", "internal-server-error", "invalid-from",
    "invalid-namespace", "invalid-xml", "not-authorized", "not-well-formed", "policy-violation",
    "remote-connection-failed", "reset", "resource-constraint", "restricted-xml", "see-other-host",
    "system-shutdown", "undefined-condition", "unsupported-encoding", "unsupported-feature",
    "unsupported-stanza-type", "unsupported-version",
})


class StanzaError(Exception):
    """Raise from a feature handler to answer the stanza with an error.

    >>> raise StanzaError("item-not-found", text="no such room")   # doctest: +SKIP
    """

    def __init__(self, condition: str, text: str | None = None, type: str | None = None):
        if condition not in STANZA_CONDITIONS:
            raise ValueError(f"{condition!r} is not a stanza error condition of RFC 6120 section 8.3.3")
        self.condition = condition
        self.text = text
        self.type = type or STANZA_CONDITIONS[condition]
        super().__init__(f"{condition}" + (f": {text}" if text else ""))


def error_element(condition: str, text: str | None = None, type: str | None = None, ns: str = NS_CLIENT):
    """``<error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>``."""
    err = element("error", {"type": type or STANZA_CONDITIONS[condition]}, ns=ns)
    sub(err, qname(NS_STANZAS, condition))
    if text:
        t = sub(err, qname(NS_STANZAS, "text"), text=text)
        t.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
    return err


def error_reply(stanza, condition: str, text: str | None = None, type: str | None = None, by: str | None = None):
    """The error answer to ``stanza`` (RFC 6120 section 8.3.1): same kind and id, from and to swapped."""
    ns = stanza.tag[1:].partition("}")[0] if stanza.tag[:1] == "{" else NS_CLIENT
    reply = element(stanza.tag)
    for key in ("id", "xml:lang"):
        if stanza.get(key) is not None:
            reply.set(key, stanza.get(key))
    if stanza.get("from"):
        reply.set("to", stanza.get("from"))
    if stanza.get("to"):
        reply.set("from", stanza.get("to"))
    reply.set("type", "error")
    err = error_element(condition, text, type, ns=ns)
    if by:
        err.set("by", by)
    reply.append(err)
    return reply


def stream_error(condition: str, text: str | None = None) -> str:
    """The serialised ``<stream:error>`` element (RFC 6120 section 4.9.2)."""
    if condition not in STREAM_CONDITIONS:
        raise ValueError(f"{condition!r} is not a stream error condition of RFC 6120 section 4.9.3")
    err = etree.Element(qname(NS_STREAM, "error"), nsmap={"stream": NS_STREAM})
    etree.SubElement(err, qname(NS_STREAMS, condition), nsmap={None: NS_STREAMS})
    if text:
        t = etree.SubElement(err, qname(NS_STREAMS, "text"), nsmap={None: NS_STREAMS})
        t.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
        t.text = text
    return etree.tostring(err, encoding=str).replace(
        ' xmlns:stream="http://etherx.jabber.org/streams"', "", 1)
