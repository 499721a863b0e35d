"""A wiretap for chapter 10: a relay between clients and a server that keeps a copy of every byte.

The lab's transcripts record the text above TLS, what the two ends read. An eavesdropper on the
network sees the bytes on the TCP connection instead. The tap shows those: a client connects to the
tap, the tap opens a connection to the server, passes every byte on unchanged both ways and keeps
a copy, as ``(direction, bytes)`` pieces in :attr:`Wiretap.pieces`::

    tap = await Wiretap.start("127.0.0.1", lab.server.port)
    juliet = await xmpplab.Client.connect("juliet@example.com/balcony", "secret",
                                          host="127.0.0.1", port=tap.port, verify_tls=False)
    tap                          # each piece: its direction, its size and its first bytes
    tap.find(b"mechanism=")      # the first piece that holds these bytes
    await tap.close()

The tap listens on loopback only. It is a plain TCP relay: unlike :mod:`xmpplab.proxy` it does not
take part in TLS, so after STARTTLS (RFC 6120 section 5) all it sees are TLS records.
"""

from __future__ import annotations

import asyncio

from ..listener import Listener

__all__ = ["Wiretap"]

TO_SERVER = "C→S"
TO_CLIENT = "S→C"


class Wiretap:
    """A TCP relay on loopback in front of ``host:port`` that keeps every byte it passes on."""

    def __init__(self, host: str, port: int):
        self.host, self.server_port = host, port
        self.pieces: list[tuple[str, bytes]] = []
        self.port = 0   # the port clients connect to instead of the server's (set by start)
        self._listener = Listener(self._accept, "127.0.0.1")
        self._writers: set[asyncio.StreamWriter] = set()

    @classmethod
    async def start(cls, host: str, port: int) -> Wiretap:
        """Listen on a free loopback port and relay each connection to ``host:port``."""
        tap = cls(host, port)
        await tap._listener.start()
        tap.port = tap._listener.port
        return tap

    async def _accept(self, client_reader, client_writer) -> None:
        """One client: a connection of its own to the server, bytes copied both ways until either side ends."""
        try:
            server_reader, server_writer = await asyncio.open_connection(self.host, self.server_port)
        except OSError:
            client_writer.close()
            return
        self._writers.update((client_writer, server_writer))
        await asyncio.gather(self._relay(client_reader, server_writer, TO_SERVER),
                             self._relay(server_reader, client_writer, TO_CLIENT))

    async def _relay(self, reader, writer, direction: str) -> None:
        """Pass on what ``reader`` gives to ``writer``, keeping a copy; close ``writer`` at the end."""
        try:
            while data := await reader.read(65536):
                self.pieces.append((direction, data))
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()
            self._writers.discard(writer)

    def clear(self) -> None:
        """Forget the pieces kept so far."""
        self.pieces.clear()

    def find(self, needle: bytes) -> bytes | None:
        """The first piece that holds ``needle``, or None."""
        return next((data for _, data in self.pieces if needle in data), None)

    def lines(self, limit: int | None = None, width: int = 72) -> list[str]:
        """One line per piece (the first ``limit``): direction, size and the first ``width`` bytes."""
        shown = self.pieces if limit is None else self.pieces[:limit]
        out = [f"{direction} {len(data):5} bytes  {data[:width]}" for direction, data in shown]
        if len(shown) < len(self.pieces):
            out.append(f"... {len(self.pieces)} pieces in all")
        return out

    def __repr__(self) -> str:
        head = f"<Wiretap on 127.0.0.1:{self.port} → {self.host}:{self.server_port}, {len(self.pieces)} pieces>"
        return "\n".join([head, *self.lines(limit=12)])

    async def close(self) -> None:
        """Stop listening and close every relayed connection."""
        for writer in list(self._writers):
            writer.close()
        await self._listener.stop()
