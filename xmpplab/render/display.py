"""Objects that display themselves: one small mixin, formats computed only when asked for.

Jupyter (IPython) asks an object for ``_repr_mimebundle_(include, exclude)``
and shows the richest format it can. :class:`Displayable` answers with
``text/plain`` (always) and ``text/html`` (escaped and styled inline, so it
survives nbconvert and nbviewer without a kernel), each computed only if
wanted::

    class Greeting(Displayable):
        def _display_text(self) -> str:
            return "hello"
        def _display_html(self) -> str:
            return "<b>hello</b>"

Classes that are not ours to re-base (JID, transcript items, the Client, the
Lab) get two lines that call :func:`mimebundle` and :func:`html_for`, which
find their renderers in :mod:`xmpplab.render.objects`. Nothing here imports
IPython, ipywidgets or graphviz.

A renderer that fails never breaks the notebook: the HTML says what went
wrong in one line and shows the plain text instead.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable

log = logging.getLogger("xmpplab.render")

PLAIN = "text/plain"
HTML = "text/html"


def make_bundle(renderers: dict[str, Callable[[], str]], include=None, exclude=None) -> dict[str, str]:
    """Call the renderers of the formats wanted (``include`` minus ``exclude``); text/plain always."""
    formats = [f for f in renderers if (include is None or f in include) and (exclude is None or f not in exclude)]
    if PLAIN not in formats and PLAIN in renderers:
        formats.insert(0, PLAIN)
    data: dict[str, str] = {}
    for fmt in formats:
        try:
            data[fmt] = renderers[fmt]()
        except Exception as exc:  # a view must never break the notebook
            log.warning("could not render %s", fmt, exc_info=True)
            data[fmt] = _failure(fmt, exc, renderers)
    return data


def _failure(fmt: str, exc: Exception, renderers) -> str:
    why = f"{type(exc).__name__}: {exc}"
    text = ""
    if fmt != PLAIN and PLAIN in renderers:
        try:
            text = renderers[PLAIN]()
        except Exception:  # noqa: BLE001
            text = ""
    if fmt == HTML:
        return (f'<div style="color:#82071e;background:#fff0f0;padding:4px 8px;font:12px sans-serif">'
                f"xmpplab could not draw this view ({html.escape(why)}).</div>"
                f'<pre style="background:#f6f8fa;color:#1f2328;padding:4px 8px">{html.escape(text)}</pre>')
    return text or f"<could not render: {why}>"


class Displayable:
    """Mixin: ``_repr_mimebundle_`` from ``_display_text`` (text/plain) and ``_display_html`` (text/html)."""

    __slots__ = ()

    def _display_text(self) -> str:
        return repr(self)

    def _display_html(self) -> str:  # pragma: no cover - every subclass overrides it
        return f"<pre>{html.escape(self._display_text())}</pre>"

    def _repr_mimebundle_(self, include=None, exclude=None, **_):
        return make_bundle({PLAIN: self._display_text, HTML: self._display_html}, include, exclude)

    def _repr_html_(self) -> str:
        return make_bundle({PLAIN: self._display_text, HTML: self._display_html}, include=(HTML,))[HTML]


# ---------------------------------------------------------------------------------------------
# For classes defined elsewhere (JID, Item, Transcript, Connection, Selection, Client, Lab):
# their _repr_mimebundle_ calls mimebundle(self, include, exclude).

def _renderers(obj) -> dict[str, Callable[[], str]]:
    from . import objects

    text_fn, html_fn = objects.renderers_for(obj)
    return {PLAIN: lambda: text_fn(obj), HTML: lambda: html_fn(obj)}


def mimebundle(obj, include=None, exclude=None) -> dict[str, str]:
    """The display data of any object :mod:`xmpplab.render.objects` knows (text/plain always)."""
    try:
        renderers = _renderers(obj)
    except Exception as exc:
        log.warning("no renderer for %r", type(obj), exc_info=True)
        return {PLAIN: repr(obj), HTML: _failure(HTML, exc, {PLAIN: lambda: repr(obj)})}
    return make_bundle(renderers, include, exclude)


def html_for(obj) -> str:
    """The HTML of any object :mod:`xmpplab.render.objects` knows (for ``_repr_html_``)."""
    return mimebundle(obj, include=(HTML,))[HTML]


def text_for(obj) -> str:
    """The plain text an object shows in a notebook or a terminal IPython."""
    return mimebundle(obj, include=(PLAIN,))[PLAIN]
