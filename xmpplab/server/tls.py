"""A self-signed certificate for STARTTLS, generated once and cached.

The certificate names every domain the server hosts (and its MUC and other
subdomains with a wildcard), is valid for ten years and lives in
``~/.cache/xmpplab/tls`` (or ``$XMPPLAB_CACHE``), keyed by the set of domains,
so restarting a server does not make clients see a new certificate.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import ssl
from pathlib import Path


def cache_dir() -> Path:
    base = os.environ.get("XMPPLAB_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "xmpplab")
    return Path(base) / "tls"


def certificate_file(domains: list[str] | tuple[str, ...], directory: Path | None = None) -> Path:
    """Return one PEM file holding the key and the certificate for these domains, made the first time."""
    directory = directory or cache_dir()
    names = sorted(set(domains))
    tag = hashlib.sha256(",".join(names).encode()).hexdigest()[:16]
    path = directory / f"{tag}.pem"
    if path.exists():
        return path
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0]),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "xmpplab (self-signed)")])
    alt = [x509.DNSName(n) for n in names] + [x509.DNSName(f"*.{n}") for n in names]
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.SubjectAlternativeName(alt), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    directory.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    os.replace(tmp, path)  # atomic: two servers starting at once both end with a matching pair
    return path


def server_context(domains, cert: str | None = None, key: str | None = None) -> ssl.SSLContext:
    """An SSL context for the server side of STARTTLS."""
    if cert is None:
        cert_path = key_path = certificate_file(list(domains))
    else:
        cert_path, key_path = cert, key or cert
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(str(cert_path), str(key_path))
    return ctx
