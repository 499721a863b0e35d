"""Masking SASL credentials (RFC 6120 section 6) in every view of a transcript.

A transcript keeps the raw text, credentials included; every text view and
export masks them unless the caller passes ``reveal_credentials=True``.
The decision is made from the payload itself, so it works the same on a
recording, an RFC example or a slixmpp log:

* PLAIN (RFC 4616) sends ``authzid NUL authcid NUL password`` in base64: the
  whole payload is replaced by :data:`MASK`::

      <auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGp1bGlldABzZWNyZXQ=</auth>
      <auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>[masked]</auth>

* SCRAM (RFC 5802) keeps what teaches: the client-first message (user name,
  client nonce) and the server-first message (combined nonce, salt, iteration
  count) stay as they are. The client proof ``p=`` and the server signature
  ``v=`` are replaced by ``[masked]`` and the message is base64-encoded again,
  so the payload still decodes: ``c=biws,r=...,p=[masked]``.
* Anything else with a payload (DIGEST-MD5, OAuth tokens, a payload that is
  not base64) is masked entirely: when in doubt, hide it.

Empty payloads and ``=`` (RFC 6120 section 6.4.2, an empty response) are left
alone. The elements looked at are ``<auth>``, ``<response>``, ``<challenge>``
and ``<success>`` in ``urn:ietf:params:xml:ns:xmpp-sasl``, and the payload
children of SASL2 (XEP-0388, ``urn:xmpp:sasl:2``): ``<initial-response>``,
``<response>``, ``<challenge>``, ``<additional-data>``.
"""

from __future__ import annotations

import base64
import binascii
import copy
import re

from ..ns import NS_SASL, NS_SASL2
from ..xml import split_qname

SASL_NAMESPACES = (NS_SASL, NS_SASL2)
MASK = "[masked]"

# Elements whose text is a SASL payload.
_PAYLOAD = {NS_SASL: {"auth", "response", "challenge", "success"},
            NS_SASL2: {"initial-response", "response", "challenge", "additional-data"}}
_PAYLOAD_NAMES = "|".join(sorted({n for names in _PAYLOAD.values() for n in names}, key=len, reverse=True))
# An open tag of a payload element followed by its text, inside the raw text of one SASL element.
_OPEN_TAG = re.compile(
    rf"<(?:[\w.-]+:)?(?:{_PAYLOAD_NAMES})(?=[\s/>])(?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*\s*>([^<]*)")

_GS2 = re.compile(r"^[nyp][^,]*,[^,]*,")  # client-first: gs2 header "n,," / "y,," / "p=tls-unique,,"
_SERVER_FIRST = re.compile(r"^(?:m=[^,]*,)?r=[^,]+,s=[^,]+,i=\d+")
_CLIENT_FINAL = re.compile(r"^(c=[^,]*,r=[^,]*(?:,[^,]*)*?,p=)[^,]*(.*)$", re.DOTALL)
_SERVER_FINAL = re.compile(r"^(v=)[^,]*(.*)$", re.DOTALL)


def mask_payload(payload: str) -> str:
    """Mask one SASL payload (the base64 text of an element); whitespace around it is kept.

    >>> mask_payload("AGp1bGlldABzZWNyZXQ=")       # PLAIN: \\0juliet\\0secret
    '[masked]'
    >>> mask_payload("biwsbj1qdWxpZXQscj1hYmM=")   # SCRAM client-first: n,,n=juliet,r=abc
    'biwsbj1qdWxpZXQscj1hYmM='
    >>> base64.b64decode(mask_payload(base64.b64encode(b"c=biws,r=abc,p=c2VjcmV0").decode()))
    b'c=biws,r=abc,p=[masked]'
    """
    core = payload.strip()
    if not core or core == "=" or core == MASK:
        return payload
    lead = payload[:len(payload) - len(payload.lstrip())]
    trail = payload[len(payload.rstrip()):]
    try:
        raw = base64.b64decode("".join(core.split()), validate=True)
        message = raw.decode("utf-8")
    except (binascii.Error, ValueError):
        return lead + MASK + trail
    if "\0" in message:  # PLAIN, or anything else carrying a NUL-separated password
        return lead + MASK + trail
    if _GS2.match(message) and ",n=" in message and ",r=" in message and ",p=" not in message.split(",n=", 1)[1]:
        return payload  # SCRAM client-first: user name and client nonce
    if _SERVER_FIRST.match(message):
        return payload  # SCRAM server-first: nonce, salt, iterations
    m = _CLIENT_FINAL.match(message) or _SERVER_FINAL.match(message)
    if m:
        masked = (m.group(1) + MASK + m.group(2)).encode("utf-8")
        return lead + base64.b64encode(masked).decode("ascii") + trail
    if message.startswith("e="):
        return payload  # SCRAM server-error: no secret in it
    return lead + MASK + trail


def is_sasl(element) -> bool:
    """True when the element is a SASL negotiation element (legacy or SASL2)."""
    return element is not None and isinstance(element.tag, str) and split_qname(element.tag)[0] in SASL_NAMESPACES


def mask_edits(raw: str) -> list[tuple[int, int, str]]:
    """Where to replace what in the raw text of one SASL element: ``[(start, end, replacement)]``."""
    edits = []
    for m in _OPEN_TAG.finditer(raw):
        payload = m.group(1)
        masked = mask_payload(payload)
        if masked != payload:
            edits.append((m.start(1), m.end(1), masked))
    return edits


def apply_edits(text: str, edits, offset: int = 0) -> str:
    """Apply ``(start, end, replacement)`` edits (sorted, not overlapping) whose positions are
    relative to ``offset``; edits reaching outside ``text`` are cut to it."""
    if not edits:
        return text
    out, pos, end_of_text = [], 0, len(text)
    for start, end, replacement in edits:
        s, e = start - offset, end - offset
        if e <= 0 or s >= end_of_text:
            continue
        if s >= 0:
            out.append(text[pos:s])
            out.append(replacement)  # the replacement goes where the payload starts
        else:
            out.append(text[pos:0])
        pos = max(pos, min(e, end_of_text))
    out.append(text[pos:])
    return "".join(out)


def mask_text(raw: str) -> str:
    """The raw text of one SASL element with its credentials masked."""
    return apply_edits(raw, mask_edits(raw))


def mask_element(element):
    """A copy of a SASL element with its credentials masked, or the element itself when nothing is secret."""
    targets = []
    for el in element.iter():
        if not isinstance(el.tag, str):
            continue
        ns, name = split_qname(el.tag)
        if name in _PAYLOAD.get(ns, ()) and el.text and mask_payload(el.text) != el.text:
            targets.append(el)
    if not targets:
        return element
    masked = copy.deepcopy(element)
    for el in masked.iter():
        if isinstance(el.tag, str) and el.text:
            ns, name = split_qname(el.tag)
            if name in _PAYLOAD.get(ns, ()):
                el.text = mask_payload(el.text)
    return masked
