"""The student's side: a notebook joins the class server, and each exercise check is reported.

In a notebook (or with the environment variables set before JupyterLab starts)::

    from xmpplab.classroom import join_class
    me = await join_class("192.168.1.20:5222", "student07@class.example",   # asks the password once
                          fingerprint="sha256:D5:56:C2:…")                    # from the handout
    # or: XMPPLAB_SERVER=192.168.1.20:5222 XMPPLAB_ACCOUNT=student07@class.example \
    #     XMPPLAB_FINGERPRINT=sha256:D5:56:C2:… jupyter lab
    me = await join_class()

The class server's certificate must have that SHA-256 fingerprint (the handout's), or the connection
is refused before the password crosses; without one, see :mod:`.trust`.

The password is asked with ``getpass`` (never echoed, never written into the notebook) and kept in
this kernel's memory only, so a second ``join_class()`` does not ask again. Where nobody can type
(a test, a kiosk), ``XMPPLAB_PASSWORD_FILE`` names a file holding it (its first line).

With the two variables set (or :func:`use_class` called once), every chapter's ``Lab.start()``
connects to the class server instead of starting a private one: see :mod:`.remote`. From then on every
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
from .trust import ClassCertificate, forget_fingerprints, given_fingerprint, remember
from .trust import where as _where

log = logging.getLogger("xmpplab.classroom")

NS_CLASS = "urn:xmpplab:class:0"
ENV_SERVER, ENV_ACCOUNT, ENV_PASSWORD_FILE = "XMPPLAB_SERVER", "XMPPLAB_ACCOUNT", "XMPPLAB_PASSWORD_FILE"
_passwords: dict[tuple[str, str], str] = {}  # (server, account) -> password, this kernel only
_chosen: list[tuple[str, str]] = []  # use_class(): the class of this kernel, before the environment
_reporter: list = []  # the one reporter of this kernel: the latest class connection reports
_waiting: list = []  # checks made in a class kernel before it had a connection to the class (sent once it has)
_joining: set = set()  # the background login that will send them


def use_class(server: str | None, account: str | None = None, fingerprint: str | None = None) -> None:
    """Make every later ``Lab.start()`` of this kernel use the class server (``use_class(None)``: private again).

    ``fingerprint`` is the server certificate's SHA-256 fingerprint from the handout (``"sha256:AB:CD:…"``):
    every connection to the class server checks it (see :mod:`.trust`)."""
    _chosen.clear()
    forget_fingerprints()
    if server:
        if not account:
            raise ClassroomError("say which account: use_class('HOST:PORT', 'you@class.example')")
        _where(server)
        remember(server, given_fingerprint(fingerprint))
        _chosen.append((server, account))
        report_without_a_lab()


def class_settings() -> tuple[str, str] | None:
    """(server, account) of the class this kernel works in: :func:`use_class`, else the environment; or None."""
    if _chosen:
        return _chosen[0]
    server, account = os.environ.get(ENV_SERVER), os.environ.get(ENV_ACCOUNT)
    if server and account:
        return server, account
    return None


def _ask_password(account: str) -> str:
    path = os.environ.get(ENV_PASSWORD_FILE)
    if path:
        try:
            with open(path, encoding="utf-8") as f:
                return f.readline().rstrip("\r\n")
        except OSError as exc:
            raise ClassroomError(f"{ENV_PASSWORD_FILE} names {path}, which cannot be read: {exc.strerror}") from None
    return getpass.getpass(f"Password for {account}: ")


async def join_class(server: str | None = None, account: str | None = None, password: str | None = None, *,
                     report: bool = True, verify_tls: bool = False, ca_file: str | None = None,
                     fingerprint: str | None = None):
    """Log in to the class server; with ``report``, each exercise check goes to the teacher. Returns the Client.

    The server's certificate is checked against ``fingerprint`` (else the one given to :func:`use_class` or in
    ``XMPPLAB_FINGERPRINT``; without any, see :mod:`.trust`); with ``verify_tls``, against the CAs instead."""
    from ..client import Client

    settings = class_settings() or (None, None)
    server, account = server or settings[0], account or settings[1]
    if not server or not account:
        raise ClassroomError(f"say which class server and account: join_class('HOST:PORT', 'you@class.example'), "
                             f"or set {ENV_SERVER} and {ENV_ACCOUNT}")
    host, port = _where(server)
    key = (server, account)
    if password is None:
        password = _passwords.get(key) or _ask_password(account)
    pin = given_fingerprint(fingerprint) if verify_tls or ca_file else ClassCertificate(server, fingerprint)
    client = await Client.connect(account, password, host=host, port=port, verify_tls=verify_tls,
                                  ca_file=ca_file, fingerprint=pin)
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

    reporter.client = client
    while _reporter:
        unwatch_checks(_reporter.pop())
    _reporter.append(reporter)
    watch_checks(reporter)


def report_without_a_lab() -> None:
    """In a class kernel, report also the checks of a chapter that starts no Lab (14 reads recordings only).

    The first such check logs in to the class in the background (the password is asked then, while the
    cell runs, unless this kernel has it) and sends the checks made meanwhile."""
    from ..course.core import watch_checks

    watch_checks(_join_then_report)


def _reporting() -> bool:
    return any(r.client.connected for r in _reporter)


def _join_then_report(exercise_id: str, result, attempts: int) -> None:
    settings = class_settings()
    if settings is None or _reporting():
        return  # not in a class, or a class connection reports it
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    if settings not in _passwords:
        _passwords[settings] = _ask_password(settings[1])  # now: getpass needs the running cell
    _waiting.append((exercise_id, result, attempts))
    if not _joining:
        task = loop.create_task(_join_and_send())
        _joining.add(task)
        task.add_done_callback(_joining.discard)


async def _join_and_send() -> None:
    from ..client import ClientError

    try:
        await join_class()
    except (ClientError, ClassroomError, OSError) as exc:  # the chapter goes on; its checks wait for the next try
        log.warning("could not log in to the class to report checks: %s", exc)
        print(f"Could not log in to the class ({exc}): this check is not reported to the teacher yet.")
        return
    while _waiting:
        _reporter[-1](*_waiting.pop(0))
