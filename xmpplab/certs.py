"""Certificates for STARTTLS, generated once and cached.

Shared by the server and the replay fake server (and the recording proxy), so it
lives below all of them.

By default a server's certificate is self-signed: it names every domain the
server hosts (and its MUC and other subdomains with a wildcard), is valid for
ten years and lives in ``~/.cache/xmpplab/tls`` (or ``$XMPPLAB_CACHE``), keyed
by the set of domains, so restarting a server does not make clients see a new
certificate. With a lab CA (:func:`lab_ca`), certificates are signed by it
instead, so servers that trust that CA can authenticate each other with SASL
EXTERNAL on server-to-server streams (RFC 6120 6.3.4 and 13.7.2).
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import os
import ssl
from pathlib import Path

log = logging.getLogger("xmpplab.server")  # its messages are about the server's handshakes


def cache_dir() -> Path:
    """Where test certificates are kept: ``$XMPPLAB_CACHE/tls``, else ``$XDG_CACHE_HOME/xmpplab/tls``
    (``~/.cache/xmpplab/tls`` when neither is set)."""
    base = os.environ.get("XMPPLAB_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "xmpplab")
    return Path(base) / "tls"


def _write_pem(path: Path, key, cert) -> None:
    from cryptography.hazmat.primitives import serialization

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    os.replace(tmp, path)  # atomic: two servers starting at once both end with a matching pair


def _load_pem(path: Path):
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    data = path.read_bytes()
    return serialization.load_pem_private_key(data, None), x509.load_pem_x509_certificate(data)


def lab_ca(directory: Path | None = None) -> Path:
    """The lab's own certificate authority (one PEM file: key and certificate), made the first time.

    Only for loopback labs: any server given this CA trusts certificates it signed.
    """
    path = (directory or cache_dir()) / "lab-ca.pem"
    if path.exists():
        return path
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "xmpplab lab CA (loopback only)")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False),
                           critical=True)
            .sign(key, hashes.SHA256()))
    _write_pem(path, key, cert)
    return path


def certificate_file(domains: list[str] | tuple[str, ...], directory: Path | None = None,
                     ca: str | os.PathLike | None = None) -> Path:
    """Return one PEM file holding the key and the certificate for these domains, made the first time.

    Self-signed, or signed by ``ca`` (a PEM file with the CA's key and certificate, see :func:`lab_ca`).
    """
    directory = directory or cache_dir()
    names = sorted(set(domains))
    tag = hashlib.sha256((",".join(names) + (f"|{os.fspath(ca)}" if ca else "")).encode()).hexdigest()[:16]
    path = directory / f"{tag}.pem"
    if path.exists():
        return path
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0]),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME,
                                            "xmpplab (lab CA)" if ca else "xmpplab (self-signed)")])
    alt = [x509.DNSName(n) for n in names] + [x509.DNSName(f"*.{n}") for n in names]
    now = datetime.datetime.now(datetime.UTC)
    if ca:
        signer, ca_cert = _load_pem(Path(ca))
        issuer = ca_cert.subject
    else:
        signer, issuer = key, subject
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.SubjectAlternativeName(alt), critical=False)
            .add_extension(x509.BasicConstraints(ca=not ca, path_length=None), critical=True)
            .sign(signer, hashes.SHA256()))
    _write_pem(path, key, cert)
    return path


def server_context(domains, cert: str | None = None, key: str | None = None,
                   ca: str | os.PathLike | None = None) -> ssl.SSLContext:
    """An SSL context for the server side of STARTTLS.

    With ``ca``, the certificate is signed by that CA, and peers are asked (not required) for a
    certificate signed by it: a server presenting one may authenticate with SASL EXTERNAL.
    """
    if cert is None:
        cert_path = key_path = certificate_file(list(domains), ca=ca)
    else:
        cert_path, key_path = cert, key or cert
    ctx = _AlertingContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2  # RFC 8996: TLS 1.0 and 1.1 get a protocol_version alert
    ctx.load_cert_chain(str(cert_path), str(key_path))
    if ca:
        ctx.load_verify_locations(cafile=os.fspath(ca))
        ctx.verify_mode = ssl.CERT_OPTIONAL
    return ctx


class _AlertingSSLObject(ssl.SSLObject):
    """Lets the peer see why a handshake failed (CPython gh-98078, Python before 3.15).

    When the handshake fails (say a client offering only TLS 1.1: OpenSSL answers with a
    ``protocol_version`` alert, ``15 03 02 00 02 02 46``), asyncio closes the connection
    without sending what OpenSSL left in the outgoing buffer, so the peer sees a bare close
    and cannot tell why. Here the first failure is reported as "want read" instead: asyncio
    then sends the pending alert and waits; the peer closes on the fatal alert (or the
    handshake timeout ends it), and any further bytes raise the real error.
    """

    _failure: ssl.SSLError | None = None
    _outgoing: ssl.MemoryBIO | None = None

    def do_handshake(self) -> None:
        if self._failure is not None:
            raise self._failure
        try:
            super().do_handshake()
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
            raise
        except ssl.SSLError as exc:
            if self._outgoing is None or not self._outgoing.pending:
                raise
            self._failure = exc
            log.info("TLS handshake refused (the client was told with a TLS alert): %s", exc.reason or exc)
            raise ssl.SSLWantReadError("the TLS alert is sent before the connection closes") from exc


class _AlertingContext(ssl.SSLContext):
    """A server context whose connections send OpenSSL's alert when a handshake fails."""

    sslobject_class = _AlertingSSLObject

    def wrap_bio(self, incoming, outgoing, server_side=False, server_hostname=None, session=None):
        obj = super().wrap_bio(incoming, outgoing, server_side, server_hostname, session)
        obj._outgoing = outgoing
        return obj


def s2s_client_context(domains, ca: str | os.PathLike | None = None,
                       own: tuple[str, str | None] | None = None) -> ssl.SSLContext:
    """The SSL context of an outgoing server-to-server stream.

    Without a CA the peer's certificate is not checked (lab servers are self-signed; dialback then
    authenticates). With the lab CA both sides present CA-signed certificates and the peer's is verified.
    With ``own`` (the PEM files of our certificate and key, the key None when the first holds both) we show
    that certificate and check nothing here: the caller pins the peer's fingerprint
    (:mod:`xmpplab.server.s2s_certs`).
    """
    ctx = ssl.create_default_context()
    if own:
        ctx.load_cert_chain(*own)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    elif ca:
        ctx.load_verify_locations(cafile=os.fspath(ca))
        path = certificate_file(list(domains), ca=ca)
        ctx.load_cert_chain(str(path))
        ctx.check_hostname = True
        ctx.verify_mode = ssl.CERT_REQUIRED
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def peer_domains(ssl_object) -> set[str]:
    """The DNS names of the certificate a TLS peer presented and we verified (empty when none)."""
    if ssl_object is None:
        return set()
    cert = ssl_object.getpeercert()
    if not cert:
        return set()
    return {value.lower() for kind, value in cert.get("subjectAltName", ()) if kind == "DNS"}
