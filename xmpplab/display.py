"""Objects that display themselves without knowing any view: a registry of renderers by type.

Jupyter (IPython) asks an object for ``_repr_mimebundle_(include, exclude)``
and shows the richest format it can. Addresses, transcripts, the client and
the Lab live below the views (``xmpplab.render``), so they cannot import them:
they inherit :class:`Shown`, whose ``_repr_mimebundle_`` asks this registry
for the renderers registered for their type (walking the class's MRO), and
the view layer registers its renderers when it is imported::

    # xmpplab/jid.py (data: knows no view)
    class JID(Shown): ...

    # xmpplab/render/objects.py (the view)
    display.register(JID, jid_text, jid_html)

The package root adds *loaders* (:func:`add_loader`): when an object of a type
nobody registered yet is displayed, the loaders not run yet are run one at a
time (each imports a view module, which registers its renderers) until one
view fits. So ``import xmpplab`` stays quick and a notebook still gets the rich
views. ``text/plain`` is always there; a renderer that fails never breaks the
notebook: the HTML says what went wrong in one line and shows the plain text.

View classes of the view layer itself inherit :class:`Displayable`
(``_display_text`` and ``_display_html``). Nothing here imports IPython,
ipywidgets or graphviz, nor any other module of xmpplab.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable

log = logging.getLogger("xmpplab.render")

PLAIN = "text/plain"
HTML = "text/html"

Renderer = Callable[[object], str]

_RENDERERS: dict[type, tuple[Renderer, Renderer]] = {}
_LOADERS: list[Callable[[], object]] = []


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
        except Exception:  # noqa: BLE001 - the failure of the HTML is what the user is told about
            log.warning("could not render %s either", PLAIN, exc_info=True)
            text = ""
    if fmt == HTML:
        return (f'<div style="color:#82071e;background:#fff0f0;padding:4px 8px;font:12px sans-serif">'
                f"xmpplab could not draw this view ({html.escape(why)}).</div>"
                f'<pre style="background:#f6f8fa;color:#1f2328;padding:4px 8px">{html.escape(text)}</pre>')
    return text or f"<could not render: {why}>"


# ---------------------------------------------------------------------------------- the registry
def register(cls: type, text: Renderer, html_: Renderer) -> None:
    """Show instances of ``cls`` (and its subclasses) with ``text(obj)`` and ``html_(obj)``."""
    _RENDERERS[cls] = (text, html_)


def add_loader(load: Callable[[], object]) -> None:
    """Run ``load()`` (which imports a view module that registers renderers) when a type has none yet."""
    _LOADERS.append(load)


def _registered(cls: type) -> tuple[Renderer, Renderer] | None:
    for klass in cls.__mro__:
        found = _RENDERERS.get(klass)
        if found is not None:
            return found
    return None


def renderers_for(obj) -> tuple[Renderer, Renderer]:
    """(text renderer, HTML renderer) registered for the object's type; TypeError when no view fits."""
    found = _registered(type(obj))
    while found is None and _LOADERS:
        _LOADERS.pop(0)()
        found = _registered(type(obj))
    if found is None:
        raise TypeError(f"xmpplab has no view of {type(obj).__name__}")
    return found


def mimebundle(obj, include=None, exclude=None) -> dict[str, str]:
    """The display data of any object with a registered view (text/plain always)."""
    try:
        text_fn, html_fn = renderers_for(obj)
    except Exception as exc:
        log.warning("no renderer for %r", type(obj), exc_info=True)
        return {PLAIN: repr(obj), HTML: _failure(HTML, exc, {PLAIN: lambda: repr(obj)})}
    return make_bundle({PLAIN: lambda: text_fn(obj), HTML: lambda: html_fn(obj)}, include, exclude)


def html_for(obj) -> str:
    """The HTML of any object with a registered view (for ``_repr_html_``)."""
    return mimebundle(obj, include=(HTML,))[HTML]


def text_for(obj) -> str:
    """The plain text an object shows in a notebook or a terminal IPython."""
    return mimebundle(obj, include=(PLAIN,))[PLAIN]


# ---------------------------------------------------------------------------------- the mixins
class Shown:
    """Mixin for data and drivers (JID, Item, transcripts, Client, Lab): shown by the view registered for the type."""

    __slots__ = ()

    def _repr_mimebundle_(self, include=None, exclude=None, **_):
        return mimebundle(self, include, exclude)

    def _repr_html_(self) -> str:
        return html_for(self)


class Displayable:
    """Mixin for views: ``_repr_mimebundle_`` from ``_display_text`` (text/plain) and ``_display_html`` (text/html)."""

    __slots__ = ()

    def _display_text(self) -> str:
        return repr(self)

    def _display_html(self) -> str:  # pragma: no cover - every subclass overrides it
        return f"<pre>{html.escape(self._display_text())}</pre>"

    def _repr_mimebundle_(self, include=None, exclude=None, **_):
        return make_bundle({PLAIN: self._display_text, HTML: self._display_html}, include, exclude)

    def _repr_html_(self) -> str:
        return make_bundle({PLAIN: self._display_text, HTML: self._display_html}, include=(HTML,))[HTML]
