"""xmpplab: learn and teach XMPP hands-on, with a real server inside.

>>> from xmpplab import JID
>>> JID("Juliet@Example.com/balcony").bare
JID('juliet@example.com')
"""

__version__ = "0.1.0"

from .jid import JID, InvalidJID  # noqa: E402

__all__ = ["JID", "InvalidJID", "Server", "__version__"]


def __getattr__(name):
    # The server pulls in asyncio, sqlite and the SASL code: import it when first asked for.
    if name == "Server":
        from .server import Server
        return Server
    raise AttributeError(f"module 'xmpplab' has no attribute {name!r}")
