"""Peers known by their certificate (RFC 6125 7.2 pinning, RFC 6120 6.3.4 SASL EXTERNAL): both directions.

A server with a self-signed certificate cannot be checked against a CA. Here its SHA-256 fingerprint,
learnt beforehand, proves its domain instead:

- **incoming** (:class:`KnownCertificates`): a class server lets a student register one domain with their
  server's certificate (``#federate``, :mod:`xmpplab.server.modules.classfederation`). Its s2s STARTTLS then asks
  the peer for a certificate, trusting exactly the registered ones; a peer that shows the certificate
  registered for the domain it claims may authenticate with SASL EXTERNAL, and is never offered dialback
  (nobody could be asked about its key: the class server cannot reach a laptop).
- **outgoing** (``S2SManager.add_peer(..., fingerprint=...)``): the student's server shows its own certificate
  and accepts the peer only when the peer's has the pinned fingerprint (:func:`check_pin`).

Python's ``ssl`` cannot ask a client for a certificate without verifying it, so the registered certificates
themselves (public, not their keys) are the TLS trust anchors of the s2s listener; the fingerprint check
after the handshake is what authorises a domain.
"""

from __future__ import annotations

import asyncio
import ssl

from ..pinning import first_certificate, mismatch, of_der, of_pem


class KnownCertificates:
    """Domains whose servers prove themselves with one certificate each, and the s2s TLS context that asks
    for them (rebuilt when the set changes). ``limit``: how many domains at most."""

    def __init__(self, server, limit: int = 10_000):
        self.server = server
        self.limit = limit
        self.certificates: dict[str, tuple[str, str]] = {}  # domain -> (fingerprint, PEM)
        self._context: ssl.SSLContext | None = None

    def register(self, domain: str, pem: str) -> str:
        """Accept ``domain`` from a peer showing the certificate in ``pem`` (replacing the one before); return
        its SHA-256 fingerprint. ValueError when ``pem`` holds no certificate or the list is full."""
        from cryptography import x509

        cert = first_certificate(pem)
        x509.load_pem_x509_certificate(cert.encode())  # ValueError for a body that is not a certificate
        if domain not in self.certificates and len(self.certificates) >= self.limit:
            raise ValueError(f"this server already knows {self.limit} domains by their certificates")
        self.certificates[domain] = (fingerprint := of_pem(cert), cert)
        self._context = None
        return fingerprint

    def drop(self, domain: str) -> bool:
        """Forget ``domain``'s certificate; True when it had one."""
        self._context = None
        return self.certificates.pop(domain, None) is not None

    def __contains__(self, domain) -> bool:
        return domain in self.certificates

    def names_for(self, fingerprint: str | None) -> set[str]:
        """The registered domains a certificate with ``fingerprint`` proves."""
        return {d for d, (fp, _) in self.certificates.items() if fp == fingerprint}

    async def context(self):
        """The TLS context of the s2s listener: the server's own, or (with certificates registered) one that
        also asks the peer for a certificate and trusts the registered ones (and the lab CA, if any)."""
        if not self.certificates:
            return self.server.tls_context
        if self._context is None:
            from .tls import server_context

            srv = self.server
            ctx = await asyncio.get_running_loop().run_in_executor(
                None, server_context, srv.hosts, srv.tls_cert, srv.tls_key, srv.tls_ca)
            ctx.load_verify_locations(cadata="".join(pem for _, pem in self.certificates.values()))
            ctx.verify_mode = ssl.CERT_OPTIONAL
            self._context = ctx
        return self._context


def fingerprint_of(ssl_object) -> str | None:
    """The SHA-256 fingerprint of the certificate a TLS peer showed (None when it showed none)."""
    der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    return of_der(der) if der else None


def check_pin(ssl_object, expected: str, remote: str) -> str | None:
    """None when the peer's certificate has the ``expected`` fingerprint, else one sentence saying why not."""
    seen = fingerprint_of(ssl_object)
    if seen == expected:
        return None
    return mismatch(f"the server of {remote}", seen or "(none)", expected).replace(", so no password was sent", "")
