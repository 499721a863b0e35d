"""What every negotiator that is fed a parser's events shares: one way in, one way to close.

:meth:`Negotiator.receive` hands each :mod:`xmpplab.stream` event to the
negotiator's ``stream_opened`` or ``element``; the end of the peer's stream,
or a violation of RFC 6120's restricted XML (section 11), closes it. Any state
may end with a stream error (RFC 6120 4.9): ``_close`` moves to the table's
``CLOSED`` state and returns the :class:`~.actions.Close` action.
"""

from __future__ import annotations

from ..stream import StanzaReceived, StreamClosed, StreamOpened
from .actions import Close


class Negotiator:
    """The base of :class:`~.server.ServerNegotiator` and the s2s negotiators; ``CLOSED``: its table's end state."""

    __slots__ = ()
    CLOSED = None

    def stream_opened(self, ev: StreamOpened) -> list:
        """The peer's stream header (RFC 6120 4.2)."""
        raise NotImplementedError

    def element(self, el) -> list:
        """An element at depth 1 of the peer's stream."""
        raise NotImplementedError

    def _close(self, condition: str | None = None, text: str | None = None) -> list:
        self.state = self.CLOSED  # any state may end with a stream error (RFC 6120 4.9)
        return [Close(condition, text)]

    def receive(self, event) -> list:
        """Everything the parser reported, in turn: returns what to send and do."""
        kind = type(event)
        if kind is StanzaReceived:
            return self.element(event.element)
        if kind is StreamOpened:
            return self.stream_opened(event)
        if kind is StreamClosed:
            return self._close()
        return self._close(event.condition, event.text)  # StreamViolation
