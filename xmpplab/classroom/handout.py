"""The printable handout: one card per student with their account, password, QR code and how to connect.

One self-contained HTML page (inline SVG QR codes, print styles: eight cards to an A4 page, cut
along the lines). Each card has the account and its password, an ``xmpp:`` URI (RFC 5122) and its
QR code (made with segno), the lines that connect a notebook, profanity in a terminal, or a
browser, and the server certificate's SHA-256 fingerprint so the student can check it: the notebook
lines carry it (``XMPPLAB_FINGERPRINT``, ``fingerprint=``), so the kernel refuses any other certificate,
and profanity's line gives the SHA-1 fingerprint profanity shows, to compare before ``/tls allow``.
go-sendxmpp has no way to pin a certificate (only ``-n``, which skips the check).
"""

from __future__ import annotations

import hashlib
import html
import os
import ssl
from pathlib import Path

from ..pinning import of_der
from .accounts import Account, write_private

CSS = """
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; margin: 1em; color: #111; }
h1 { font-size: 1.3em; margin: 0 0 .2em; } p.intro { margin: 0 0 1em; font-size: .9em; }
.cards { display: grid; grid-template-columns: 1fr 1fr; gap: 0; }
.card { border: 1px dashed #888; padding: .7em .8em; break-inside: avoid; page-break-inside: avoid;
        display: grid; grid-template-columns: 1fr auto; gap: .2em .8em; font-size: .82em; }
.card h2 { font-size: 1.15em; margin: 0; grid-column: 1 / 3; }
.card .who { font-family: "DejaVu Sans Mono", monospace; font-size: 1.1em; }
.card .pw { font-family: "DejaVu Sans Mono", monospace; font-size: 1.25em; letter-spacing: .08em; }
.card .qr svg { width: 7.5em; height: 7.5em; }
.card dl { margin: .3em 0 0; grid-column: 1 / 3; } .card dt { font-weight: bold; margin-top: .25em; }
.card dd { margin: 0; } .card code { font-size: .95em; word-break: break-all; }
.fp { font-family: "DejaVu Sans Mono", monospace; font-size: .75em; word-break: break-all; color: #444; }
@media print { body { margin: 0; } .intro { display: none; } @page { size: A4; margin: 8mm; } }
"""


def certificate_fingerprint(server) -> str | None:
    """SHA-256 fingerprint (``AB:CD:…``) of the certificate the server shows, or None without TLS."""
    der = _certificate_der(server)
    return of_der(der) if der is not None else None


def certificate_sha1(server) -> str | None:
    """SHA-1 fingerprint of the server's certificate as profanity shows it (lower case, no colons), or None."""
    der = _certificate_der(server)
    return hashlib.sha1(der).hexdigest() if der is not None else None  # noqa: S324 (a name shown, not a MAC)


def _certificate_der(server) -> bytes | None:
    if not getattr(server, "use_tls", True):
        return None
    cert = getattr(server, "tls_cert", None)
    if cert is None:
        from ..server.tls import certificate_file

        cert = certificate_file(list(server.hosts), ca=getattr(server, "tls_ca", None))
    try:
        text = Path(cert).read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    start = text.find("-----BEGIN CERTIFICATE-----")
    end = text.find("-----END CERTIFICATE-----", start)
    if start < 0 or end < 0:
        return None
    return ssl.PEM_cert_to_DER_cert(text[start:end + len("-----END CERTIFICATE-----")] + "\n")


def xmpp_uri(account: Account) -> str:
    """The account as an RFC 5122 URI (what a phone's XMPP app opens from the QR code)."""
    return f"xmpp:{account.jid}"


def _qr_svg(text: str) -> str:
    import segno

    qr = segno.make(text, error="m")
    svg = qr.svg_inline(scale=3, border=2, dark="#000", light="#fff")
    return svg


def _card(account: Account, host: str, port: int, fingerprint: str | None, http_port: int | None,
          domain: str, classmate: str, sha1: str | None) -> str:
    jid, pw = html.escape(str(account.jid)), html.escape(account.password)
    pin = f"sha256:{fingerprint}" if fingerprint else ""
    tls = f"fingerprint=\"{pin}\"" if fingerprint else "starttls=False"
    notebook = (f"me = await xmpplab.Client.connect(\"{jid}\", getpass(), host=\"{html.escape(host)}\", "
                f"port={port}, {tls})")
    profanity = f"/connect {jid} server {html.escape(host)} port {port}"
    sendxmpp = (f"echo hello | go-sendxmpp{' -n' if fingerprint else ''} -u {jid} -p '{pw}' "
                f"-j {html.escape(host)}:{port} {html.escape(classmate)}")
    course = (f"XMPPLAB_SERVER={html.escape(host)}:{port} XMPPLAB_ACCOUNT={jid}"
              f"{f' XMPPLAB_FINGERPRINT={pin}' if fingerprint else ''} xmpplab lab")
    check = ""
    if fingerprint:  # profanity shows the certificate's SHA-1 fingerprint: compare, then allow or deny it
        check = (f" and compare the certificate's fingerprint with <code>{sha1}</code>: the same, "
                 "<code>/tls allow</code>; another, <code>/tls deny</code> (it is not the class server)"
                 if sha1 else " and <code>/tls allow</code>")
    rows = [("The course, on this class server", f"<code>{course}</code> (it asks the password once"
             + ("; it refuses a server with another certificate)" if fingerprint else ")")),
            ("One client in a notebook", f"<code>from getpass import getpass</code><br><code>{notebook}</code>"),
            ("Terminal (profanity)", f"<code>{profanity}</code>, then type the password{check}"),
            ("One message from a shell (go-sendxmpp)", f"<code>{sendxmpp}</code>" +
             (" (it cannot check a fingerprint: <code>-n</code> skips the certificate check)" if fingerprint
              else ""))]
    if http_port:
        scheme = "https" if fingerprint else "http"
        rows.append(("Browser", f"<code>{scheme}://{html.escape(host)}:{http_port}/</code>"))
    dl = "".join(f"<dt>{name}</dt><dd>{text}</dd>" for name, text in rows)
    return (f"<section class='card'><h2>{html.escape(account.role.capitalize())}: {jid.split('@')[0]}</h2>"
            f"<div><div>Account</div><div class='who'>{jid}</div><div>Password</div>"
            f"<div class='pw'>{pw}</div><div><code>{html.escape(xmpp_uri(account))}</code></div></div>"
            f"<div class='qr' title='{html.escape(xmpp_uri(account))}'>{_qr_svg(xmpp_uri(account))}</div>"
            f"<dl>{dl}</dl></section>")


def render_handout(accounts: list[Account], *, host: str, port: int, domain: str,
                   fingerprint: str | None = None, http_port: int | None = None,
                   include_teacher: bool = False, sha1: str | None = None) -> str:
    """The whole handout page as HTML text (``sha1``: the certificate's SHA-1 fingerprint, which profanity shows)."""
    shown = [a for a in accounts if include_teacher or a.role == "student"]
    fp = (f"<p class='fp'>Server certificate (SHA-256): {html.escape(fingerprint)}</p>" if fingerprint else
          "<p class='fp'>This server runs without TLS: use it only on a network you trust.</p>")
    students = [a for a in accounts if a.role == "student"]
    # a first message goes to the next student on the list (the last one's to the first), else to the room
    nxt = {str(a.jid): str(students[(k + 1) % len(students)].jid) for k, a in enumerate(students)} \
        if len(students) > 1 else {}
    cards = "".join(_card(a, host, port, fingerprint, http_port, domain,
                          nxt.get(str(a.jid), f"class@conference.{domain}"), sha1) for a in shown)
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>XMPP class {html.escape(domain)}"
            f"</title><style>{CSS}</style></head><body><h1>XMPP class: {html.escape(domain)}</h1>"
            f"<p class='intro'>Server {html.escape(host)}, port {port}. Print this page and cut along the lines: "
            f"one card per student. The room of the class is class@conference.{html.escape(domain)}.</p>{fp}"
            f"<div class='cards'>{cards}</div></body></html>")


def write_handout(path: str | os.PathLike, accounts: list[Account], **kwargs) -> Path:
    """Write :func:`render_handout` to ``path`` (mode 0600, atomically: it holds the passwords)."""
    return write_private(path, render_handout(accounts, **kwargs), "the handout")
