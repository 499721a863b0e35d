"""The loopback XMPP server. See :class:`Server`."""

from ..errors import StanzaError
from .core import DEFAULT_MODULES, Accounts, Server

__all__ = ["Server", "Accounts", "StanzaError", "DEFAULT_MODULES"]
