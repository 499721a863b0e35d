"""Find a Graphviz ``dot`` to draw graphs with, and draw them; say why in one sentence when there is none.

Where ``dot`` comes from, first found wins:

1. ``XMPPLAB_DOT``: a path to a dot-compatible binary, or ``none`` to draw nothing
   (for trying the fallback view);
2. a system ``dot`` on PATH (apt, Homebrew, conda...), when it can draw SVG;
3. ``graphviz-pure`` (a PyPI package xmpplab depends on): a static binary with
   dot's flags, installed next to the Python interpreter, or on PATH.

Each candidate is tried once on a tiny graph before it is used, so a broken
install falls through to the next instead of failing on every picture::

    >>> from xmpplab.render import graphviz_backend as gv
    >>> gv.find_renderer()                       # doctest: +SKIP
    Renderer(path='/.../.venv/bin/graphviz-pure', source='graphviz-pure')
    >>> svg = gv.render_svg("digraph { a -> b }")  # str, or None when nothing renders
    >>> gv.why_no_renderer()                     # None, or one sentence saying why

Drawing runs the binary directly (``dot -Tsvg``, source on stdin) with a
timeout, so a pathological graph cannot hang a notebook kernel; results are
cached by source. The ``graphviz`` Python package is not needed for that;
:func:`graphviz_source` hands you a ``graphviz.Source`` that renders with the
same binary, by pointing the package at it (its ``DOT_BINARY`` setting; the
user's PATH is never changed). :func:`subprocess_env` gives an environment
whose PATH starts with a private folder holding a ``dot`` link to the binary,
for running other tools that call ``dot`` by name.

:class:`Figure` is how xmpplab's pictures show themselves in Jupyter: the SVG
inline when there is one, else one sentence saying why (from
:func:`why_no_renderer`), the DOT source and a text table. Never a traceback.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import html
import itertools
import logging
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from .display import HTML, PLAIN, Displayable, make_bundle

log = logging.getLogger("xmpplab.render")

__all__ = ["Figure", "Renderer", "fallback_html", "figure_html", "find_renderer", "graphviz_source", "inline_svg",
           "last_error", "render", "render_svg", "reset", "subprocess_env", "why_no_renderer"]

ENV_VAR = "XMPPLAB_DOT"
TIMEOUT = 20.0  # seconds for one drawing
_PROBE = "digraph xmpplab_probe { a -> b }"
_FORMATS = ("svg", "png")

_lock = threading.Lock()
_found: tuple[Renderer | None, str | None] | None = None  # (renderer, reason) once searched
_last_error: str | None = None
_shim: Path | None = None


@dataclass(frozen=True)
class Renderer:
    """A dot-compatible binary that was seen to draw SVG: its path and where it came from."""

    path: str
    source: str  # "XMPPLAB_DOT", "system dot" or "graphviz-pure"

    @property
    def name(self) -> str:
        """The file name of the Graphviz program."""
        return Path(self.path).name


def _candidates() -> list[tuple[str, str]]:
    """(path, source) pairs in the order they are tried."""
    found: list[tuple[str, str]] = []
    dot = shutil.which("dot")
    if dot:
        found.append((dot, "system dot"))
    names = ("graphviz-pure.exe", "graphviz-pure") if os.name == "nt" else ("graphviz-pure",)
    folders = [Path(sys.executable).parent]
    with contextlib.suppress(KeyError, TypeError):  # pragma: no cover - an unusual install scheme
        folders.append(Path(sysconfig.get_path("scripts")))
    for folder in folders:
        for name in names:
            path = folder / name
            if path.is_file() and os.access(path, os.X_OK):
                found.append((str(path), "graphviz-pure"))
    on_path = shutil.which("graphviz-pure")
    if on_path:
        found.append((on_path, "graphviz-pure"))
    seen, unique = set(), []
    for path, source in found:
        key = os.path.realpath(path)
        if key not in seen:
            seen.add(key)
            unique.append((path, source))
    return unique


def _probe(path: str) -> str | None:
    """None when ``path`` draws SVG, else what went wrong (a short phrase)."""
    try:
        proc = subprocess.run([path, "-Tsvg"], input=_PROBE.encode(), capture_output=True, timeout=TIMEOUT,
                              check=False)
    except subprocess.TimeoutExpired:
        return f"{path} did not answer within {TIMEOUT:g} s"
    except OSError as exc:
        return f"{path} could not be started ({exc.strerror or exc})"
    if proc.returncode != 0 or b"<svg" not in proc.stdout:
        err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        return f"{path} failed to draw SVG ({err[-1] if err else f'exit status {proc.returncode}'})"
    return None


def _search() -> tuple[Renderer | None, str | None]:
    forced = os.environ.get(ENV_VAR, "").strip()
    if forced:
        if forced.lower() in ("none", "off", "0", "no"):
            return None, f"Graphviz drawing is switched off ({ENV_VAR}={forced})."
        path = shutil.which(forced) or forced
        problem = _probe(path)
        if problem is None:
            return Renderer(path, ENV_VAR), None
        return None, f"The Graphviz binary named by {ENV_VAR} does not work: {problem}."
    problems = []
    for path, source in _candidates():
        problem = _probe(path)
        if problem is None:
            return Renderer(path, source), None
        log.info("not using %s: %s", path, problem)
        problems.append(problem)
    if problems:
        return None, f"No working Graphviz was found: {'; '.join(problems)}."
    return None, ("No Graphviz was found to draw this (neither a system 'dot' nor the graphviz-pure package): "
                  "install it with `pip install graphviz-pure`.")


def _state() -> tuple[Renderer | None, str | None]:
    global _found
    with _lock:
        if _found is None:
            _found = _search()
        return _found


def find_renderer() -> Renderer | None:
    """The binary used to draw graphs, or None; searched once, then remembered (see :func:`reset`)."""
    return _state()[0]


def why_no_renderer() -> str | None:
    """One sentence saying why nothing can draw graphs; None when something can."""
    return _state()[1]


def last_error() -> str | None:
    """What went wrong the last time a drawing failed although a renderer exists (one sentence)."""
    return _last_error


def reset() -> None:
    """Forget the renderer found and the drawings cached (after installing Graphviz, or in tests)."""
    global _found, _last_error
    with _lock:
        _found = None
        _last_error = None
    _render_cached.cache_clear()


@functools.lru_cache(maxsize=128)
def _render_cached(path: str, source: str, fmt: str) -> tuple[bytes | None, str | None]:
    """(output, None) or (None, one sentence saying what went wrong)."""
    try:
        proc = subprocess.run([path, f"-T{fmt}"], input=source.encode("utf-8"), capture_output=True,
                              timeout=TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        return None, f"Graphviz took more than {TIMEOUT:g} s to draw this graph, so it is shown as text."
    except OSError as exc:
        return None, f"Graphviz ({path}) could not be started ({exc.strerror or exc}), so the graph is shown as text."
    if proc.returncode != 0 or not proc.stdout:
        err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        log.warning("dot failed: %s", "\n".join(err))
        why = err[-1] if err else f"exit status {proc.returncode}"
        return None, f"Graphviz could not draw this graph ({why}), so it is shown as text."
    return proc.stdout, None


def render(dot_source: str, format: str = "svg") -> bytes | None:
    """Draw DOT source as ``svg`` or ``png`` bytes; None when no renderer exists or drawing failed
    (then :func:`why_no_renderer` or :func:`last_error` says why). Never raises for a bad graph."""
    global _last_error
    if format not in _FORMATS:
        raise ValueError(f"format must be one of {', '.join(_FORMATS)} (graphviz-pure cannot make {format!r})")
    renderer = find_renderer()
    if renderer is None:
        return None
    data, error = _render_cached(renderer.path, dot_source, format)
    _last_error = error
    return data


def render_svg(dot_source: str) -> str | None:
    """Draw DOT source as SVG text, or None (see :func:`render`). Cached by source."""
    data = render(dot_source, "svg")
    return data.decode("utf-8", "replace") if data is not None else None


def reason(drawn: bool) -> str | None:
    """Why a picture is missing: no renderer, or the last drawing failure; None when it was drawn."""
    if drawn:
        return None
    return why_no_renderer() or last_error() or "Graphviz could not draw this graph, so it is shown as text."


# ---------------------------------------------------------------------- other tools that call `dot`
def _shim_dir(renderer: Renderer) -> Path:
    """A private folder holding ``dot``, a link (or a copy, where links are not allowed) to the renderer."""
    global _shim
    if _shim is not None and (_shim / "dot").exists() and os.path.realpath(_shim / "dot") == \
            os.path.realpath(renderer.path):
        return _shim
    folder = Path(tempfile.mkdtemp(prefix="xmpplab-dot-"))
    atexit.register(shutil.rmtree, folder, True)
    target = folder / ("dot.exe" if os.name == "nt" else "dot")
    try:
        target.symlink_to(renderer.path)
    except OSError:
        shutil.copy2(renderer.path, target)
    _shim = folder
    return folder


def subprocess_env(base: dict | None = None) -> dict | None:
    """An environment for a subprocess that calls ``dot`` by name: PATH starts with a private folder
    whose ``dot`` is the renderer found. None when no renderer exists. ``os.environ`` is not changed."""
    renderer = find_renderer()
    if renderer is None:
        return None
    env = dict(os.environ if base is None else base)
    if renderer.source == "system dot":
        return env
    env["PATH"] = str(_shim_dir(renderer)) + os.pathsep + env.get("PATH", "")
    return env


def graphviz_source(dot_source: str, **kwargs):
    """A ``graphviz.Source`` for ``dot_source`` that renders with the binary found here.

    When that binary is not a ``dot`` on PATH, the package's ``DOT_BINARY``
    setting is pointed at it (the package then uses it everywhere in this
    process; nothing that worked before stops working, since there was no
    ``dot`` to use). Raises RuntimeError with :func:`why_no_renderer` when
    nothing renders, ImportError when the ``graphviz`` package is missing.
    """
    import graphviz
    from graphviz.backend import dot_command

    renderer = find_renderer()
    if renderer is None:
        raise RuntimeError(why_no_renderer())
    if renderer.source != "system dot":
        dot_command.DOT_BINARY = Path(renderer.path)
    return graphviz.Source(dot_source, **kwargs)


# ---------------------------------------------------------------------- showing a picture in a notebook
SVG = "image/svg+xml"


class Figure(Displayable):
    """Display protocol for xmpplab's pictures (routing graphs, sequence charts, the state machine),
    on the render package's :class:`~xmpplab.render.display.Displayable` mixin.

    Subclasses give ``svg()`` (None when it cannot be drawn), ``text()`` and optionally ``dot()``.
    The bundle has ``image/svg+xml`` and ``text/html`` (the SVG inline, so nbconvert's HTML keeps
    it) when there is a picture; otherwise ``text/html`` with one sentence saying why, the DOT source
    and the text. ``text/plain`` always. Nothing here raises into the notebook.
    """

    title = ""

    def svg(self) -> str | None:  # pragma: no cover - overridden
        """The picture as SVG, or None when it cannot be drawn."""
        return None

    def text(self) -> str:  # pragma: no cover - overridden
        """The picture as plain text."""
        return ""

    def dot(self) -> str | None:
        """The picture's Graphviz DOT source, or None when it has none."""
        return None

    def _why_not_drawn(self) -> str:
        return reason(False)

    def _picture(self) -> tuple[str | None, str | None]:
        """(svg, None) or (None, one sentence saying why there is no picture)."""
        try:
            svg = self.svg()
        except Exception as exc:  # never a traceback in the notebook
            return None, f"This could not be drawn ({type(exc).__name__}: {exc}), so it is shown as text."
        return (svg, None) if svg is not None else (None, self._why_not_drawn())

    def _display_text(self) -> str:
        return self.text()

    def _display_html(self) -> str:
        svg, why = self._picture()
        if svg is not None:
            return figure_html(svg, self.text(), self.title)
        try:
            dot = self.dot()
        except Exception:
            dot = None
        return fallback_html(why, dot, self.text(), self.title)

    def _repr_mimebundle_(self, include=None, exclude=None, **_):
        renderers = {PLAIN: self._display_text, HTML: self._display_html}
        if (include is None or SVG in include) and not (exclude and SVG in exclude):
            svg, _why = self._picture()
            if svg is not None:
                renderers[SVG] = lambda: svg
        return make_bundle(renderers, include, exclude)


_ids = itertools.count(1)
_DECL = re.compile(r"<\?xml[^>]*\?>|<!DOCTYPE[^>]*>|<!--.*?-->", re.DOTALL)


def inline_svg(svg: str) -> str:
    """SVG ready to sit inside HTML: no XML declaration, doctype or comments, and ids made unique
    on the page (Graphviz numbers every picture's ids from 1)."""
    svg = _DECL.sub("", svg).strip()
    prefix = f"xl{next(_ids)}-"
    svg = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}{m.group(1)})", svg)
    return re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}{m.group(1)}"', svg)


_BOX = "font-family:sans-serif;font-size:13px;max-width:100%;overflow-x:auto"
_PRE = ("font-family:monospace;font-size:12px;background:#f7f7f7;color:#222;padding:6px;margin:4px 0;"
        "white-space:pre;overflow-x:auto")


def figure_html(svg: str, text: str, title: str = "") -> str:
    """The SVG inline, with the text version folded away under it (self-contained, inline styles)."""
    return (f"<div class='xmpplab-figure' style='{_BOX}' title='{html.escape(title, quote=True)}'>"
            f"{inline_svg(svg)}"
            f"<details><summary style='color:#666;cursor:pointer'>as text</summary>"
            f"<pre style='{_PRE}'>{html.escape(text)}</pre></details></div>")


def fallback_html(why: str, dot: str | None, text: str, title: str = "") -> str:
    """No picture: one sentence saying why, the DOT source (folded) and the text table."""
    parts = [f"<div class='xmpplab-figure' style='{_BOX}'>",
             f"<p style='color:#8a5300;margin:2px 0 6px 0'>{html.escape(why)}</p>"]
    if dot:
        parts.append(f"<details><summary style='cursor:pointer'>DOT source</summary>"
                     f"<pre style='{_PRE}'>{html.escape(dot)}</pre></details>")
    parts.append(f"<pre style='{_PRE}'>{html.escape(text)}</pre></div>")
    return "".join(parts)


# ---------------------------------------------------------------------- writing DOT
def q(value) -> str:
    """A DOT quoted string (ids and attribute values)."""
    s = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{s}"'


def dot_attrs(**attrs) -> str:
    """`` [k="v", ...]`` for the attributes that are not None (``class_`` gives ``class``)."""
    items = [f"{k.rstrip('_')}={q(v)}" for k, v in attrs.items() if v is not None]
    return f" [{', '.join(items)}]" if items else ""
