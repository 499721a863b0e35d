"""Seeing it: stream views, highlighted XML, explanations, standalone pages.

Everything a notebook displays goes through here, and nothing needs a live
kernel: the HTML is escaped and styled inline, so it survives nbconvert and
nbviewer; the same views exist as plain or ANSI text for the terminal::

    from xmpplab.render import stream_view, explain, render_page
    t = Transcript.load("sample_streams/juliet-login-starttls-scram.jsonl")
    t                                   # in a notebook: the two-column stream view (first page)
    view = stream_view(t, page_size=50)
    view.page(2)                        # the next 50 items
    explain(t.first(kind="iq", namespace="jabber:iq:roster"))
    # Explanation("juliet asks her server for her contact list ...", RFC 6121 §2.1.3)
    print(render_terminal(t))           # the same view with ANSI colours (NO_COLOR respected)
    open("page.html", "w").write(render_page(t, title="juliet logs in"))

Modules: :mod:`.display` (the display mixin), :mod:`.xmlview` (pretty,
highlighted XML), :mod:`.explain` (plain-language sentences with their RFC or
XEP section), :mod:`.stream_view` (the two-column view, paged),
:mod:`.summaries` (one-line summaries of items and connections),
:mod:`.ansi` (a page as terminal rows), :mod:`.terminal` (ANSI, colours
decided), :mod:`.objects` (how JIDs, items and transcripts show themselves),
:mod:`.cards` (the Lab's and the Client's cards), :mod:`.page` (standalone
HTML), :mod:`.cli` (the ``render`` subcommand). Routing graphs (drawn from
transcripts or server snapshots, never a live server) and sequence charts
live in the ``graph`` package and the ``sequence`` module and are re-exported
here when present.

Most attributes are imported on first use. ``explain`` and ``stream_view`` are
both a module and the function in it: they are imported here, so that
``from xmpplab.render import explain`` is always the function (use
``from xmpplab.render.explain import ...`` for the module's other names).
"""

from __future__ import annotations

import importlib

from . import explain as _explain_module
from . import objects as _objects  # noqa: F401 - registers the views of JIDs, items and transcripts
from . import stream_view as _stream_view_module

# Importing a submodule binds its name in this package: rebind the functions afterwards.
explain = _explain_module.explain
stream_view = _stream_view_module.stream_view

# name -> module that defines it
_EXPORTS = {
    "Displayable": "display",
    "mimebundle": "display",
    "XMLView": "xmlview",
    "xml_html": "xmlview",
    "xml_ansi": "xmlview",
    "xml_text": "xmlview",
    "pretty_lines": "xmlview",
    "Citation": "explain",
    "Explanation": "explain",
    "explain": "explain",
    "explain_exchange": "explain",
    "StreamView": "stream_view",
    "stream_view": "stream_view",
    "render_terminal": "terminal",
    "print_stream": "terminal",
    "color_enabled": "terminal",
    "render_page": "page",
    "add_render_command": "cli",
    "run_render_command": "cli",
}

# The colleague's modules (routing graphs, sequence charts): their public names are re-exported
# when the modules exist. Looked up lazily, so this package works with or without them.
_OPTIONAL_MODULES = ("graph", "sequence", "statemachine")

__all__ = [  # noqa: RUF022 - grouped by module, as _EXPORTS
    "Displayable", "mimebundle", "XMLView", "xml_html", "xml_ansi", "xml_text", "pretty_lines", "Citation",
    "Explanation", "explain", "explain_exchange", "StreamView", "stream_view", "render_terminal", "print_stream",
    "color_enabled", "render_page", "add_render_command", "run_render_command",
]


def _optional_exports() -> dict[str, str]:
    found = {}
    for name in _OPTIONAL_MODULES:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ImportError:
            continue
        names = getattr(module, "__all__", None)
        if names is None:
            names = [n for n, v in vars(module).items() if not n.startswith("_") and callable(v)
                     and getattr(v, "__module__", None) == module.__name__]
        for n in names:
            found.setdefault(n, name)
    return found


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        module = _optional_exports().get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


_SUBMODULES = ("ansi", "cards", "cli", "display", "explain", "objects", "page", "specs", "stream_view", "summaries",
               "terminal", "xmlview")


def __dir__():
    return sorted(set(_EXPORTS) | set(_optional_exports()) | set(_SUBMODULES) | {"__all__", "__doc__"})
