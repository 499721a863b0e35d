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
local part and the rest is the domain part. Then (the domain part is prepared in
:mod:`xmpplab.jid_domain`, the local and resource parts in :mod:`xmpplab.jid_precis`):

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

from .display import Shown
from .jid_domain import prep_domain
from .jid_part import MAX_PART_BYTES as MAX_PART_BYTES  # kept importable from here
from .jid_part import PartError, shorten
from .jid_precis import prep_local, prep_resource

__all__ = ["JID", "InvalidJID", "account_jid", "parse_jid", "is_valid_jid"]

_PARTS = ("local", "domain", "resource", "jid")


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
        super().__init__(f"invalid JID {shorten(jid)!r}: {reason}")

    def __reduce__(self):
        return (type(self), (self.jid, self.part, self.reason))


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
            prepared = prep_resource(resource)
        except PartError as err:
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
        local = prep_local(local)
    if domain is None:
        raise PartError("domain", "the domain part is missing")
    domain = prep_domain(domain)
    if resource is not None:
        resource = prep_resource(resource)
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
    except PartError as err:
        return _Failure(err.part, err.reason)


_parse = functools.lru_cache(maxsize=16384)(_parse_uncached)


@functools.lru_cache(maxsize=4096)
def _build(local: str | None, domain: str | None, resource: str | None) -> JID | _Failure:
    try:
        return _prepare(local, domain, resource)
    except PartError as err:
        return _Failure(err.part, err.reason)


def parse_jid(s: str) -> JID:
    """Parse and normalise an XMPP address; the same as ``JID(s)``."""
    return JID(s)


def account_jid(user, domain: str | None = None, hint: str = "an account looks like juliet@example.com") -> JID:
    """An account's address from ``user`` (``juliet@example.com``, or ``juliet`` with ``domain``): InvalidJID when it
    is not a valid address, a ValueError ending with ``hint`` when it has no user part (RFC 7622 3.3)."""
    address = user if domain is None or "@" in str(user) else f"{user}@{domain}"
    jid = JID(address)
    if jid.local is None:
        raise ValueError(f"{address!r} has no user part: {hint}")
    return jid


def is_valid_jid(s: object) -> bool:
    """True if `s` is a string that is a valid XMPP address (or a JID)."""
    if isinstance(s, JID):
        return True
    if not isinstance(s, str):
        return False
    return not isinstance(_parse(s), _Failure)
