"""Your own server, federated with the class server (chapter 09 in a class; docs/classroom.md, ``#federate``).

In a kernel that works in a class, one call starts a server of the student's own in the kernel, for the
domain named after their account (``student07.class.example``), registers its certificate with the class
server over the student's class login, and lets it connect out to the class server::

    own = await federate_with_class()                  # None outside a class, and it says so
    juliet = await own.connect(f"juliet@{own.domain}/balcony")
    await juliet.send_message(own.me.jid, "Hello from my own server!")

The class server cannot reach a laptop behind NAT or a firewall, so the student's server does all the
connecting: STARTTLS, its certificate (SASL EXTERNAL, RFC 6120 6.3.4; the class server checks the
fingerprint it registered), and one bidirectional stream (XEP-0288) on which the class server sends its
answers back. The student's server pins the class server's certificate the same way (the fingerprint the
student's class login saw). ``own`` is a :class:`~xmpplab.lab.Lab` like any other: ``own.view()``,
``own.transcript`` and ``routing_graph(own)`` show that s2s stream and the two servers.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from ..jid import JID
from ..lab import Lab, running_labs
from ..pinning import first_certificate
from .accounts import ClassroomError
from .student import NS_CLASS, class_settings, join_class
from .teacher import Teacher

#: what a kernel that is not in a class prints instead
NEEDS_A_CLASS = ("This part needs a class server (a kernel with XMPPLAB_SERVER and XMPPLAB_ACCOUNT, or "
                 "xmpplab.classroom.use_class(...)): skipped.")


class FederatedLab(Lab):
    """A private Lab of one server, for the student's own domain, federated with the class server."""

    def __init__(self, where: str, account: str, *, record: bool = True):
        jid = JID(account)
        self.where, self.class_domain = where, jid.domain
        self.domain = f"{jid.local}.{jid.domain}"
        super().__init__([self.domain], record=record, register=False)
        self.me = None  # the student's class login, which registers this server and answers on the class server
        self._own_login = False
        self.fingerprint: str | None = None  # this server's certificate, as the class server registered it

    async def _start_servers(self) -> None:
        await super()._start_servers()
        beside = next((lab for lab in running_labs() if lab is not self and getattr(lab, "me", None) is not None
                       and lab.me.connected and lab._loop is asyncio.get_running_loop()), None)
        if beside is not None:
            self.me = beside.me
        else:
            self.me, self._own_login = await join_class(self.where, self.domain_account()), True
        cert, _ = self.server.s2s.own_certificate()
        lines = first_certificate(Path(cert).read_text()).strip().splitlines()
        answer = await Teacher(self.me, self.class_domain).command(f"{NS_CLASS}#federate", {"certificate": lines})
        if answer.status != "completed" or not answer.value("port"):
            raise ClassroomError(f"the class server did not accept {self.domain}: {answer.note or answer.status}")
        self.fingerprint = answer.value("fingerprint")
        self.server.s2s.add_peer(self.class_domain, answer.value("host"), int(answer.value("port")),
                                 fingerprint=self.me.fingerprint)
        print(f"Your own server {self.domain} runs in this kernel and connects to the class server "
              f"({answer.value('host')} port {answer.value('port')}); {self.class_domain} knows it by its "
              f"certificate ({self.fingerprint[:11]}…) and answers on that same stream (XEP-0288): it never "
              "connects to your machine.")

    def domain_account(self) -> str:
        """The student's class account (``student07@class.example``)."""
        return f"{self.domain.partition('.')[0]}@{self.class_domain}"

    async def stop(self) -> None:
        """Stop the student's server (its stream to the class server closes) and the login it made, if any."""
        await super().stop()
        if self._own_login and self.me is not None:
            await self.me.disconnect(timeout=2)


async def federate_with_class() -> FederatedLab | None:
    """Start the student's own server and federate it with the class server; None (and one line) outside a class.

    A second call stops the first one's server (as re-running a notebook cell should)."""
    settings = class_settings()
    if settings is None:
        print(NEEDS_A_CLASS)
        return None
    for old in [lab for lab in running_labs() if isinstance(lab, FederatedLab)]:
        if old._loop is asyncio.get_running_loop():
            await old.stop()
    own = FederatedLab(*settings)
    try:
        return await own._start(replace=False)
    except BaseException:
        await own.stop()
        raise
