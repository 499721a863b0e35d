"""The domain part of a JID (RFC 7622 section 3.2): an IP literal, or a domain name checked with IDNA2008.

One trailing dot is removed first. An IP literal (``[::1]``, ``127.0.0.1``) is kept as written, except
that hexadecimal digits are lower-cased. Otherwise the name is mapped with UTS #46 and checked label by
label with IDNA2008 (the ``idna`` package); the canonical form uses U-labels (section 3.2.1).
:func:`prep_domain` returns that form or raises :class:`~xmpplab.jid_part.PartError`; a plain ASCII
name takes a fast path that gives the same answer (tests/test_jid_fast_paths.py compares both).
"""

from __future__ import annotations

import ipaddress
import re

import idna

from .jid_part import MAX_PART_BYTES, MAX_RAW_CHARS, PartError, check_length, describe, shorten

# Fast path: LDH labels that start and end with a letter or digit. Labels
# with "--" anywhere (A-labels, reserved positions) take the full path.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DOMAIN_FAST = re.compile(rf"(?:{_LABEL}\.)*{_LABEL}")

_IDNA_REASONS = {
    "empty_label": "the domain part has an empty label (two dots in a row, or a leading dot)",
    "label_too_long": "the domain part has a label longer than 63 bytes",
    "hyphen_3_4": "the domain part has a label with '--' in the third and fourth positions, "
    "which is reserved for A-labels",
    "hyphen_start_end": "the domain part has a label that starts or ends with '-'",
    "leading_combiner": "the domain part has a label that starts with a combining mark",
    "invalid_alabel": "the domain part has a malformed A-label ('xn--...')",
    "non_canonical_alabel": "the domain part has an A-label ('xn--...') that is not "
    "in canonical Punycode form",
    "invalid_ascii": "the domain part has a malformed A-label ('xn--...')",
    "input_too_long": f"the domain part is longer than {MAX_PART_BYTES} bytes",
    "domain_too_long": f"the domain part is longer than {MAX_PART_BYTES} bytes",
}


def _idna_reason(err: idna.IDNAError) -> str:
    """What an IDNA2008 error means, in plain words for the domain part."""
    code = getattr(err, "code", None)
    codepoint = getattr(err, "codepoint", None)
    if code in ("disallowed_codepoint", "uts46_disallowed", "uts46_std3") and codepoint is not None:
        return (
            "the domain part contains a character that is not allowed in domain "
            f"names: {describe(chr(codepoint))}"
        )
    if code in ("contextj", "contexto") and codepoint is not None:
        return (
            f"the domain part uses {describe(chr(codepoint))} in a position "
            "where IDNA2008 does not allow it"
        )
    if code and code.startswith("bidi"):
        return (
            "the domain part mixes right-to-left and left-to-right text in a way "
            "the bidirectional rule of RFC 5893 forbids"
        )
    if code in _IDNA_REASONS:
        return _IDNA_REASONS[code]
    return f"the domain part is not a valid domain name ({err})"


def _ip_literal(raw: str) -> str | None:
    """Canonical IP-literal domain, None if `raw` is not an IP literal."""
    if raw.startswith("["):
        inner = raw[1:-1] if raw.endswith("]") else None
        if not inner or "%" in inner or not inner.isascii():
            raise PartError(
                "domain", "the domain part is not a valid IPv6 literal such as '[::1]'"
            )
        try:
            ipaddress.IPv6Address(inner)
        except ValueError:
            raise PartError(
                "domain", "the domain part is not a valid IPv6 literal such as '[::1]'"
            ) from None
        return "[" + inner.lower() + "]"
    if raw.isascii() and raw[:1].isdigit() and raw[-1:].isdigit():
        try:
            ipaddress.IPv4Address(raw)
        except ValueError:
            return None
        return raw
    return None


def domain_slow(raw: str) -> str:
    """Full RFC 7622 section 3.2 processing (trailing dot already removed)."""
    if not raw:
        raise PartError("domain", "the domain part is empty")
    for ch in "@/":
        if ch in raw:
            raise PartError("domain", f"the domain part contains {ch!r}, which is not allowed")
    if len(raw) > MAX_RAW_CHARS:
        raise PartError("domain", f"the domain part is longer than {MAX_PART_BYTES} bytes")
    literal = _ip_literal(raw)
    if literal is not None:
        return literal
    try:
        mapped = idna.uts46_remap(raw, std3_rules=True)
        labels = []
        for label in mapped.split("."):
            if not label:
                raise PartError("domain", _IDNA_REASONS["empty_label"])
            # alabel() checks the label against IDNA2008 and the 63-octet
            # limit of its DNS form; ulabel() turns it back into a U-label
            # (and checks that an 'xn--' label is canonical).
            try:
                labels.append(idna.ulabel(idna.alabel(label)))
            except idna.IDNAError as err:
                codepoint = getattr(err, "codepoint", None)
                if label.startswith("xn--") and codepoint is not None:
                    raise PartError(
                        "domain",
                        f"the domain part has an A-label ({shorten(label, 40)!r}) that "
                        f"decodes to {describe(chr(codepoint))}, which is not allowed "
                        "in domain names",
                    ) from None
                raise
    except idna.IDNAError as err:
        raise PartError("domain", _idna_reason(err)) from None
    value = ".".join(labels)
    check_length("domain", value)
    return value


def prep_domain(raw: str) -> str:
    """The canonical domain part (RFC 7622 section 3.2): plain LDH names lower-cased, the rest by the full rules."""
    # RFC 7622 section 3.2: strip one trailing dot before anything else.
    if raw.endswith("."):
        raw = raw[:-1]
    if (
        len(raw) <= MAX_PART_BYTES
        and _DOMAIN_FAST.fullmatch(raw)
        and "--" not in raw
    ):
        return raw.lower()
    return domain_slow(raw)
