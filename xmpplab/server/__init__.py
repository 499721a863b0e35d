"""The loopback XMPP server. See :class:`Server`."""

from .core import DEFAULT_MODULES, Accounts, Server
from ..errors import StanzaError

__all__ = ["Server", "Accounts", "StanzaError", "DEFAULT_MODULES"]
