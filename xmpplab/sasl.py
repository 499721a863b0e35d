"""SASL mechanisms, server side (RFC 6120 section 6): SCRAM-SHA-256, SCRAM-SHA-1 and PLAIN.

Shared by the server (:mod:`xmpplab.server.c2s`) and the replay fake server
(:mod:`xmpplab.replay.fake`), so it lives below both; it does no I/O.

SCRAM (RFC 5802, RFC 7677) is done by ``scramp``; the server keeps only the
salted keys, so a stolen database does not reveal passwords. PLAIN (RFC 4616)
is checked against the same keys.

Each mechanism is a small object with one method, ``step(data) ->
(challenge_or_None, done, username_or_None)``; a failure raises
:class:`SASLFailure` with the RFC 6120 section 6.5 condition. Hashing a
password (PBKDF2, milliseconds of CPU) must not stall a server's event loop:
PLAIN therefore also offers ``slow_step(data)``, which returns the hashing as
a :class:`SlowCheck` for the server to run in a thread; ``step`` does it all
at once for callers without a loop.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from scramp import ScramException, ScramMechanism
from scramp.core import saslprep

from .errors import StanzaError

ITERATIONS = 4096
MECHANISMS = ("SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN")
_FAKE_SECRET = secrets.token_bytes(32)
_SCRAM = {"SCRAM-SHA-1": ScramMechanism("SCRAM-SHA-1"), "SCRAM-SHA-256": ScramMechanism("SCRAM-SHA-256")}


@dataclass
class Credentials:
    """SCRAM keys for one account (RFC 5802 section 3), per hash."""

    iterations: int
    sha1: tuple[bytes, bytes, bytes]  # salt, stored key, server key
    sha256: tuple[bytes, bytes, bytes]


class SASLFailure(Exception):
    """RFC 6120 section 6.5: ``condition`` is sent inside ``<failure/>``."""

    def __init__(self, condition: str, text: str | None = None):
        self.condition = condition
        self.text = text
        super().__init__(condition + (f": {text}" if text else ""))


def password_problem(password: str) -> str | None:
    """Why SASLprep (RFC 4013, which SCRAM applies, RFC 5802 section 2.2) refuses ``password``, or None."""
    try:
        saslprep(password)
    except ScramException as exc:
        return f"the password holds characters that SASLprep (RFC 4013) forbids ({exc})"
    return None


def make_credentials(password: str, iterations: int = ITERATIONS) -> Credentials:
    """Salted SCRAM keys for both hashes; the password itself is not kept (ValueError if SASLprep refuses it)."""
    keys = {}
    for name, mech in _SCRAM.items():
        try:
            salt, stored_key, server_key, _ = mech.make_auth_info(password, iteration_count=iterations)
        except ScramException:
            raise ValueError(password_problem(password) or "the password cannot be used") from None
        keys[name] = (salt, stored_key, server_key)
    return Credentials(iterations, keys["SCRAM-SHA-1"], keys["SCRAM-SHA-256"])


def check_password(creds: Credentials, password: str) -> bool:
    """Verify a plain password against the stored SCRAM-SHA-256 keys (RFC 5802 section 3)."""
    salt, stored_key, _ = creds.sha256
    salted = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, creds.iterations)
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    return hmac.compare_digest(hashlib.sha256(client_key).digest(), stored_key)


def _password_matches(creds: Credentials | None, password: str) -> bool:
    return creds is not None and check_password(creds, password)


@dataclass
class SlowCheck:
    """CPU-heavy work of a SASL step: run ``func(*args)`` in a thread, then ``resume(result)`` on the loop
    gives the step's answer (or raises :class:`SASLFailure`)."""

    func: Callable
    args: tuple
    resume: Callable


class Plain:
    """RFC 4616: ``authzid NUL authcid NUL password`` in one message."""

    name = "PLAIN"

    def __init__(self, lookup, domain: str):
        self.lookup = lookup  # username -> Credentials | None
        self.domain = domain

    def step(self, data: bytes):
        """Check the one PLAIN message on the spot (the password hash runs here): ``(None, True, username)``."""
        check = self.slow_step(data)
        return check.resume(check.func(*check.args))

    def slow_step(self, data: bytes) -> SlowCheck:
        """Parse and look the user up now; the password hash is left to the caller to run off the loop."""
        parts = data.split(b"\x00")
        if len(parts) != 3:
            raise SASLFailure("malformed-request", "PLAIN expects authzid, authcid and password")
        try:
            authzid, authcid, password = (p.decode("utf-8") for p in parts)
        except UnicodeDecodeError:
            raise SASLFailure("malformed-request", "PLAIN credentials are not UTF-8") from None
        username = authcid.lower()

        def resume(matches: bool):
            if not matches:
                raise SASLFailure("not-authorized")
            if authzid and authzid.lower() not in (f"{username}@{self.domain}", username):
                raise SASLFailure("invalid-authzid", "you may only authorize as yourself")
            return None, True, username

        return SlowCheck(_password_matches, (self.lookup(username), password), resume)


class Scram:
    """RFC 5802 SCRAM in three messages, the server side done by ``scramp``."""

    def __init__(self, name: str, lookup):
        self.name = name
        self.lookup = lookup
        self.username: str | None = None
        self._server = _SCRAM[name].make_server(self._auth_info)
        self._stage = 0

    def _auth_info(self, username: str):
        self.username = username.lower()
        creds = self.lookup(self.username)
        if creds is None:
            # RFC 5802 section 5.1: answer as if the user existed, so the reply does not reveal
            # which accounts exist; the proof then fails with not-authorized.
            fake = hmac.new(_FAKE_SECRET, self.username.encode("utf-8"), "sha256").digest()
            return fake[:16], secrets.token_bytes(len(fake) if self.name == "SCRAM-SHA-256" else 20), \
                secrets.token_bytes(32), ITERATIONS
        salt, stored_key, server_key = creds.sha1 if self.name == "SCRAM-SHA-1" else creds.sha256
        return salt, stored_key, server_key, creds.iterations

    def step(self, data: bytes):
        """One SCRAM step (RFC 5802 section 5): the server-first, then the server-final message with done set."""
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise SASLFailure("malformed-request", "SCRAM messages are UTF-8") from None
        try:
            if self._stage == 0:
                if not text:
                    raise SASLFailure("malformed-request", "the SCRAM client-first message is missing")
                if text.startswith("p") and (text.startswith(("p=", "y,", "p,")) or ",a=" in text.split("n=")[0]):
                    raise SASLFailure("malformed-request", "channel binding is not supported")
                self._server.set_client_first(text)
                self._stage = 1
                return self._server.get_server_first().encode(), False, None
            if self._stage == 1:
                self._server.set_client_final(text)
                self._stage = 2
                return self._server.get_server_final().encode(), True, self.username
        except SASLFailure:
            raise
        except ScramException as exc:
            if isinstance(exc.__context__, StanzaError):  # the account lookup failed (a StorageFault): scramp
                raise exc.__context__ from None              # wraps what auth_fn raised; let the caller see it
            if "proof" in str(exc).lower() or "don't match" in str(exc).lower():
                raise SASLFailure("not-authorized") from None  # a wrong password: say no more
            raise SASLFailure("malformed-request", f"the SCRAM message is malformed ({exc})") from None
        raise SASLFailure("malformed-request", "unexpected SCRAM message")


def new_mechanism(name: str, lookup, domain: str):
    """A fresh mechanism object for one authentication attempt."""
    if name == "PLAIN":
        return Plain(lookup, domain)
    if name in _SCRAM:
        return Scram(name, lookup)
    raise SASLFailure("invalid-mechanism", f"{name} is not offered")
