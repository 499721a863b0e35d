"""What :func:`~xmpplab.render.explain.explain` returns: a sentence, its sections, and how it is shown."""

from __future__ import annotations

import html
from dataclasses import dataclass

from ..display import Displayable
from ..specs import Citation

__all__ = ["Explanation", "citation_links", "explanation_html"]


@dataclass(frozen=True)
class Explanation(Displayable):
    """A sentence (or two) saying what something is and does, and where it is defined.

    ``citations`` come most relevant first: :attr:`citation` and :attr:`url` are the
    first one's. ``topic`` is a few words ("roster get"); ``step`` names a stream
    negotiation step ("stream header", "STARTTLS", "SASL auth", ...), or is None for
    ordinary stanzas; ``notes`` are extra lines (a decoded SASL payload...).
    """

    text: str
    citations: tuple[Citation, ...] = ()
    topic: str = ""
    notes: tuple[str, ...] = ()
    step: str | None = None
    problem: bool = False

    @property
    def citation(self) -> str:
        """``RFC 6121 §2.1.3``: the most relevant section ('' when there is none)."""
        return self.citations[0].label if self.citations else ""

    @property
    def url(self) -> str | None:
        """The link to the first spec section cited, or None."""
        return self.citations[0].url if self.citations else None

    @property
    def labels(self) -> list[str]:
        """The labels of the spec sections cited, in order."""
        return [c.label for c in self.citations]

    def __str__(self) -> str:
        cites = "; ".join(c.label for c in self.citations)
        return f"{self.text} ({cites})" if cites else self.text

    def __repr__(self) -> str:
        text = self.text if len(self.text) <= 70 else self.text[:67] + "..."
        return f"Explanation({text!r}, {self.citation or 'no citation'})"

    def _display_text(self) -> str:
        lines = [self.text, *self.notes]
        lines += [f"  {c.label} ({c.title}): {c.url}" for c in self.citations]
        return "\n".join(lines)

    def _display_html(self) -> str:
        return (f'<div style="background:#f6f8fa;color:#1f2328;padding:6px 10px;border-radius:4px;'
                f'font:13px/1.5 system-ui,-apple-system,\'Segoe UI\',sans-serif;text-align:left">'
                f"{explanation_html(self)}</div>")


def citation_links(citations, limit: int | None = None) -> str:
    """``<a href=...>RFC 6121 §2.1.3</a>, ...`` (escaped)."""
    cites = list(citations)[:limit] if limit else list(citations)
    return ", ".join(
        f'<a href="{html.escape(c.url)}" target="_blank" title="{html.escape(c.title)}" '
        f'style="color:#0550ae">{html.escape(c.label)}</a>' for c in cites)


def explanation_html(e: Explanation) -> str:
    """The sentence, its notes and its linked citations, as an HTML fragment (escaped)."""
    parts = [html.escape(e.text)]
    if e.citations:
        parts.append(f' <span style="white-space:nowrap">({citation_links(e.citations)})</span>')
    for note in e.notes:
        parts.append(f'<br><span style="color:#57606a;overflow-wrap:anywhere">{html.escape(note)}</span>')
    return "".join(parts)
