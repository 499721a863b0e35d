"""A standalone HTML page of a transcript, for sharing a recording with a class.

    html = render_page(transcript, title="juliet logs in")
    Path("page.html").write_text(html, encoding="utf-8")

The page opens in any browser, offline, without a kernel: one file, CSS
inline, no script, no external resource (the only links are to the RFC and
XEP sections the explanations cite). It holds:

* a summary of the connections (who, from where, TLS, SASL, counts);
* the two-column stream view of every connection, with explanations;
* the routing graph and the sequence chart, when :mod:`.graph` and
  :mod:`.sequence` are installed: as inline SVG when Graphviz can draw, else
  their DOT source and text (the figures say why).

Credentials stay masked, as in every other view. A very large transcript is
cut at ``max_items`` (default 20,000) or ``max_bytes`` of stream view (default
50 MB), and the page says so.
"""

from __future__ import annotations

import datetime
import html
import importlib
import logging

from .display import HTML
from .palette import BLACK, BORDER, FONT, MUTED
from .stream_view import StreamView, connection_header_text

log = logging.getLogger("xmpplab.render")

MAX_ITEMS = 20_000
MAX_BYTES = 50_000_000

_CSS = f"""
  html {{ background:#ffffff; }}
  body {{ margin:0 auto; padding:16px 24px 40px; max-width:1400px; background:#ffffff; color:{BLACK};
         {FONT}; font-size:14px; line-height:1.5; }}
  h1 {{ font-size:22px; margin:0 0 4px; }}
  h2 {{ font-size:17px; margin:28px 0 8px; padding-bottom:3px; border-bottom:1px solid {BORDER}; }}
  p.lead {{ color:{MUTED}; margin:0 0 8px; }}
  nav {{ margin:8px 0 4px; font-size:13px; }}
  nav a {{ color:#0550ae; margin-right:14px; }}
  table.conns {{ border-collapse:collapse; font-size:12px; }}
  table.conns th, table.conns td {{ border:1px solid {BORDER}; padding:2px 8px; text-align:left;
                                    vertical-align:top; }}
  table.conns th {{ background:#f6f8fa; }}
  .note {{ color:{MUTED}; font-size:13px; }}
  footer {{ margin-top:32px; color:{MUTED}; font-size:12px; border-top:1px solid {BORDER}; padding-top:6px; }}
  svg {{ max-width:100%; height:auto; }}
  @media print {{ details > summary {{ list-style:none; }}
                  div[style*="overflow:auto"] {{ max-height:none !important; }} }}
"""


def render_page(transcript, title: str | None = None, *, explanations: bool = True, max_items: int = MAX_ITEMS,
                max_bytes: int = MAX_BYTES, figures: bool = True, expand="auto") -> str:
    """A complete standalone HTML document of ``transcript`` (see the module docstring)."""
    from .._version import __version__

    title = title or transcript.header.get("description") or "XMPP transcript"
    esc = html.escape
    conns = list(transcript.connections.values())
    view = StreamView(transcript, page_size=max_items, max_bytes=max_bytes, explanations=explanations,
                      title="The XML streams", max_height=None, expand=expand, anchor_prefix="x")
    streams = view.html()
    lead = [f"Recorded by {transcript.recorded_by or 'unknown'}"]
    if transcript.header.get("started"):
        lead.append(f"started {transcript.header['started']}")
    lead.append(f"{len(conns)} connection{'s' if len(conns) != 1 else ''}, {view.total:,} items")
    lead.append("credentials masked")
    sections = [
        f"<h1>{esc(title)}</h1>",
        f'<p class="lead">{esc("; ".join(lead))}.</p>',
        '<nav><a href="#connections">Connections</a><a href="#streams">XML streams</a>'
        + ('<a href="#routing">Routing graph</a><a href="#sequence">Sequence chart</a>' if figures else "")
        + "</nav>",
        '<section id="connections"><h2>Connections</h2>' + _connections_table(conns) + _notes(transcript)
        + "</section>",
        '<section id="streams"><h2>XML streams</h2>'
        '<p class="note">Client to server (C→S) on the left in green, server to client (S→C) on the right in '
        "black, in the order they crossed the wire. Click a row to fold it; each explanation links to the RFC or "
        "XEP section it comes from.</p>" + streams + "</section>",
    ]
    if figures:
        sections.append('<section id="routing"><h2>Routing graph</h2>'
                        + _figure("graph", "routing_graph", transcript) + "</section>")
        sections.append('<section id="sequence"><h2>Sequence chart</h2>'
                        + _figure("sequence", "sequence_chart", transcript) + "</section>")
    made = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    sections.append(f"<footer>Made with xmpplab {esc(__version__)} on {made}. A standalone page: no script, no "
                    "external resources; it needs no Jupyter kernel.</footer>")
    return ("<!DOCTYPE html>\n"
            '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<meta name="generator" content="xmpplab {esc(__version__)}">\n'
            f"<title>{esc(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
            + "\n".join(sections) + "\n</body>\n</html>\n")


def _connections_table(conns) -> str:
    if not conns:
        return '<p class="note">No connections were recorded.</p>'
    head = ("<tr><th>connection</th><th>kind</th><th>client → server</th><th>JID</th><th>TLS</th><th>SASL</th>"
            "<th>items</th><th>problems</th></tr>")
    rows = []
    for c in conns:
        rows.append("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in (
            c.id, c.kind, f"{c.client or '?'} → {c.server or '?'}", c.jid or "", c.tls or "", c.mechanism or "",
            len(c.parsed), c.problems_count)) + "</tr>")
    return f'<table class="conns">{head}{"".join(rows)}</table>'


def _notes(transcript) -> str:
    if not transcript.notes:
        return ""
    items = "".join(f"<li>{html.escape(n)}</li>" for n in transcript.notes)
    return f'<p class="note">Notes from the import:</p><ul class="note">{items}</ul>'


def _figure(module: str, function: str, transcript) -> str:
    """A colleague's figure as HTML (inline SVG, or its own DOT/text fallback); a sentence when absent."""
    try:
        mod = importlib.import_module(f"{__package__}.{module}")
        make = getattr(mod, function)
    except (ImportError, AttributeError):
        return f'<p class="note">Not available in this install (xmpplab.render.{module}.{function}).</p>'
    try:
        figure = make(transcript)
    except Exception as exc:
        log.warning("%s failed", function, exc_info=True)
        return f'<p class="note">Could not draw this: {html.escape(type(exc).__name__)}: {html.escape(str(exc))}</p>'
    try:
        bundle = figure._repr_mimebundle_(include=[HTML])
        if HTML in bundle:
            return bundle[HTML]
    except Exception:
        log.warning("%s could not be shown", function, exc_info=True)
    for attr in ("text", "dot"):
        fn = getattr(figure, attr, None)
        try:
            value = fn() if callable(fn) else None
        except Exception:  # noqa: BLE001 - a figure that fails is left out of the page
            value = None
        if value:
            return f'<pre style="white-space:pre-wrap">{html.escape(value)}</pre>'
    return f'<pre style="white-space:pre-wrap">{html.escape(repr(figure))}</pre>'


def connection_labels(transcript) -> list[str]:
    """One line per connection (used by the CLI's summary)."""
    return [connection_header_text(c) for c in transcript.connections.values()]
