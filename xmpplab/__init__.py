"""xmpplab: learn and teach XMPP hands-on, with a real server inside.

>>> from xmpplab import JID
>>> JID("Juliet@Example.com/balcony").bare
JID('juliet@example.com')
"""

__version__ = "0.1.0"

from .jid import JID, InvalidJID  # noqa: E402

__all__ = ["JID", "InvalidJID", "Server", "Lab", "SyncLab", "Client", "run", "__version__"]


def __getattr__(name):
    # The server, the Lab and the client pull in asyncio, sqlite, slixmpp and the SASL code:
    # import them when first asked for, so `import xmpplab` stays quick.
    if name == "Server":
        from .server import Server
        return Server
    if name in ("Lab", "SyncLab", "run"):
        from . import lab
        return getattr(lab, name)
    if name == "Client":
        from .client import Client
        return Client
    raise AttributeError(f"module 'xmpplab' has no attribute {name!r}")
