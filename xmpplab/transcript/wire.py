"""Where each top-level piece of an XML stream begins and ends in the text that crossed the wire.

lxml tells us *what* arrived (a parsed element) but not *where* it was in the
text, and re-serialising an element changes quotes, attribute order and
namespace declarations. The :class:`WireSplitter` scans the same text for tag
boundaries only (it does not check well-formedness; the stream parser does)
and reports, for one direction of one stream, the exact source text of

* the stream header, with the XML declaration before it:
  ``<?xml version='1.0'?><stream:stream ...>``,
* each element at depth 1 (a stanza or a nonza such as ``<starttls/>``),
  exactly as sent, across as many chunks as it took,
* the stream close ``</stream:stream>``.

Positions are counted in characters from the start of the direction's text,
so a piece can be mapped back to the chunks it came from.

>>> s = WireSplitter()
>>> s.feed("<?xml version='1.0'?><stream:stream xmlns='jabber:client' ")
[]
>>> opened, presence = s.feed("xmlns:stream='http://etherx.jabber.org/streams'><presence/><mess")
>>> opened.kind, opened.text
('open', "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>")
>>> presence.kind, presence.text
('element', '<presence/>')
>>> [(p.kind, p.text, p.start, p.end) for p in s.feed("age><body>a>b</body></message>")]
[('element', '<message><body>a>b</body></message>', 117, 152)]
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A start tag, complete: the name, then attributes whose quoted values may hold '>' and '/'.
_START = re.compile(r"<[^\s/>!?]+(?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*\s*(/?)>")
_END = re.compile(r"</[^\s>]+\s*>")
_SPECIAL = (("<!--", "-->"), ("<![CDATA[", "]]>"), ("<?", "?>"), ("<!", ">"))


@dataclass(frozen=True, slots=True)
class Piece:
    """One top-level piece of a stream: ``kind`` is ``open``, ``element`` or ``close``."""

    kind: str
    text: str
    start: int  # position of its first character in the direction's text
    end: int


class WireSplitter:
    """Incremental tag scanner for one direction of one XML stream (see the module docstring)."""

    __slots__ = ("_base", "_buf", "_depth", "_lead", "_pos", "_start")

    def __init__(self, base: int = 0, depth: int = 0):
        self.reset(base, depth)

    def reset(self, base: int = 0, depth: int = 0) -> None:
        """Start again for a new stream whose first character is at position ``base``.

        ``depth=1`` starts inside an open stream (a recording that begins after the header).
        """
        self._buf = ""
        self._base = base  # position of _buf[0] in the direction's text
        self._pos = 0  # scan position in _buf
        self._depth = depth
        self._start = None  # where the element at depth 1 being read started (in _buf)
        self._lead = None  # where the stream header's text (XML declaration included) started

    @property
    def position(self) -> int:
        """The position just after the last character fed."""
        return self._base + len(self._buf)

    def pending(self, since: int) -> str:
        """The text fed since position ``since`` (as far as it is still held)."""
        return self._buf[max(0, since - self._base):]

    def trim(self, upto: int) -> None:
        """Forget the text before position ``upto`` (it belongs to pieces already reported)."""
        cut = min(upto - self._base, self._pos, self._start if self._start is not None else self._pos)
        if self._lead is not None:
            cut = min(cut, self._lead)
        if cut > 0:
            self._buf = self._buf[cut:]
            self._base += cut
            self._pos -= cut
            if self._start is not None:
                self._start -= cut
            if self._lead is not None:
                self._lead -= cut

    def feed(self, text: str) -> list[Piece]:
        """Scan more text; return the pieces it completed."""
        self._buf += text
        buf, pos, pieces = self._buf, self._pos, []
        while True:
            lt = buf.find("<", pos)
            if lt < 0:
                pos = len(buf)
                break
            if self._depth == 0 and self._lead is None:
                self._lead = lt
            if buf.startswith("</", lt):
                m = _END.match(buf, lt)
                if m is None:
                    if buf.find(">", lt) < 0:
                        pos = lt
                        break  # wait for the rest of the tag
                    pos = lt + 2  # not a tag; the stream parser will say so
                    continue
                pos = m.end()
                self._depth -= 1
                if self._depth == 1 and self._start is not None:
                    pieces.append(self._piece("element", self._start, pos))
                    self._start = None
                elif self._depth == 0:
                    pieces.append(self._piece("close", lt, pos))
                    self._lead = None
                continue
            special = next(((o, c) for o, c in _SPECIAL if buf.startswith(o, lt)), None)
            if special is None and lt + 1 >= len(buf):
                pos = lt
                break
            if special is not None:
                close = buf.find(special[1], lt + len(special[0]))
                if close < 0:
                    pos = lt
                    break
                pos = close + len(special[1])
                continue
            m = _START.match(buf, lt)
            if m is None:
                pos = lt
                break  # an unfinished start tag (or a broken one, which the stream parser reports)
            pos = m.end()
            empty = bool(m.group(1))
            if self._depth == 0:
                pieces.append(self._piece("open", self._lead, pos))
                self._lead = None
                if empty:
                    pieces.append(self._piece("close", pos, pos))
                else:
                    self._depth = 1
            elif self._depth == 1:
                if empty:
                    pieces.append(self._piece("element", lt, pos))
                else:
                    self._start = lt
                    self._depth = 2
            elif not empty:
                self._depth += 1
        self._pos = pos
        return pieces

    def _piece(self, kind: str, start: int, end: int) -> Piece:
        return Piece(kind, self._buf[start:end], self._base + start, self._base + end)

    def __repr__(self) -> str:
        return f"<WireSplitter depth={self._depth} holding {len(self._buf)} chars>"
