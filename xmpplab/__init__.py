"""xmpplab: learn and teach XMPP hands-on, with a real server inside.

>>> from xmpplab import JID
>>> JID("Juliet@Example.com/balcony").bare
JID('juliet@example.com')
"""

from . import alternatives as _alternatives
from . import display as _display
from ._version import __version__
from .jid import JID, InvalidJID

__all__ = ["JID", "InvalidJID", "Server", "Lab", "SyncLab", "Client", "run", "predict", "__version__"]


def _load_views() -> None:
    """The views of addresses, transcript items and transcripts (registered when xmpplab.render is imported)."""
    from . import render  # noqa: F401 - imported for what it registers


def _load_cards() -> None:
    """The cards of the Lab and its clients (loaded only when one of those is displayed)."""
    from .render import cards  # noqa: F401 - imported for what it registers


# Addresses, transcripts, the client and the Lab know no view: they ask xmpplab.display, which imports
# these views the first time an object of theirs is shown in a notebook (so `import xmpplab` stays quick).
_display.add_loader(_load_views)
_display.add_loader(_load_cards)


def _class_lab(domains, options, private):
    """A kernel that works in a class (XMPPLAB_SERVER, XMPPLAB_ACCOUNT) starts its Labs on the class server."""
    import os
    import sys

    if "xmpplab.classroom.student" not in sys.modules and not os.environ.get("XMPPLAB_SERVER"):
        return None  # no class: not even the classroom is imported (use_class() imports it)
    from .classroom.student import class_settings

    if class_settings() is None:
        return None
    from .classroom.remote import class_lab
    return class_lab(domains, options, private=private)


_alternatives.add_chooser(_class_lab)


def __getattr__(name):
    # The server, the Lab and the client pull in asyncio, sqlite, slixmpp and the SASL code:
    # import them when first asked for, so `import xmpplab` stays quick.
    if name == "Server":
        from .server import Server
        return Server
    if name in ("Lab", "SyncLab", "run"):
        from . import lab
        return getattr(lab, name)
    if name == "predict":
        # ipywidgets is imported only when a notebook asks for a prediction
        from .widgets.prediction import predict
        return predict
    if name == "Client":
        from .client import Client
        return Client
    raise AttributeError(f"module 'xmpplab' has no attribute {name!r}")
