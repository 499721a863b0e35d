"""The errors a :class:`~xmpplab.client.Client` raises (importable from :mod:`xmpplab.client` too)."""

from __future__ import annotations

from .errors import StanzaError

__all__ = ["ClientError", "ConnectError", "IqError", "StanzaTimeout"]


class ClientError(Exception):
    """Something a :class:`Client` was asked to do did not work; the message says what and why."""


class ConnectError(ClientError):
    """Could not connect, secure the stream or log in."""


class StanzaTimeout(ClientError, TimeoutError):
    """Nothing matching arrived in time (:meth:`Client.next`, :meth:`Client.iq`)."""


class IqError(ClientError, StanzaError):
    """The answer to an iq was ``type='error'``.

    ``condition`` is the RFC 6120 section 8.3.3 condition (``"service-unavailable"``),
    ``type`` the error type (``"cancel"``), ``text`` the server's explanation if any,
    and ``iq`` the error stanza itself.
    """

    def __init__(self, message: str, condition: str, type: str | None, text: str | None, iq=None):
        self.condition = condition
        self.type = type
        self.text = text
        self.iq = iq
        Exception.__init__(self, message)
