"""XEP-0115 Entity Capabilities, as the server reads them: what a client's ``<c/>`` says it can do.

A client puts ``<c/>`` in its presence: a ``node`` naming the software, a
``ver`` hashing what it supports (its disco#info) and the ``hash`` function
(section 4)::

    <presence from='romeo@example.net/orchard'>
      <c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='https://slixmpp.com/'
         ver='QgayPKawpkPSDYmwT/WM94uAlu0='/></presence>

Whoever wants the features asks once per ``ver``: disco#info to the full JID
with ``node='<node>#<ver>'`` (6.2), checks that the answer hashes to ``ver``
(5.4, with the verification string of 5.1) and keeps it (8.2: a verified
``ver`` stands for the same features everywhere). An answer that does not hash
to ``ver``, or a hash this code does not know, is not cached for others; here
it still serves the one resource that sent it until that resource goes away.
Personal eventing (XEP-0163 4.2) reads ``<node>+notify`` features from it.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from ...xml import NS_DISCO_INFO

NS_CAPS = "http://jabber.org/protocol/caps"
NS_DATA = "jabber:x:data"
#: 5.1 step 1: the hash functions this code can check (the IANA names XEP-0115 uses).
HASHES = {"sha-1": hashlib.sha1, "sha-224": hashlib.sha224, "sha-256": hashlib.sha256,
          "sha-384": hashlib.sha384, "sha-512": hashlib.sha512, "md5": hashlib.md5}


@dataclass(frozen=True)
class Caps:
    """The ``<c/>`` of one presence (4): software ``node``, verification string hash ``ver``, ``hash`` name."""

    node: str
    ver: str
    hash: str | None = None

    @property
    def disco_node(self) -> str:
        """The node to ask disco#info about (6.2): ``<node>#<ver>``."""
        return f"{self.node}#{self.ver}"


def caps_of(presence) -> Caps | None:
    """The ``<c/>`` of a presence stanza, or None when it has none (or lacks node or ver)."""
    c = presence.find(f"{{{NS_CAPS}}}c")
    if c is None or not c.get("node") or not c.get("ver"):
        return None
    return Caps(c.get("node"), c.get("ver"), c.get("hash"))


def _form_string(form) -> str:
    """5.1 step 8: one extended form: FORM_TYPE, then each field by var with its values sorted."""
    fields = {}
    form_type = ""
    for field in form.findall(f"{{{NS_DATA}}}field"):
        var = field.get("var") or ""
        vals = sorted(v.text or "" for v in field.findall(f"{{{NS_DATA}}}value"))
        if var == "FORM_TYPE":
            form_type = vals[0] if vals else ""
        else:
            fields[var] = vals
    text = form_type + "<"
    for var in sorted(fields):
        text += var + "<" + "".join(v + "<" for v in fields[var])
    return text


def verification_string(query) -> str:
    """5.1: the string a disco#info answer hashes to: identities, features, then extended forms, each sorted."""
    identities = sorted("/".join((i.get("category") or "", i.get("type") or "",
                                  i.get("{http://www.w3.org/XML/1998/namespace}lang") or "", i.get("name") or ""))
                        for i in query.findall(f"{{{NS_DISCO_INFO}}}identity"))
    features = sorted(f.get("var") or "" for f in query.findall(f"{{{NS_DISCO_INFO}}}feature"))
    forms = []
    for form in query.findall(f"{{{NS_DATA}}}x"):
        if form.get("type") == "result":
            forms.append((next((f.findtext(f"{{{NS_DATA}}}value") or "" for f in form.findall(f"{{{NS_DATA}}}field")
                                if f.get("var") == "FORM_TYPE"), ""), _form_string(form)))
    return "".join(s + "<" for s in identities) + "".join(s + "<" for s in features) + \
        "".join(text for _, text in sorted(forms))


def ver_of(query, hash_name: str = "sha-1") -> str | None:
    """5.1 steps 9-10: the ``ver`` of a disco#info answer (base64 of the hash), None for an unknown hash."""
    function = HASHES.get(hash_name)
    if function is None:
        return None
    return base64.b64encode(function(verification_string(query).encode()).digest()).decode()


def verified(caps: Caps, query) -> bool:
    """5.4: whether the answer hashes to the ``ver`` the presence named (never for a legacy ``<c/>`` without hash)."""
    return caps.hash is not None and ver_of(query, caps.hash) == caps.ver


def features_of(query) -> frozenset[str]:
    """The feature vars of a disco#info answer."""
    return frozenset(f.get("var") for f in query.findall(f"{{{NS_DISCO_INFO}}}feature") if f.get("var"))


__all__ = ["Caps", "HASHES", "NS_CAPS", "caps_of", "features_of", "ver_of", "verification_string", "verified"]
