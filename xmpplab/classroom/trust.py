"""Which certificate the class server may show a student's kernel (its TLS connections are pinned).

``xmpplab classroom`` prints its certificate's SHA-256 fingerprint and the handout carries it, in the
line that connects a notebook (``XMPPLAB_FINGERPRINT=sha256:AB:CD:…``, or
``use_class(..., fingerprint="sha256:…")``). Every TLS connection the kernel makes to the class server
(the student's own login, and each upstream leg of the Lab's recording proxy) is checked against it,
before any password crosses (:mod:`xmpplab.pinning`). Without a fingerprint given:

* a class server on **loopback** runs on this very machine, where nobody on the school network can sit in
  between: its first certificate is accepted and remembered for the kernel's life (trust on first use),
  and every later connection must show the same one;
* a class server **off loopback** is refused, with one sentence giving the fingerprint it showed and how
  to give the handout's: the student compares the two, which is the whole point of printing it.
"""

from __future__ import annotations

import os

from ..pinning import mismatch, normalise
from .accounts import ClassroomError

ENV_FINGERPRINT = "XMPPLAB_FINGERPRINT"
_first_seen: dict[str, str] = {}  # loopback class server -> the certificate this kernel saw first
_given: dict[str, str] = {}  # class server -> fingerprint given with use_class()


def where(server: str) -> tuple[str, int]:
    """(host, port) of a class server written ``HOST`` or ``HOST:PORT`` (IPv6 in brackets); 5222 by default."""
    host, colon, port = server.rpartition(":")
    if not colon or "]" in port:
        return server.strip("[]"), 5222
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ClassroomError(f"the class server is HOST or HOST:PORT, not {server!r}")
    return host.strip("[]"), int(port)


def given_fingerprint(text: str | None, source: str = "the fingerprint") -> str | None:
    """``text`` as ``AB:CD:…`` (None stays None); a ClassroomError in one sentence when it is not a fingerprint."""
    if text is None or not str(text).strip():
        return None
    try:
        return normalise(text)
    except ValueError as exc:
        raise ClassroomError(f"{source}: {exc}") from None


def remember(server: str, fingerprint: str | None) -> None:
    """Keep the fingerprint given for ``server`` (by :func:`~xmpplab.classroom.use_class`); None forgets it."""
    if fingerprint is None:
        _given.pop(server, None)
    else:
        _given[server] = fingerprint


def forget_fingerprints() -> None:
    """Forget every fingerprint given with use_class() (the certificates seen first stay remembered)."""
    _given.clear()


def expected(server: str) -> str | None:
    """The fingerprint given for ``server``: with use_class(), else XMPPLAB_FINGERPRINT when it names this server."""
    if server in _given:
        return _given[server]
    if os.environ.get("XMPPLAB_SERVER") == server:
        return given_fingerprint(os.environ.get(ENV_FINGERPRINT), ENV_FINGERPRINT)
    return None


class ClassCertificate:
    """The certificate check for one class server (a check of :mod:`xmpplab.pinning`); keeps its last refusal."""

    def __init__(self, server: str, fingerprint: str | None = None):
        self.server = server
        self.fingerprint = given_fingerprint(fingerprint) or expected(server)
        self.refused: str | None = None

    def __call__(self, seen: str) -> str | None:
        """None to accept the certificate with fingerprint ``seen``, else the sentence that refuses it."""
        from ..server.addresses import only_loopback

        name = f"the class server at {self.server}"
        if self.fingerprint is not None:
            refusal = None if seen == self.fingerprint else mismatch(name, seen, self.fingerprint)
        elif self.server in _first_seen:
            first = _first_seen[self.server]
            refusal = None if seen == first else (
                f"Refused {name}: its TLS certificate has the SHA-256 fingerprint {seen}, but this kernel saw "
                f"{first} there first; someone may be in the middle of the connection, so no password was sent.")
        elif only_loopback(where(self.server)[0]):
            _first_seen[self.server] = seen
            refusal = None
        else:
            refusal = (f"Refused {name}: it is not on this machine, and no fingerprint was given to check its TLS "
                       f"certificate against; if your handout's is the one it shows, give it: "
                       f"{ENV_FINGERPRINT}=sha256:{seen} (or use_class(..., fingerprint=...)).")
        self.refused = refusal
        return refusal

    def __repr__(self) -> str:
        return f"<certificate check for {self.server}: {self.fingerprint or 'no fingerprint given'}>"
