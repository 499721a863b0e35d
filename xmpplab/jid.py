"""XMPP addresses (JIDs) as defined by RFC 7622, using PRECIS (not stringprep).

An XMPP address, or JID, has up to three parts (RFC 7622, section 3.1)::

    juliet@example.com/balcony
    ^^^^^^ ^^^^^^^^^^^ ^^^^^^^
    local   domain     resource

* The **domain part** names the server (or a service on it). It is the only
  part every JID has: ``example.com`` on its own is a valid JID.
* The **local part** names an account or entity on that server, such as the
  user ``juliet``. It is optional; a JID without one is a *domain JID*
  (``example.com``, ``conference.example.com``).
* The **resource part** names one particular connection, device or session
  of that account, here Juliet's client on the ``balcony``. It is optional.

A JID without a resource, ``juliet@example.com``, is a **bare JID**: it means
"Juliet, wherever she is logged in". With a resource,
``juliet@example.com/balcony`` is a **full JID**: one specific session. A
server routes a message sent to a bare JID to one or more of the account's
sessions; a message sent to a full JID goes to that session only.

How each part is checked and normalised
---------------------------------------

``JID(text)`` splits the text as RFC 7622 section 3.1 says: everything after
the first ``/`` is the resource (so a resource may itself contain ``/`` and
``@``), and in what comes before it, everything before the first ``@`` is the
local part and the rest is the domain part. Then:

* Domain part (RFC 7622 section 3.2): one trailing dot is removed first
  (``example.com.`` is ``example.com``). An IP literal (``[::1]``,
  ``127.0.0.1``) is kept as written, except that hexadecimal digits are
  lower-cased. Otherwise the name is mapped with UTS #46 (which lower-cases
  it) and checked label by label with IDNA2008 (the ``idna`` package). The
  canonical form uses **U-labels**, as section 3.2.1 requires: an A-label
  such as ``xn--exmple-cua.com`` is converted to ``exämple.com``, and
  ``EXÄMPLE.com`` becomes ``exämple.com`` too. Each label may be at most 63
  bytes in its A-label (DNS) form and the whole part at most 1023 bytes.
* Local part (RFC 7622 section 3.3): the PRECIS ``UsernameCaseMapped``
  profile (RFC 8265), which maps full-width letters to normal ones,
  lower-cases, and applies Unicode NFC; symbols, spaces and compatibility
  characters are rejected. Section 3.3.1 also forbids
  ``" & ' / : < > @``. 1 to 1023 bytes.
* Resource part (RFC 7622 section 3.4): the PRECIS ``OpaqueString`` profile,
  which keeps case, maps non-ASCII spaces to an ASCII space and applies NFC;
  control characters are rejected. 1 to 1023 bytes.

An absent part is ``None`` (never ``""``): ``JID("example.com").local is
None``. An *empty* part, as in ``juliet@example.com/``, is an error.
Anything invalid raises :class:`InvalidJID`, a :class:`ValueError` whose
``part`` and ``reason`` say what is wrong::

    >>> JID("juliet@example.com/")
    Traceback (most recent call last):
      ...
    xmpplab.jid.InvalidJID: invalid JID 'juliet@example.com/': the resource part is empty

Equality and hashing
--------------------

Two JIDs are equal when their canonical forms are equal, so
``JID("Juliet@Example.COM") == JID("juliet@example.com")``. A JID also
compares equal to a string that parses to the same address (an invalid string
just compares unequal). ``hash(jid)`` is ``hash(str(jid))``, so a JID and its
*canonical* string hash alike, but a non-canonical string such as
``"Juliet@Example.COM"`` does not: keep one kind of key in a dict or set.

Speed
-----

A server parses a JID for every stanza, so parsing is cached
(``functools.lru_cache``, keyed by the input text, 16384 entries), and parts
made only of plain ASCII take a fast path that skips PRECIS and IDNA. The
fast path accepts only inputs for which the full rules provably give the
same answer (for example, ASCII letters are only lower-cased); anything else
goes through the full rules.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import unicodedata

import idna
from precis_i18n import get_profile

from .display import Shown

__all__ = ["JID", "InvalidJID", "parse_jid", "is_valid_jid"]

#: Longest allowed local, domain or resource part, in UTF-8 bytes (RFC 7622).
MAX_PART_BYTES = 1023

_PARTS = ("local", "domain", "resource", "jid")

_USERNAME = get_profile("UsernameCaseMapped")
_OPAQUE = get_profile("OpaqueString")

# RFC 7622 section 3.3.1: allowed by PRECIS IdentifierClass but not in XMPP.
_LOCAL_FORBIDDEN = "\"&'/:<>@"
_LOCAL_FORBIDDEN_RE = re.compile("[" + re.escape(_LOCAL_FORBIDDEN) + "]")

# Fast paths. Each pattern accepts only strings for which the full PRECIS /
# IDNA processing is known to give the same result as the cheap one (the
# tests compare both paths for every ASCII character).
#
# Local part: U+0021..U+007E are all PVALID in IdentifierClass ("ascii7"),
# and for ASCII the UsernameCaseMapped mappings reduce to A-Z -> a-z.
_LOCAL_FAST = re.compile(
    r"[\x21\x23-\x25\x28-\x2E\x30-\x39\x3B\x3D\x3F\x41-\x7E]{1,1023}"
)
# Resource part: printable ASCII and space are valid in FreeformClass and
# OpaqueString maps nothing in ASCII.
_RESOURCE_FAST = re.compile(r"[\x20-\x7E]{1,1023}")
# Domain part: LDH labels that start and end with a letter or digit. Labels
# with "--" anywhere (A-labels, reserved positions) take the full path.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DOMAIN_FAST = re.compile(rf"(?:{_LABEL}\.)*{_LABEL}")

# Guard against spending time on absurdly long input: NFC composes at most a
# handful of characters into one, so an input of more than 4 * 1023
# characters cannot shrink to 1023 bytes.
_MAX_RAW_CHARS = 4 * MAX_PART_BYTES

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


class InvalidJID(ValueError):
    """A string (or set of parts) that is not a valid XMPP address.

    Attributes:
        jid: the text that was rejected (for keyword construction, the parts
            joined as ``local@domain/resource``).
        part: which part is wrong: ``"local"``, ``"domain"``, ``"resource"``,
            or ``"jid"`` for the address as a whole.
        reason: what is wrong, in plain English, e.g.
            ``"the resource part is empty"``.
    """

    def __init__(self, jid: str, part: str, reason: str) -> None:
        if part not in _PARTS:
            raise ValueError(f"unknown JID part {part!r}")
        self.jid = jid
        self.part = part
        self.reason = reason
        super().__init__(f"invalid JID {_shorten(jid)!r}: {reason}")

    def __reduce__(self):
        return (type(self), (self.jid, self.part, self.reason))


def _shorten(text: str, limit: int = 80) -> str:
    if len(text) <= limit:
        return text
    return text[: limit - 21] + "\u2026" + text[-20:]


def _describe(ch: str) -> str:
    """``U+0020 SPACE`` style description of one character."""
    name = unicodedata.name(ch, None)
    if name is None:
        category = unicodedata.category(ch)
        name = {
            "Cc": "<control>",
            "Cn": "<unassigned>",
            "Co": "<private use>",
            "Cs": "<surrogate>",
        }.get(category, "<unnamed>")
    return f"U+{ord(ch):04X} {name}"


class _PartError(Exception):
    """Internal: a part failed; carries (part, reason)."""

    def __init__(self, part: str, reason: str) -> None:
        super().__init__(part, reason)
        self.part = part
        self.reason = reason


# --------------------------------------------------------------------------
# Per-part preparation. Each returns the canonical form or raises _PartError.
# --------------------------------------------------------------------------


def _check_length(part: str, value: str) -> None:
    # A str of n characters has at most 4n UTF-8 bytes: skip encoding short ones.
    if len(value) * 4 > MAX_PART_BYTES and len(value.encode("utf-8")) > MAX_PART_BYTES:
        raise _PartError(part, f"the {part} part is longer than {MAX_PART_BYTES} bytes")


def _offending_char(profile, raw: str, mapped: str, index: int) -> str:
    """The character the user typed that PRECIS rejected, if we can tell.

    PRECIS reports an offset into the *mapped* string (after width and case
    mapping and NFC). When mapping kept the length and the typed character
    maps to the reported one on its own, show the typed character.
    """
    ch = mapped[index]
    if len(raw) == len(mapped) and raw[index] != ch:
        try:
            if profile.apply_five_rules(raw[index]) == ch:
                return raw[index]
        except UnicodeEncodeError:
            pass
    return ch


def _precis(part: str, profile, raw: str) -> str:
    try:
        return profile.enforce(raw)
    except UnicodeEncodeError as err:
        kind = err.reason.partition("/")[2]
        if kind == "empty":
            raise _PartError(part, f"the {part} part is empty") from None
        if kind == "bidi_rule":
            raise _PartError(
                part,
                f"the {part} part mixes right-to-left and left-to-right text "
                "in a way the bidirectional rule of RFC 5893 forbids",
            ) from None
        if kind == "not_idempotent":
            raise _PartError(
                part, f"the {part} part changes when PRECIS rules are applied twice"
            ) from None
        if err.start < len(err.object):
            ch = _offending_char(profile, raw, err.object, err.start)
            if kind not in _PRECIS_DERIVED_KINDS:
                # A context rule (e.g. zero_width_joiner, middle_dot).
                raise _PartError(
                    part,
                    f"the {part} part uses {_describe(ch)} in a position "
                    "where PRECIS does not allow it",
                ) from None
            hint = _PRECIS_KIND_HINTS.get(kind)
            reason = f"the {part} part contains a character that PRECIS forbids: {_describe(ch)}"
            if hint:
                reason += f" ({hint})"
            raise _PartError(part, reason) from None
        raise _PartError(
            part, f"the {part} part is not allowed by PRECIS ({err.reason})"
        ) from None


def _local_slow(raw: str) -> str:
    if not raw:
        raise _PartError("local", "the local part is empty")
    m = _LOCAL_FORBIDDEN_RE.search(raw)
    if m:
        raise _PartError("local", f"the local part contains {m.group()!r}, which is not allowed")
    if len(raw) > _MAX_RAW_CHARS:
        raise _PartError("local", f"the local part is longer than {MAX_PART_BYTES} bytes")
    value = _precis("local", _USERNAME, raw)
    m = _LOCAL_FORBIDDEN_RE.search(value)
    if m:
        # Only reachable through width mapping, e.g. U+FF20 FULLWIDTH COMMERCIAL AT.
        ch = _offending_char(_USERNAME, raw, value, m.start())
        raise _PartError(
            "local",
            f"the local part contains {_describe(ch)}, which becomes "
            f"{m.group()!r}, and that is not allowed",
        )
    _check_length("local", value)
    return value


def _prep_local(raw: str) -> str:
    if _LOCAL_FAST.fullmatch(raw):
        return raw.lower()
    return _local_slow(raw)


def _resource_slow(raw: str) -> str:
    if not raw:
        raise _PartError("resource", "the resource part is empty")
    if len(raw) > _MAX_RAW_CHARS:
        raise _PartError("resource", f"the resource part is longer than {MAX_PART_BYTES} bytes")
    value = _precis("resource", _OPAQUE, raw)
    _check_length("resource", value)
    return value


def _prep_resource(raw: str) -> str:
    if _RESOURCE_FAST.fullmatch(raw):
        return raw
    return _resource_slow(raw)


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
    code = getattr(err, "code", None)
    codepoint = getattr(err, "codepoint", None)
    if code in ("disallowed_codepoint", "uts46_disallowed", "uts46_std3") and codepoint is not None:
        return (
            "the domain part contains a character that is not allowed in domain "
            f"names: {_describe(chr(codepoint))}"
        )
    if code in ("contextj", "contexto") and codepoint is not None:
        return (
            f"the domain part uses {_describe(chr(codepoint))} in a position "
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
            raise _PartError(
                "domain", "the domain part is not a valid IPv6 literal such as '[::1]'"
            )
        try:
            ipaddress.IPv6Address(inner)
        except ValueError:
            raise _PartError(
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


def _domain_slow(raw: str) -> str:
    """Full RFC 7622 section 3.2 processing (trailing dot already removed)."""
    if not raw:
        raise _PartError("domain", "the domain part is empty")
    for ch in "@/":
        if ch in raw:
            raise _PartError("domain", f"the domain part contains {ch!r}, which is not allowed")
    if len(raw) > _MAX_RAW_CHARS:
        raise _PartError("domain", f"the domain part is longer than {MAX_PART_BYTES} bytes")
    literal = _ip_literal(raw)
    if literal is not None:
        return literal
    try:
        mapped = idna.uts46_remap(raw, std3_rules=True)
        labels = []
        for label in mapped.split("."):
            if not label:
                raise _PartError("domain", _IDNA_REASONS["empty_label"])
            # alabel() checks the label against IDNA2008 and the 63-octet
            # limit of its DNS form; ulabel() turns it back into a U-label
            # (and checks that an 'xn--' label is canonical).
            try:
                labels.append(idna.ulabel(idna.alabel(label)))
            except idna.IDNAError as err:
                codepoint = getattr(err, "codepoint", None)
                if label.startswith("xn--") and codepoint is not None:
                    raise _PartError(
                        "domain",
                        f"the domain part has an A-label ({_shorten(label, 40)!r}) that "
                        f"decodes to {_describe(chr(codepoint))}, which is not allowed "
                        "in domain names",
                    ) from None
                raise
    except idna.IDNAError as err:
        raise _PartError("domain", _idna_reason(err)) from None
    value = ".".join(labels)
    _check_length("domain", value)
    return value


def _prep_domain(raw: str) -> str:
    # RFC 7622 section 3.2: strip one trailing dot before anything else.
    if raw.endswith("."):
        raw = raw[:-1]
    if (
        len(raw) <= MAX_PART_BYTES
        and _DOMAIN_FAST.fullmatch(raw)
        and "--" not in raw
    ):
        return raw.lower()
    return _domain_slow(raw)


# --------------------------------------------------------------------------
# The JID class
# --------------------------------------------------------------------------


class _Failure:
    """What the caches store for invalid input (exceptions are not cached)."""

    __slots__ = ("part", "reason")

    def __init__(self, part: str, reason: str) -> None:
        self.part = part
        self.reason = reason


def _join(local: str | None, domain: str | None, resource: str | None) -> str:
    text = domain or ""
    if local is not None:
        text = f"{local}@{text}"
    if resource is not None:
        text = f"{text}/{resource}"
    return text


class JID(Shown):
    """An XMPP address, normalised per RFC 7622. Immutable and hashable.

    Construct it from text or from parts::

        JID("juliet@example.com/balcony")
        JID(local="juliet", domain="example.com", resource="balcony")
        JID(other_jid)            # an equal JID (the same object)

    Attributes:
        local: the local part (``"juliet"``), or ``None`` if there is none.
        domain: the domain part (``"example.com"``); never ``None``.
        resource: the resource part (``"balcony"``), or ``None``.

    Raises:
        InvalidJID: the text or a part is not valid.
        TypeError: the argument is not a str or JID, or text and keyword
            parts are mixed.
    """

    __slots__ = ("local", "domain", "resource", "_str", "_bare")

    local: str | None
    domain: str
    resource: str | None

    def __new__(
        cls,
        jid: str | JID | None = None,
        *,
        local: str | None = None,
        domain: str | None = None,
        resource: str | None = None,
    ) -> JID:
        if jid is not None:
            if local is not None or domain is not None or resource is not None:
                raise TypeError("JID() takes either a string or keyword parts, not both")
            if isinstance(jid, JID):
                if type(jid) is cls:
                    return jid
                return cls._from_parts(jid.local, jid.domain, jid.resource)
            if not isinstance(jid, str):
                raise TypeError(f"JID() argument must be a str or JID, not {type(jid).__name__}")
            result = _parse(jid)
            if isinstance(result, _Failure):
                raise InvalidJID(jid, result.part, result.reason)
        else:
            if local is None and domain is None and resource is None:
                raise TypeError("JID() needs a string or at least domain=...")
            for name, value in (("local", local), ("domain", domain), ("resource", resource)):
                if value is not None and not isinstance(value, str):
                    raise TypeError(f"JID() {name}= must be a str or None, not {type(value).__name__}")
            result = _build(local, domain, resource)
            if isinstance(result, _Failure):
                raise InvalidJID(_join(local, domain, resource), result.part, result.reason)
        if type(result) is not cls:
            result = cls._from_parts(result.local, result.domain, result.resource)
        return result

    @classmethod
    def _from_parts(cls, local: str | None, domain: str, resource: str | None) -> JID:
        """Make a JID from parts that are already canonical. No checks."""
        self = object.__new__(cls)
        setattr_ = object.__setattr__
        setattr_(self, "local", local)
        setattr_(self, "domain", domain)
        setattr_(self, "resource", resource)
        setattr_(self, "_str", _join(local, domain, resource))
        setattr_(self, "_bare", None)
        return self

    # -- immutability ------------------------------------------------------

    def __setattr__(self, name, value):
        raise AttributeError("JID objects are immutable; use with_resource() or build a new JID")

    def __delattr__(self, name):
        raise AttributeError("JID objects are immutable")

    def __reduce__(self):
        return (type(self), (self._str,))

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    # -- views ---------------------------------------------------------------

    @property
    def bare(self) -> JID:
        """This JID without its resource: ``juliet@example.com``."""
        if self.resource is None:
            return self
        bare = self._bare
        if bare is None:
            bare = self._from_parts(self.local, self.domain, None)
            object.__setattr__(self, "_bare", bare)
        return bare

    @property
    def full(self) -> str:
        """The whole canonical address as a string (same as ``str(jid)``)."""
        return self._str

    @property
    def is_bare(self) -> bool:
        """True if there is no resource part."""
        return self.resource is None

    @property
    def is_full(self) -> bool:
        """True if there is a resource part."""
        return self.resource is not None

    @property
    def is_domain(self) -> bool:
        """True if there is no local part (``example.com``, ``example.com/x``)."""
        return self.local is None

    def with_resource(self, resource: str | None) -> JID:
        """This JID with its resource replaced (``None`` removes it)."""
        if resource is None:
            return self.bare
        if not isinstance(resource, str):
            raise TypeError(f"resource must be a str or None, not {type(resource).__name__}")
        try:
            prepared = _prep_resource(resource)
        except _PartError as err:
            raise InvalidJID(_join(self.local, self.domain, resource), err.part, err.reason) from None
        return self._from_parts(self.local, self.domain, prepared)

    # -- protocols -----------------------------------------------------------

    def __str__(self) -> str:
        return self._str

    def __repr__(self) -> str:
        return f"JID({self._str!r})"

    def __eq__(self, other) -> bool:
        if isinstance(other, JID):
            return self._str == other._str
        if isinstance(other, str):
            if other == self._str:
                return True
            parsed = _parse(other)
            return not isinstance(parsed, _Failure) and parsed._str == self._str
        return NotImplemented

    def __ne__(self, other) -> bool:
        result = self.__eq__(other)
        if result is NotImplemented:
            return result
        return not result

    def __hash__(self) -> int:
        return hash(self._str)


# --------------------------------------------------------------------------
# Parsing and caches
# --------------------------------------------------------------------------


def _prepare(local: str | None, domain: str | None, resource: str | None) -> JID:
    """Check and normalise raw parts (local, domain, resource order)."""
    if local is not None:
        local = _prep_local(local)
    if domain is None:
        raise _PartError("domain", "the domain part is missing")
    domain = _prep_domain(domain)
    if resource is not None:
        resource = _prep_resource(resource)
    return JID._from_parts(local, domain, resource)


def _parse_uncached(text: str) -> JID | _Failure:
    """Split per RFC 7622 section 3.1 and prepare each part."""
    if not text:
        return _Failure("jid", "the JID is empty; it needs at least a domain part")
    slash = text.find("/")
    if slash >= 0:
        head, resource = text[:slash], text[slash + 1 :]
    else:
        head, resource = text, None
    at = head.find("@")
    if at >= 0:
        local, domain = head[:at], head[at + 1 :]
    else:
        local, domain = None, head
    try:
        return _prepare(local, domain, resource)
    except _PartError as err:
        return _Failure(err.part, err.reason)


_parse = functools.lru_cache(maxsize=16384)(_parse_uncached)


@functools.lru_cache(maxsize=4096)
def _build(local: str | None, domain: str | None, resource: str | None) -> JID | _Failure:
    try:
        return _prepare(local, domain, resource)
    except _PartError as err:
        return _Failure(err.part, err.reason)


def parse_jid(s: str) -> JID:
    """Parse and normalise an XMPP address; the same as ``JID(s)``."""
    return JID(s)


def is_valid_jid(s: object) -> bool:
    """True if `s` is a string that is a valid XMPP address (or a JID)."""
    if isinstance(s, JID):
        return True
    if not isinstance(s, str):
        return False
    return not isinstance(_parse(s), _Failure)
