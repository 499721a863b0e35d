"""A real client for the final project (chapter 17): how profanity, in a terminal, logs in as one of the Lab's people.

On a server of one's own, the lines a person types: ``/connect romeo@example.net server 127.0.0.1 port N``, the
password (the Lab's own, shown), ``/tls allow`` (the Lab's self-signed certificate).

On a class server the person is a practice account (``student07.romeo@class.example``) whose random password
lives in the kernel (:meth:`ClassLab.login_for <xmpplab.classroom.remote.ClassLab.login_for>`): it is never
printed. The kernel writes a profanity account for it into a folder of its own (mode 0700, the file 0600;
profanity reads ``$XDG_DATA_HOME/profanity/accounts``) and prints the one command that starts profanity on it::

    XDG_DATA_HOME=/tmp/xmpplab-profanity-… profanity -a romeo

profanity connects to the Lab's recording proxy on loopback, so the Lab records its stream like every practice
connection; the proxy checks the class server's certificate on its own leg (the handout's fingerprint,
:mod:`xmpplab.classroom.trust`). profanity sees the proxy's certificate, not the class server's: the folder's
``tlscerts`` names that one certificate (by the SHA-1 fingerprint profanity keys it with) as the one to trust,
so profanity asks nothing. The folder is removed when the Lab is gone or the kernel ends.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import shutil
import ssl
import tempfile
import weakref
from pathlib import Path

from ..jid import JID
from ..pinning import first_certificate

__all__ = ["ProfanityLogin", "profanity_for"]

_WORD = re.compile(r"\S+")
_KEYFILE_SAFE = re.compile(r"[\w.@:/+=-]+")  # what a GKeyFile value may hold without escapes


class ProfanityLogin:
    """What to type to use profanity as one of the Lab's people: ``command`` in a shell, then ``lines`` in it."""

    def __init__(self, jid: str, command: str, lines: list[str], note: str = "", folder: Path | None = None):
        self.jid, self.command, self.lines, self.note, self.folder = jid, command, lines, note, folder

    def __repr__(self) -> str:
        return "\n".join([f"In a terminal: {self.command}", *([self.note] if self.note else []), "Then type:",
                          *self.lines])


async def profanity_for(lab, jid, *then: str) -> ProfanityLogin:
    """How profanity logs in as ``jid`` (a chapter address) on ``lab``; ``then``, lines to type once logged in,
    are written with the class server's addresses when the Lab works in a class (see the module docstring)."""
    words = [w for line in then for w in _WORD.findall(line)]
    login = await lab.login_for(jid, mentions=[w for w in words if "@" in w or "." in w])
    after = [_WORD.sub(lambda m: login.addresses.get(m.group(), m.group()), line) for line in then]
    if getattr(lab.server, "names", None) is None:  # a server of one's own: its password is a lab's toy one
        return ProfanityLogin(login.jid, "profanity", [
            f"/connect {login.jid} server {login.host} port {login.port}",
            f"{login.password:<31} (the password)",
            f"{'/tls allow':<31} (the lab's certificate is its own)", *after])
    name = JID(str(jid)).local
    folder = await asyncio.to_thread(_profile, name, login, lab.server.proxy.cert)
    weakref.finalize(lab, shutil.rmtree, folder, ignore_errors=True)
    note = (f"(it logs in as {login.jid} through your Lab's proxy on {login.host}:{login.port}, with the password "
            "kept in that folder, never in this notebook; it trusts only the proxy's certificate, and the proxy "
            "checks the class server's)")
    return ProfanityLogin(login.jid, f"XDG_DATA_HOME={folder} profanity -a {name}", after, note, folder)


def _profile(name: str, login, cert: str | None) -> Path:
    """A profanity data folder holding one account (``name``) for ``login`` and the certificate it trusts: the
    proxy's (``cert``, or the self-signed one the proxy makes for the account's domain)."""
    from ..certs import certificate_file

    for value in (login.jid, login.host, login.password):
        if not _KEYFILE_SAFE.fullmatch(value):
            raise ValueError(f"cannot write {value!r} into a profanity account file")
    pem = Path(cert) if cert else certificate_file([JID(login.jid).domain])
    der = ssl.PEM_cert_to_DER_cert(first_certificate(pem.read_text(encoding="ascii")))
    sha1 = hashlib.sha1(der).hexdigest()  # noqa: S324 (the name profanity gives a certificate, not a MAC)
    folder = Path(tempfile.mkdtemp(prefix="xmpplab-profanity-"))  # mode 0700
    (folder / "profanity").mkdir(mode=0o700)
    _write(folder / "profanity" / "tlscerts", f"[{sha1}]\n")
    _write(folder / "profanity" / "accounts",
           f"[{name}]\nenabled=true\njid={login.jid}\nserver={login.host}\nport={login.port}\n"
           f"resource=profanity\npassword={login.password}\ntls.policy=force\n")
    return folder


def _write(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
