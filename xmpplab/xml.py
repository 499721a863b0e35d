"""XML helpers shared by the server, the client recorder and the transcript tools.

Element builders (namespaces are defined in :mod:`xmpplab.ns`; the core ones are
re-exported here), a serializer that writes stanzas the way they
look inside a stream (no repeated ``xmlns='jabber:client'``), and parsing of
a single XML fragment typed by a person (a notebook cell, a test) with the
same restrictions the stream parser applies (RFC 6120 section 11.1).
"""

from __future__ import annotations

import re

from lxml import etree

# Namespaces live in xmpplab.ns; the core ones are re-exported here for older imports.
from .ns import (  # noqa: F401 - re-exported (above)
    NS_BIND,
    NS_CLIENT,
    NS_COMPONENT,
    NS_DELAY,
    NS_DIALBACK,
    NS_DIALBACK_FEATURE,
    NS_DISCO_INFO,
    NS_DISCO_ITEMS,
    NS_OFFLINE,
    NS_PING,
    NS_REGISTER,
    NS_REGISTER_FEATURE,
    NS_ROSTER,
    NS_SASL,
    NS_SERVER,
    NS_SESSION,
    NS_STANZAS,
    NS_STREAM,
    NS_STREAMS,
    NS_TLS,
    NS_VERSION,
    NS_XML,
)

STANZA_KINDS = ("message", "presence", "iq")


def xml_attr(value: str) -> str:
    """Escape text for an attribute in single quotes (or for character data)."""
    return value.replace("&", "&amp;").replace("'", "&apos;").replace("<", "&lt;")


def qname(ns: str, name: str) -> str:
    """Clark notation ``{ns}name`` as lxml uses it."""
    return f"{{{ns}}}{name}"


def split_qname(tag: str) -> tuple[str, str]:
    """``{ns}name`` -> ``(ns, name)``; a tag without namespace gives ``("", name)``."""
    if tag[:1] == "{":
        ns, _, name = tag[1:].partition("}")
        return ns, name
    return "", tag


def local_name(tag) -> str:
    """The name of an element without its namespace (``message`` for ``{jabber:client}message``)."""
    if not isinstance(tag, str):  # comments and processing instructions
        return ""
    return tag.rpartition("}")[2]


def child_text(el, name: str) -> str | None:
    """The text of ``el``'s first child called ``name`` (any namespace), stripped; None when absent or empty.

    ``child_text(presence, "show")`` is ``"away"`` for ``<presence><show>away</show></presence>``.
    """
    if el is None:
        return None
    for child in el:
        if isinstance(child.tag, str) and child.tag.rpartition("}")[2] == name:
            return (child.text or "").strip() or None
    return None


def _nsmap_for(tag: str) -> dict:
    """Declare a tag's namespace as the default one (``<x xmlns='ns'/>``), or as ``stream:``."""
    ns = split_qname(tag)[0]
    if ns == NS_STREAM:
        return {"stream": NS_STREAM}
    return {None: ns} if ns else {}


def element(tag: str, attrs: dict | None = None, *, ns: str = NS_CLIENT, text: str | None = None,
            children: list | None = None):
    """Build an element: ``element("iq", {"type": "result", "id": "a1"})`` is an iq in jabber:client.

    A tag already in Clark notation keeps its namespace. Attributes whose value is
    None are left out.
    """
    tag = tag if tag[:1] == "{" else qname(ns, tag)
    el = _fill(etree.Element(tag, nsmap=_nsmap_for(tag)), attrs, text)
    for child in children or ():
        el.append(child)
    return el


def sub(parent, tag: str, attrs: dict | None = None, *, ns: str | None = None, text: str | None = None):
    """Add a child element; without ``ns`` it inherits the parent's namespace."""
    if tag[:1] != "{":
        tag = qname(ns if ns is not None else split_qname(parent.tag)[0], tag)
    if split_qname(tag)[0] == split_qname(parent.tag)[0]:
        el = etree.SubElement(parent, tag)
    else:
        el = etree.SubElement(parent, tag, nsmap=_nsmap_for(tag))
    return _fill(el, attrs, text)


def _fill(el, attrs: dict | None, text: str | None):
    """Set the attributes whose value is not None, and the text; returns ``el``."""
    for key, value in (attrs or {}).items():
        if value is not None:
            el.set(key, str(value))
    if text is not None:
        el.text = text
    return el


_DEFAULT_DECLS = {ns: f' xmlns="{ns}"' for ns in (NS_CLIENT, NS_SERVER, NS_COMPONENT)}


def serialize(el, stream_ns: str | None = NS_CLIENT) -> str:
    """Serialise an element as it appears inside a stream whose default namespace is ``stream_ns``.

    ``<message xmlns="jabber:client" to="...">`` becomes ``<message to="...">`` inside a
    jabber:client stream, as every server writes it. Inside a jabber:server stream
    (server-to-server) the same stanza is written without the declaration too, so it and
    its content take the stream's jabber:server namespace (RFC 6120 4.8.3); a nested element
    that declares its own namespace (a forwarded message, say) keeps it.
    """
    text = etree.tostring(el, encoding=str)
    ns, name = split_qname(el.tag)
    if ns == NS_STREAM:  # <stream:features>, <stream:error>: the prefix is declared on the stream header
        return text.replace(f' xmlns:stream="{NS_STREAM}"', "", 1)
    if ns in _DEFAULT_DECLS and stream_ns in _DEFAULT_DECLS:
        decl = _DEFAULT_DECLS[ns]
        prefix_len = 1 + len(name)
        if text.startswith(decl, prefix_len):
            text = text[:prefix_len] + text[prefix_len + len(decl):]
    return text


def to_namespace(el, ns: str):
    """The same stanza with its content namespace swapped (jabber:server <-> jabber:client).

    A stanza that arrives over a server-to-server stream is in jabber:server; inside the
    server every stanza is handled in jabber:client.
    """
    old_ns, name = split_qname(el.tag)
    if old_ns == ns or old_ns not in _DEFAULT_DECLS:
        return el
    text = etree.tostring(el, encoding=str)
    decl = _DEFAULT_DECLS[old_ns]
    prefix_len = 1 + len(name)
    if not text.startswith(decl, prefix_len):
        return el
    text = text[:prefix_len] + _DEFAULT_DECLS[ns] + text[prefix_len + len(decl):]
    return etree.fromstring(text, _FRAGMENT_PARSER)


class XMLInputError(ValueError):
    """A fragment of XML typed by a person could not be used; the message says why."""


_FRAGMENT_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                                   huge_tree=False, remove_comments=False, remove_pis=False)


def parse_fragment(text: str | bytes, default_ns: str = NS_CLIENT):
    """Parse one element typed by a person, e.g. ``"<message to='romeo@example.net'/>"``.

    Elements without a namespace get ``default_ns`` (as they would inside a stream).
    Comments, processing instructions, DTDs and entity references are refused as the
    stream would refuse them (RFC 6120 section 11.1), with a readable error.
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    stripped = text.strip()
    if not stripped:
        raise XMLInputError("the XML is empty")
    if "<!DOCTYPE" in stripped or "<!ENTITY" in stripped:
        raise XMLInputError("XMPP forbids DTDs and entity declarations (RFC 6120 section 11.1)")
    wrapper = f'<wrapper xmlns="{default_ns}">{stripped}</wrapper>'
    try:
        root = etree.fromstring(wrapper.encode("utf-8"), _FRAGMENT_PARSER)
    except etree.XMLSyntaxError as exc:
        # The position refers to our wrapper element, not to what the person typed: leave it out.
        msg = re.sub(r",? line \d+, column \d+", "", str(exc.msg))
        raise XMLInputError(f"the XML is not well-formed: {msg}") from None
    for node in root.iter():
        if not isinstance(node.tag, str):
            raise XMLInputError("XMPP forbids comments and processing instructions (RFC 6120 section 11.1)")
        if isinstance(node, etree._Entity):
            raise XMLInputError("XMPP forbids entity references other than the five predefined ones")
    children = list(root)
    if len(children) != 1 or (root.text or "").strip() or (children[0].tail or "").strip():
        raise XMLInputError("expected exactly one XML element")
    import copy
    el = copy.deepcopy(children[0])
    el.tail = None
    return el
