"""What a negotiator hands back: text to send, and actions for whoever owns the connection.

A negotiator never touches a socket. Each call returns a list, in order, of
:class:`Send` (text for the wire) and actions (start TLS, reset the parser,
run a password hash, bind a resource, close with a stream error…). The
caller performs them in that order: ``<proceed/>`` must leave before the TLS
handshake starts, ``<success/>`` before the parser is reset.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Send:
    """Write ``data`` to the peer (text; the caller encodes it as UTF-8)."""

    data: str


@dataclass(frozen=True, slots=True)
class StartTLS:
    """Upgrade the connection to TLS now (RFC 6120 5.4.3.3); then call ``tls_established()``."""


@dataclass(frozen=True, slots=True)
class Restart:
    """Reset the stream parser: the peer's next bytes are a new stream header (RFC 6120 4.3.3)."""


@dataclass(frozen=True, slots=True)
class Hash:
    """Run ``func(*args)`` (CPU-heavy, such as PBKDF2: off the event loop if there is one), then give
    its result to the server negotiator's ``hashed()``."""

    func: Callable
    args: tuple


@dataclass(frozen=True, slots=True)
class SASLFailed:
    """A SASL attempt failed with ``condition`` (RFC 6120 6.5); the ``<failure/>`` is already in the output."""

    condition: str
    text: str | None = None


@dataclass(frozen=True, slots=True)
class Authenticated:
    """SASL succeeded (RFC 6120 6.4.6): ``username`` logged in with ``mechanism``."""

    username: str
    mechanism: str


@dataclass(frozen=True, slots=True)
class PreAuth:
    """An iq the server handles before authentication (XEP-0077 registration): answer it."""

    element: object


@dataclass(frozen=True, slots=True)
class Bind:
    """The client asks to bind ``resource`` ("" when it lets the server choose, RFC 6120 7.6): decide,
    then call ``bound(iq, jid)`` or ``refuse_bind(iq, condition)``."""

    iq: object
    resource: str


@dataclass(frozen=True, slots=True)
class Stanza:
    """A stanza after negotiation: route it."""

    element: object


@dataclass(frozen=True, slots=True)
class Close:
    """Close the stream, with a stream error first when ``condition`` is given (RFC 6120 4.4, 4.9)."""

    condition: str | None = None
    text: str | None = None


@dataclass(frozen=True, slots=True)
class Ready:
    """The client's negotiation is done: ``jid`` is bound (None when only the stream was opened)."""

    jid: str | None


@dataclass(frozen=True, slots=True)
class Failed:
    """The client's negotiation failed; ``reason`` is one sentence."""

    reason: str


# --- server-to-server streams (RFC 6120 sections 5, 6 and 13; XEP-0220 Server Dialback) ---------------------
@dataclass(frozen=True, slots=True)
class CheckKey:
    """Ask ``originating``'s authoritative server whether ``key`` is its dialback key for this stream
    (XEP-0220 2.1.2, over a connection of the caller's own); then call ``key_checked(..., valid)``."""

    originating: str
    receiving: str
    stream_id: str
    key: str


@dataclass(frozen=True, slots=True)
class Validated:
    """Stanzas from ``originating`` to ``receiving`` may now flow on this stream (XEP-0220 2.1.4, RFC 6120 6.4.6);
    with ``bidi`` (XEP-0288), stanzas from ``receiving`` to ``originating`` too, the other way on the same stream."""

    originating: str
    receiving: str
    bidi: bool = False


@dataclass(frozen=True, slots=True)
class Verdict:
    """The authoritative server answered our ``<db:verify/>``: the key is ``valid`` or not (XEP-0220 2.1.3)."""

    valid: bool


@dataclass(frozen=True, slots=True)
class GiveUp:
    """The remote server refused this stream: bounce what waits for it with ``condition`` (RFC 6120 8.3.3)."""

    condition: str
    text: str
