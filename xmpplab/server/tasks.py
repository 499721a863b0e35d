"""Owned tasks: every coroutine the server runs in the background belongs to the server or to a session.

A STARTTLS handshake, a dialback check, an outgoing server-to-server
connection: each is started through the :class:`Tasks` of whoever it works
for, never with a bare ``create_task``::

    session.tasks.start(session.start_tls(context, server_side=True), "STARTTLS")
    server.tasks.start(s2s.connect("server1.com", "server2.com"), "connect to server2.com")

A session's tasks are cancelled when it closes; the server's (which include
every session's) are cancelled and awaited when it stops, so the event loop
never ends with a task still pending. A task that fails is logged once, where
it failed: one line for an expected fault (the network, TLS, a timeout, a
:class:`~xmpplab.errors.StanzaError` such as a full disk), a traceback for
anything else, which is a bug. Nothing is swallowed, and the owner goes on.
"""

from __future__ import annotations

import asyncio
import logging
import ssl

from ..errors import StanzaError

log = logging.getLogger("xmpplab.server")

#: Faults of the world outside, not of the code: logged in one line.
EXPECTED = (OSError, ssl.SSLError, asyncio.TimeoutError, StanzaError)


class Tasks:
    """The background tasks of one owner; ``parent`` (the server's) also holds them, to stop them all."""

    __slots__ = ("owner", "parent", "_running")

    def __init__(self, owner: str, parent: Tasks | None = None):
        self.owner = owner           # for the log: "c2s-3", "server example.com"
        self.parent = parent
        self._running: set | None = None  # made on first use: most sessions never start a task

    def start(self, coro, what: str) -> asyncio.Task:
        """Run ``coro`` as a task of this owner; ``what`` names it in the log."""
        task = asyncio.get_running_loop().create_task(coro, name=f"{self.owner}: {what}")
        owner = self
        while owner is not None:
            if owner._running is None:
                owner._running = set()
            owner._running.add(task)
            owner = owner.parent
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task) -> None:
        owner = self
        while owner is not None:
            if owner._running is not None:
                owner._running.discard(task)
            owner = owner.parent
        if task.cancelled():
            return
        exc = task.exception()  # retrieved here, so asyncio never reports it again
        if exc is None:
            return
        if isinstance(exc, EXPECTED):
            log.warning("%s failed: %s", task.get_name(), exc)
        else:
            log.error("%s failed", task.get_name(), exc_info=exc)

    def __len__(self) -> int:
        return len(self._running) if self._running else 0

    def cancel(self) -> None:
        """Cancel every task still running (the owner closed); each ends at its next ``await``."""
        for task in list(self._running or ()):
            task.cancel()

    async def stop(self, timeout: float = 5.0) -> None:
        """Cancel every task and wait until all have ended (the server stops); log any that will not."""
        current = asyncio.current_task()
        while self._running:
            tasks = [t for t in self._running if t is not current]
            if not tasks:
                return
            for task in tasks:
                task.cancel()
            _, pending = await asyncio.wait(tasks, timeout=timeout)
            if pending:
                log.error("%s: %d tasks did not end %g s after being cancelled: %s", self.owner, len(pending),
                          timeout, ", ".join(sorted(t.get_name() for t in pending)))
                return

    def __repr__(self) -> str:
        return f"<Tasks of {self.owner}: {len(self)} running>"
