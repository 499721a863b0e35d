"""The final project's runner: a client that answers what it receives, in the background of a notebook.

Chapter 17 has the learner write one function, ``async def handle(stanza)``, that
decides what the bot does with each stanza it receives (approve a contact, answer
a chat, speak in a room). :class:`Bot` runs it: a task takes every stanza the
client receives, oldest first (:meth:`xmpplab.client.Client.next`), and awaits
``handle(stanza)``. A handler that raises does not stop the bot: the error is
kept (``bot.errors``) and shown in its repr, so a learner sees it in the next cell::

    bot = Bot.start(nurse, handle)
    bot            # <Bot nurse@example.com/bot: running, 3 stanzas handled, no errors>
    await bot.stop()
"""

from __future__ import annotations

import asyncio
import contextlib
import traceback

from ..client import Client, ClientError, StanzaTimeout

__all__ = ["Bot", "open_room"]

RUNNING: list[Bot] = []  # at most one bot per client: starting another stops the older one


class Bot:
    """A client and its handler, running in the notebook's event loop (see the module docstring)."""

    def __init__(self, client: Client, handler):
        if not isinstance(client, Client):
            raise TypeError(f"Bot.start needs a connected client (from await lab.connect(...)), "
                            f"not {type(client).__name__}")
        if not asyncio.iscoroutinefunction(handler):
            raise TypeError("the handler must be an async function: async def handle(stanza): ...")
        self.client = client
        self.handler = handler
        self.handled = 0
        self.errors: list[str] = []
        self.stopped_because: str | None = None
        self._task: asyncio.Task | None = None

    @classmethod
    def start(cls, client: Client, handler) -> Bot:
        """Start answering: every stanza ``client`` receives from now on goes to ``await handler(stanza)``.

        A bot started earlier for the same client (a re-run cell) is stopped first.
        """
        bot = cls(client, handler)
        for old in [b for b in RUNNING if b.client is client]:
            old.cancel()
        bot._task = asyncio.get_running_loop().create_task(bot._run(), name=f"bot {client.jid}")
        RUNNING.append(bot)
        return bot

    @property
    def running(self) -> bool:
        """True while the bot answers."""
        return self._task is not None and not self._task.done() and not self._task.cancelling()

    async def _run(self) -> None:
        try:
            while True:
                try:
                    stanza = await self.client.next(timeout=60)
                except StanzaTimeout:
                    continue
                self.handled += 1
                try:
                    await self.handler(stanza)
                except ClientError as exc:
                    if not self.client.connected:
                        raise
                    self.errors.append(f"{type(exc).__name__}: {exc}")
                except Exception as exc:
                    frames = traceback.extract_tb(exc.__traceback__)
                    where = f" (line {frames[-1].lineno})" if frames else ""
                    self.errors.append(f"{type(exc).__name__}: {exc}{where}")
        except ClientError as exc:
            self.stopped_because = str(exc)
        finally:
            if self in RUNNING:
                RUNNING.remove(self)

    def cancel(self) -> None:
        """Stop at once, without waiting (see :meth:`stop`)."""
        if self._task is not None:
            self._task.cancel()
        self.stopped_because = self.stopped_because or "stopped"
        if self in RUNNING:
            RUNNING.remove(self)

    async def stop(self) -> None:
        """Stop answering; the client stays connected."""
        self.cancel()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def __repr__(self) -> str:
        state = "running" if self.running else f"stopped ({self.stopped_because or 'finished'})"
        count = f"{self.handled} stanza{'s' if self.handled != 1 else ''} handled"
        if not self.errors:
            return f"<Bot {self.client.jid}: {state}, {count}, no errors>"
        return (f"<Bot {self.client.jid}: {state}, {count}, {len(self.errors)} error"
                f"{'s' if len(self.errors) != 1 else ''}; the last: {self.errors[-1]}>")


MUC = "http://jabber.org/protocol/muc"


async def open_room(client: Client, room: str, nick: str, *, timeout: float = 5.0) -> bool:
    """Enter the group chat ``room`` as ``nick`` (XEP-0045 §7.2); return True if this created it.

    A room that did not exist is created, and locked until its owner accepts the default
    configuration (an "instant room", XEP-0045 §10.1.2): this does that too, as chapter 08 did by hand.
    """
    await client.send_raw(f"<presence to='{room}/{nick}'><x xmlns='{MUC}'/></presence>")
    own = await client.next("presence", timeout=timeout, from_=f"{room}/{nick}")  # a class Lab's client maps it
    if own["type"] == "error":
        raise ClientError(f"{client.jid} could not enter {room} as {nick}: {own['error']['condition']}")
    created = own.xml.find(f"{{{MUC}#user}}x/{{{MUC}#user}}status[@code='201']") is not None
    if created:
        await client.iq(f"<iq type='set' to='{room}'><query xmlns='{MUC}#owner'>"
                        "<x xmlns='jabber:x:data' type='submit'/></query></iq>", timeout=timeout)
    return created
