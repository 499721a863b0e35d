"""``async with`` for what starts and stops: the server, the recording proxy, the replay fake server.

::

    async with Server("example.com") as server:   # await server.start() ... await server.stop()
        ...
"""

from __future__ import annotations

from typing import Self

__all__ = ["StartStop"]


class StartStop:
    """A base giving ``async with`` to a class with ``async start()`` (which returns self) and ``async stop()``."""

    async def start(self) -> Self:
        """Start; returns self."""
        raise NotImplementedError

    async def stop(self) -> None:
        """Stop what :meth:`start` started."""
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc) -> None:
        await self.stop()
