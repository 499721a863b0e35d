"""A TCP listener that owns the task of every connection it accepts (the recording proxy's and the fake server's).

::

    listening = Listener(serve, "127.0.0.1")   # serve(reader, writer): one connection, to its end
    await listening.start()                    # listening.port: the port it got
    ...
    await listening.stop()                     # no connection task is left pending
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

__all__ = ["Listener"]


class Listener:
    """Listen on ``host:port`` (a free port for 0) and run ``serve(reader, writer)`` for each connection, as a task
    that :meth:`stop` cancels and waits for."""

    def __init__(self, serve: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
                 host: str, port: int = 0):
        self.serve = serve
        self.host, self.requested_port = host, port
        self.port: int | None = None  # the port listened on, once started
        self._server: asyncio.base_events.Server | None = None
        self._tasks: set[asyncio.Task] = set()

    @property
    def listening(self) -> bool:
        """Whether it listens now (started, not stopped)."""
        return self._server is not None

    async def start(self) -> None:
        """Listen, unless it already does; a port that cannot be had is an OSError naming it, in one sentence."""
        if self._server is not None:
            return
        try:
            self._server = await asyncio.start_server(self._accept, self.host, self.requested_port)
        except OSError as exc:
            raise OSError(exc.errno, f"cannot listen on {self.host} port {self.requested_port}: "
                                     f"{exc.strerror}") from None
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening, cancel every connection's task and wait for them (abort the connections first)."""
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), 2)
            self._server = None

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self._tasks.add(task)
        try:
            await self.serve(reader, writer)
        finally:
            self._tasks.discard(task)
