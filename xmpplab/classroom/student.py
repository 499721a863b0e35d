"""The student's side: a notebook joins the class server, and each exercise check is reported.

In a notebook (or with the two environment variables set before JupyterLab starts)::

    from xmpplab.classroom import join_class
    me = await join_class("192.168.1.20:5222", "student07@class.example")   # asks the password once
    # or: XMPPLAB_SERVER=192.168.1.20:5222 XMPPLAB_ACCOUNT=student07@class.example jupyter lab
    me = await join_class()

The password is asked with ``getpass`` (never echoed, never written into the notebook) and kept in
this kernel's memory only, so a second ``join_class()`` does not ask again. From then on every
``check()``/``acheck()`` of a course exercise also reports its result (exercise, chapter, passed,
attempts; never the answer) to the class server (``urn:xmpplab:class:0``, docs/classroom.md), which
passes it to the teacher's dashboard.
"""

from __future__ import annotations

import asyncio
import getpass
import logging
import os

from .accounts import ClassroomError

log = logging.getLogger("xmpplab.classroom")

NS_CLASS = "urn:xmpplab:class:0"
ENV_SERVER, ENV_ACCOUNT = "XMPPLAB_SERVER", "XMPPLAB_ACCOUNT"
_passwords: dict[tuple[str, str], str] = {}  # (server, account) -> password, this kernel only
_reporter: list = []  # the one reporter of this kernel: the latest class connection reports


def _where(server: str) -> tuple[str, int]:
    host, colon, port = server.rpartition(":")
    if not colon or "]" in port:
        return server.strip("[]"), 5222
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ClassroomError(f"the class server is HOST or HOST:PORT, not {server!r}")
    return host.strip("[]"), int(port)


async def join_class(server: str | None = None, account: str | None = None, password: str | None = None, *,
                     report: bool = True, verify_tls: bool = False, ca_file: str | None = None):
    """Log in to the class server; with ``report``, each exercise check goes to the teacher. Returns the Client."""
    from ..client import Client

    server = server or os.environ.get(ENV_SERVER)
    account = account or os.environ.get(ENV_ACCOUNT)
    if not server or not account:
        raise ClassroomError(f"say which class server and account: join_class('HOST:PORT', 'you@class.example'), "
                             f"or set {ENV_SERVER} and {ENV_ACCOUNT}")
    host, port = _where(server)
    key = (server, account)
    if password is None:
        password = _passwords.get(key) or getpass.getpass(f"Password for {account}: ")
    client = await Client.connect(account, password, host=host, port=port, verify_tls=verify_tls,
                                  ca_file=ca_file)
    _passwords[key] = password
    if report:
        report_checks(client)
    return client


def report_checks(client) -> None:
    """Send each course check's result through ``client`` to its server (until the client disconnects).

    One connection reports per kernel: the latest one given here replaces the one before."""
    from ..course.core import unwatch_checks, watch_checks

    tasks: set = set()

    def reporter(exercise_id: str, result, attempts: int) -> None:
        if not client.connected:
            unwatch_checks(reporter)
            return
        chapter = exercise_id.partition(".")[0]
        iq = (f"<iq type='set' to='{client.jid.domain}'><progress xmlns='{NS_CLASS}' chapter='{chapter}' "
              f"exercise='{exercise_id}' passed='{'true' if result.ok else 'false'}' attempts='{attempts}'/></iq>")
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            log.warning("the check of %s was not reported: no event loop runs here", exercise_id)
            return
        task = loop.create_task(client.iq(iq))
        tasks.add(task)
        task.add_done_callback(_reported)

    def _reported(task) -> None:
        tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("the class server did not take a progress report: %s", task.exception())

    while _reporter:
        unwatch_checks(_reporter.pop())
    _reporter.append(reporter)
    watch_checks(reporter)
