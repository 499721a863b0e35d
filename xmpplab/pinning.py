"""Certificate pinning: accept a TLS peer only when its certificate has a SHA-256 fingerprint known beforehand.

A self-signed certificate (a lab's, a class server's) cannot be checked against a CA; its SHA-256
fingerprint, printed by the server and handed to the people who connect, can. RFC 6125 section 7.2
allows such an out-of-band check in place of the usual name-and-CA one; it is stricter, since only
that one certificate passes::

    client = await Client.connect(jid, password, host="192.168.1.20",
                                  fingerprint="sha256:D5:56:C2:...")

A *check* is a callable given the fingerprint the peer showed (``AB:CD:…``, upper case) that returns
None to accept or one sentence saying why it refuses: :func:`pin` makes the plain one; the classroom
makes one with its own policy (:mod:`xmpplab.classroom.trust`).
"""

from __future__ import annotations

import hashlib
import re
import ssl
from collections.abc import Callable

Check = Callable[[str], "str | None"]

_HEX = re.compile(r"[0-9a-f]{64}")


def normalise(text: str) -> str:
    """A SHA-256 fingerprint as ``AB:CD:…`` from the forms people copy (``sha256:ab cd…``, ``AB:CD…``, plain hex)."""
    raw = str(text).strip()
    if raw.lower().startswith(("sha256:", "sha-256:")):
        raw = raw.partition(":")[2]
    digits = re.sub(r"[\s:]", "", raw).lower()
    if not _HEX.fullmatch(digits):
        raise ValueError(f"{text!r} is not a SHA-256 fingerprint (64 hexadecimal digits, as in sha256:AB:CD:…)")
    return ":".join(digits[i:i + 2] for i in range(0, 64, 2)).upper()


def of_der(der: bytes) -> str:
    """The SHA-256 fingerprint of a certificate in DER form, as ``AB:CD:…``."""
    return ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())


def first_certificate(pem: str) -> str:
    """The first certificate of PEM text (a key may come before it), as PEM; ValueError when there is none."""
    begin, tail = pem.find("-----BEGIN CERTIFICATE-----"), "-----END CERTIFICATE-----"
    end = pem.find(tail, begin)
    if begin < 0 or end < 0:
        raise ValueError("the PEM text holds no certificate")
    return pem[begin:end + len(tail)] + "\n"


def of_pem(pem: str) -> str:
    """The SHA-256 fingerprint of the first certificate in PEM text (a key may come before it)."""
    return of_der(ssl.PEM_cert_to_DER_cert(first_certificate(pem)))


def mismatch(where: str, seen: str, expected: str) -> str:
    """The sentence that refuses a certificate whose fingerprint is not the expected one."""
    return (f"Refused {where}: its TLS certificate has the SHA-256 fingerprint {seen}, but the expected one is "
            f"{expected}; someone may be in the middle of the connection, so no password was sent.")


def pin(expected: str, where: str) -> Check:
    """The check that accepts only the certificate with fingerprint ``expected``."""
    want = normalise(expected)

    def check(seen: str) -> str | None:
        return None if seen == want else mismatch(where, seen, want)

    return check


def as_check(fingerprint: str | Check | None, where: str) -> Check | None:
    """``fingerprint`` as a check: a fingerprint's text is pinned, a callable is used as it is, None stays None."""
    if fingerprint is None or callable(fingerprint):
        return fingerprint
    return pin(fingerprint, where)
