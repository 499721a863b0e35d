"""The local and resource parts of a JID, prepared with PRECIS (RFC 7622 sections 3.3 and 3.4).

* Local part: the PRECIS ``UsernameCaseMapped`` profile (RFC 8265), minus the characters
  RFC 7622 section 3.3.1 forbids (``" & ' / : < > @``).
* Resource part: the PRECIS ``OpaqueString`` profile (RFC 8265).

Each ``prep_*`` function returns the canonical form or raises :class:`~xmpplab.jid_part.PartError`.
Plain ASCII takes a fast path that gives the same answer as the full rules (tests/test_jid_fast_paths.py compares
both for every ASCII character).
"""

from __future__ import annotations

import contextlib
import re

from precis_i18n import get_profile

from .jid_part import MAX_PART_BYTES, MAX_RAW_CHARS, PartError, check_length, describe

_USERNAME = get_profile("UsernameCaseMapped")
_OPAQUE = get_profile("OpaqueString")

# RFC 7622 section 3.3.1: allowed by PRECIS IdentifierClass but not in XMPP.
_LOCAL_FORBIDDEN = "\"&'/:<>@"
_LOCAL_FORBIDDEN_RE = re.compile("[" + re.escape(_LOCAL_FORBIDDEN) + "]")

# Fast paths. Each pattern accepts only strings for which the full PRECIS
# processing is known to give the same result as the cheap one.
#
# Local part: U+0021..U+007E are all PVALID in IdentifierClass ("ascii7"),
# and for ASCII the UsernameCaseMapped mappings reduce to A-Z -> a-z.
_LOCAL_FAST = re.compile(
    r"[\x21\x23-\x25\x28-\x2E\x30-\x39\x3B\x3D\x3F\x41-\x7E]{1,1023}"
)
# Resource part: printable ASCII and space are valid in FreeformClass and
# OpaqueString maps nothing in ASCII.
_RESOURCE_FAST = re.compile(r"[\x20-\x7E]{1,1023}")

_PRECIS_KIND_HINTS = {
    "spaces": "spaces are not allowed here",
    "symbols": "symbols are not allowed here",
    "punctuation": "this punctuation is not allowed here",
    "controls": "control characters are not allowed",
    "has_compat": "it is a compatibility variant of another character",
    "other_letter_digits": "this kind of letter or digit is not allowed here",
    "unassigned": "it is not assigned in this version of Unicode",
    "precis_ignorable_properties": "it is an invisible or noncharacter code point",
    "old_hangul_jamo": "old Hangul jamo are not allowed",
}
_PRECIS_DERIVED_KINDS = frozenset(
    {
        "exceptions",
        "backward_compatible",
        "other",
        "join_control",
        *_PRECIS_KIND_HINTS,
    }
)


def _offending_char(profile, raw: str, mapped: str, index: int) -> str:
    """The character the user typed that PRECIS rejected, if we can tell.

    PRECIS reports an offset into the *mapped* string (after width and case
    mapping and NFC). When mapping kept the length and the typed character
    maps to the reported one on its own, show the typed character.
    """
    ch = mapped[index]
    if len(raw) == len(mapped) and raw[index] != ch:
        with contextlib.suppress(UnicodeEncodeError):
            if profile.apply_five_rules(raw[index]) == ch:
                return raw[index]
    return ch


def _precis(part: str, profile, raw: str) -> str:
    """`raw` enforced by a PRECIS `profile` (RFC 8264 section 7), or a PartError saying in plain words why not."""
    try:
        return profile.enforce(raw)
    except UnicodeEncodeError as err:
        kind = err.reason.partition("/")[2]
        if kind == "empty":
            raise PartError(part, f"the {part} part is empty") from None
        if kind == "bidi_rule":
            raise PartError(
                part,
                f"the {part} part mixes right-to-left and left-to-right text "
                "in a way the bidirectional rule of RFC 5893 forbids",
            ) from None
        if kind == "not_idempotent":
            raise PartError(
                part, f"the {part} part changes when PRECIS rules are applied twice"
            ) from None
        if err.start < len(err.object):
            ch = _offending_char(profile, raw, err.object, err.start)
            if kind not in _PRECIS_DERIVED_KINDS:
                # A context rule (e.g. zero_width_joiner, middle_dot).
                raise PartError(
                    part,
                    f"the {part} part uses {describe(ch)} in a position "
                    "where PRECIS does not allow it",
                ) from None
            hint = _PRECIS_KIND_HINTS.get(kind)
            reason = f"the {part} part contains a character that PRECIS forbids: {describe(ch)}"
            if hint:
                reason += f" ({hint})"
            raise PartError(part, reason) from None
        raise PartError(
            part, f"the {part} part is not allowed by PRECIS ({err.reason})"
        ) from None


def local_slow(raw: str) -> str:
    """The local part by the full rules: PRECIS UsernameCaseMapped and RFC 7622 section 3.3.1."""
    if not raw:
        raise PartError("local", "the local part is empty")
    m = _LOCAL_FORBIDDEN_RE.search(raw)
    if m:
        raise PartError("local", f"the local part contains {m.group()!r}, which is not allowed")
    if len(raw) > MAX_RAW_CHARS:
        raise PartError("local", f"the local part is longer than {MAX_PART_BYTES} bytes")
    value = _precis("local", _USERNAME, raw)
    m = _LOCAL_FORBIDDEN_RE.search(value)
    if m:
        # Only reachable through width mapping, e.g. U+FF20 FULLWIDTH COMMERCIAL AT.
        ch = _offending_char(_USERNAME, raw, value, m.start())
        raise PartError(
            "local",
            f"the local part contains {describe(ch)}, which becomes "
            f"{m.group()!r}, and that is not allowed",
        )
    check_length("local", value)
    return value


def prep_local(raw: str) -> str:
    """The canonical local part (RFC 7622 section 3.3): plain ASCII lower-cased, anything else by the full rules."""
    if _LOCAL_FAST.fullmatch(raw):
        return raw.lower()
    return local_slow(raw)


def resource_slow(raw: str) -> str:
    """The resource part by the full rules: PRECIS OpaqueString (RFC 7622 section 3.4)."""
    if not raw:
        raise PartError("resource", "the resource part is empty")
    if len(raw) > MAX_RAW_CHARS:
        raise PartError("resource", f"the resource part is longer than {MAX_PART_BYTES} bytes")
    value = _precis("resource", _OPAQUE, raw)
    check_length("resource", value)
    return value


def prep_resource(raw: str) -> str:
    """The canonical resource part (RFC 7622 section 3.4): printable ASCII as it is, anything else by the full rules."""
    if _RESOURCE_FAST.fullmatch(raw):
        return raw
    return resource_slow(raw)
