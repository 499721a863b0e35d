"""Pretty-printed, syntax-highlighted XML: as HTML (inline styles), as ANSI, as plain text.

It works on the text exactly as it crossed the wire, not on a re-serialised
tree: quotes, attribute order, prefixes and namespace declarations stay as the
sender wrote them; only indentation is added and whitespace between elements
dropped. A stream header (never closed), a lone ``</stream:stream>`` and text
that is not XML at all are shown too, never refused::

    >>> print(xml_text("<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>"))
    <iq type='get' id='r1'>
      <query xmlns='jabber:iq:roster'/>
    </iq>

An element holding only text stays on one line (``<body>Hi</body>``); a start
tag longer than ``width`` puts one attribute per line, as the RFCs print
stream headers. Each piece has a kind (element name, attribute, value,
namespace declaration, text, masked credentials...) that the HTML and ANSI
renderers colour.

Colours: the HTML sets its own light background and dark text, so it reads
the same in JupyterLab's light and dark themes (the palette is GitHub's light
one, every colour at least 4.5:1 against the background). Element names take
the direction's colour: green for C→S, black for S→C, as in the tutorial.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

from .display import Displayable

MASK = "[masked]"
INDENT = "  "
ATTR_INDENT = "    "
MAX_CHARS = 20_000  # longest text shown in full; the rest is cut with a note

# ------------------------------------------------------------------------------------ tokens
_TOKEN = re.compile(
    r"""(?P<comment><!--.*?-->)
      | (?P<cdata><!\[CDATA\[.*?\]\]>)
      | (?P<pi><\?.*?\?>)
      | (?P<decl><![^>]*>)
      | (?P<end></\s*(?P<endname>[^\s>]+)\s*>)
      | (?P<start><(?P<name>[^\s/>!?<]+)
                   (?P<attrs>(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)(?P<space>\s*)(?P<close>/?)>)
      | (?P<text>[^<]+)
      | (?P<junk><)""",
    re.DOTALL | re.VERBOSE,
)
_ATTR = re.compile(r"""\s+([^\s=/>]+)(\s*=\s*)("[^"]*"|'[^']*')""")

# A segment is (kind, text); a line is (indent in spaces, [segments]).
# Kinds: punct, name, attr, value, xmlns, text, masked, other (comments, PIs, declarations), error, note.


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd\ufffe\uffff]+")


def _visible(text: str, kind: str) -> list[tuple[str, str]]:
    """Control characters (a TLS ClientHello, binary junk) shown as escapes, in the error colour."""
    out, pos = [], 0
    for m in _CONTROL.finditer(text):
        if m.start() > pos:
            out.append((kind, text[pos:m.start()]))
        out.append(("error", "".join(f"\\x{ord(c):02x}" if ord(c) < 256 else f"\\u{ord(c):04x}"
                                     for c in m.group(0))))
        pos = m.end()
    if pos < len(text):
        out.append((kind, text[pos:]))
    return out


def _text_segments(text: str, kind: str = "text") -> list[tuple[str, str]]:
    if MASK not in text:
        return _visible(text, kind) if _CONTROL.search(text) else [(kind, text)]
    out = []
    for i, part in enumerate(text.split(MASK)):
        if i:
            out.append(("masked", MASK))
        if part:
            out.extend(_text_segments(part, kind))
    return out


def _start_tag(m, width: int, indent: int) -> list[list[tuple[str, str]]]:
    """The segments of a start tag: one line, or the name then one attribute per line."""
    name, attrs, close = m.group("name"), m.group("attrs"), m.group("close")
    parsed = _ATTR.findall(attrs)
    end = "/>" if close else ">"
    one_line = len(m.group(0)) + indent <= width or len(parsed) < 2
    head = [("punct", "<"), ("name", name)]
    attr_lines = []
    for key, eq, value in parsed:
        kind = "xmlns" if key == "xmlns" or key.startswith("xmlns:") else "attr"
        value_kind = "xmlns" if kind == "xmlns" else "value"
        segs = [(kind, key), ("punct", "=" if one_line else eq.strip() or "=")]
        segs += _text_segments(value, value_kind)
        attr_lines.append(segs)
    if one_line:
        line = list(head)
        for segs in attr_lines:
            line.append(("space", " "))
            line.extend(segs)
        line.append(("punct", end))
        return [line]
    lines = [head, *attr_lines]
    lines[-1] = [*lines[-1], ("punct", end)]
    return lines


def pretty_lines(text: str, *, pretty: bool = True, width: int = 96, max_chars: int | None = MAX_CHARS
                 ) -> list[tuple[int, list[tuple[str, str]]]]:
    """Split XML text into indented lines of classified segments (see the module docstring).

    With ``pretty=False`` the text keeps its own line breaks and spacing (only coloured).
    """
    cut = 0
    if max_chars is not None and len(text) > max_chars:
        cut = len(text) - max_chars
        text = text[:max_chars]
    lines = _pretty(text, width) if pretty else _raw_lines(text)
    if cut:
        lines.append((0, [("note", f"… {cut:,} more characters not shown (the item's .text has them all)")]))
    return lines


def _raw_lines(text: str):
    lines: list[tuple[int, list]] = [(0, [])]
    for m in _TOKEN.finditer(text):
        for segs in _segments_of(m, width=10**9, indent=0):
            for kind, piece in segs:
                parts = piece.split("\n")
                for j, part in enumerate(parts):
                    if j:
                        lines.append((0, []))
                    if part:
                        lines[-1][1].append((kind, part))
    return lines


def _start_tag_exact(m) -> list[tuple[str, str]]:
    """A start tag with its own spacing and line breaks kept (for ``pretty=False``)."""
    segs = [("punct", "<"), ("name", m.group("name"))]
    for a in _ATTR.finditer(m.group("attrs")):
        space = a.group(0)[:len(a.group(0)) - len(a.group(0).lstrip())]
        key, eq, value = a.groups()
        kind = "xmlns" if key == "xmlns" or key.startswith("xmlns:") else "attr"
        segs += [("space", space), (kind, key), ("punct", eq)]
        segs += _text_segments(value, "xmlns" if kind == "xmlns" else "value")
    if m.group("space"):
        segs.append(("space", m.group("space")))
    segs.append(("punct", "/>" if m.group("close") else ">"))
    return segs


def _segments_of(m, width: int, indent: int) -> list[list[tuple[str, str]]]:
    kind = _group(m)
    if kind == "start":
        return [_start_tag_exact(m)]
    if kind == "end":
        return [[("punct", "</"), ("name", m.group("endname")), ("punct", ">")]]
    if kind == "text":
        return [_text_segments(m.group(0))]
    if kind == "junk":
        return [[("error", "<")]]
    return [[("other", m.group(0))]]


def _pretty(text: str, width: int):
    tokens = list(_TOKEN.finditer(text))
    lines: list[tuple[int, list]] = []
    depth = 0
    i = 0
    n = len(tokens)

    def add(indent: int, segs: list) -> None:
        # text with line breaks inside (a multi-line body) keeps them, at the same indent
        if any("\n" in s for _, s in segs):
            current: list = []
            for kind, piece in segs:
                parts = piece.split("\n")
                for j, part in enumerate(parts):
                    if j:
                        lines.append((indent, current))
                        current = []
                    if part:
                        current.append((kind, part))
            lines.append((indent, current))
        else:
            lines.append((indent, segs))

    while i < n:
        m = tokens[i]
        kind = _group(m)
        pad = len(INDENT) * depth
        if kind == "start":
            tag_lines = _start_tag(m, width, pad)
            if m.group("close"):
                _emit_tag(add, pad, tag_lines)
                i += 1
                continue
            # <x>text</x> or <x></x> on one line
            j = i + 1
            inner = None
            if j < n and _group(tokens[j]) == "text" and j + 1 < n and _group(tokens[j + 1]) == "end":
                inner, j = tokens[j].group(0), j + 1
            if j < n and _group(tokens[j]) == "end" and len(tag_lines) == 1:
                end = tokens[j]
                segs = tag_lines[0] + (_text_segments(inner) if inner else []) + \
                    [("punct", "</"), ("name", end.group("endname")), ("punct", ">")]
                add(pad, segs)
                i = j + 1
                continue
            _emit_tag(add, pad, tag_lines)
            depth += 1
            i += 1
        elif kind == "end":
            depth = max(depth - 1, 0)
            add(len(INDENT) * depth, [("punct", "</"), ("name", m.group("endname")), ("punct", ">")])
            i += 1
        elif kind == "text":
            value = m.group(0)
            if value.strip():
                add(pad, _text_segments(value.strip()))
            i += 1
        elif kind == "junk":
            add(pad, [("error", "<")] + (_text_segments(tokens[i + 1].group(0), "error")
                                          if i + 1 < n and _group(tokens[i + 1]) == "text" else []))
            i += 2 if i + 1 < n and _group(tokens[i + 1]) == "text" else 1
        else:
            add(pad, [("other", m.group(0))])
            i += 1
    return lines


def _group(m) -> str:
    for key in ("start", "end", "text", "junk", "comment", "cdata", "pi", "decl"):
        if m.group(key) is not None:
            return key
    return "junk"  # pragma: no cover


def _emit_tag(add, pad: int, tag_lines) -> None:
    add(pad, tag_lines[0])
    for segs in tag_lines[1:]:
        add(pad + len(ATTR_INDENT), segs)


# ------------------------------------------------------------------------------------ plain text
def xml_text(text: str, *, pretty: bool = True, width: int = 96, max_chars: int | None = MAX_CHARS,
             indent: str = "") -> str:
    """Pretty-printed XML as plain text (no colour)."""
    return "\n".join(indent + " " * pad + "".join(s for _, s in segs)
                     for pad, segs in pretty_lines(text, pretty=pretty, width=width, max_chars=max_chars))


# ------------------------------------------------------------------------------------ HTML
#: Background and text colour of every XML block: light in both JupyterLab themes.
XML_BACKGROUND = "#f6f8fa"
XML_FOREGROUND = "#1f2328"
DIRECTION_NAME_COLORS = {"C→S": "#116329", "S→C": "#1f2328", None: "#0550ae"}
_HTML_STYLES = {
    "punct": "color:#57606a",
    "attr": "color:#953800",
    "value": "color:#0a3069",
    "xmlns": "color:#6e7781",
    "text": "color:#1f2328",
    "masked": "color:#7d4e00;background:#fff8c5;border-radius:3px;padding:0 2px",
    "other": "color:#6e7781;font-style:italic",
    "error": "color:#82071e;background:#ffebe9",
    "note": "color:#6e7781;font-style:italic",
}
#: Text and punctuation take the direction's colour: green for C→S, black for S→C (as in the tutorial).
DIRECTION_TEXT_COLORS = {"C→S": "#116329", "S→C": "#1f2328", None: "#1f2328"}
PRE_STYLE = (f"margin:0;padding:4px 8px;background:{XML_BACKGROUND};"
             "border-radius:4px;white-space:pre-wrap;overflow-wrap:anywhere;text-align:left;"
             "font:12px/1.45 ui-monospace,Menlo,Consolas,monospace")


@lru_cache(maxsize=8)
def _styles_for(direction: str | None) -> dict[str, str]:
    styles = dict(_HTML_STYLES)
    styles["name"] = f"color:{DIRECTION_NAME_COLORS.get(direction, DIRECTION_NAME_COLORS[None])};font-weight:600"
    return styles


_PLAIN_KINDS = frozenset({"space", "punct", "text"})  # drawn in the <pre>'s own colour: the direction's


def _span(styles, kind: str, text: str, esc) -> str:
    if kind in _PLAIN_KINDS:
        return esc(text, quote=False)
    return f'<span style="{styles[kind]}">{esc(text, quote=False)}</span>'


def lines_html(lines, direction: str | None = None) -> str:
    """The inside of a ``<pre>``: escaped, one span per run of segments of the same kind."""
    styles = _styles_for(str(direction) if direction is not None else None)
    out = []
    esc = html.escape
    for pad, segs in lines:
        parts = [" " * pad] if pad else []
        last_kind, run = None, []
        for kind, piece in segs:
            if kind != last_kind and run:
                parts.append(_span(styles, last_kind, "".join(run), esc))
                run = []
            last_kind = kind
            run.append(piece)
        if run:
            parts.append(_span(styles, last_kind, "".join(run), esc))
        out.append("".join(parts))
    return "\n".join(out)


def xml_html(text: str, *, direction=None, pretty: bool = True, width: int = 96,
             max_chars: int | None = MAX_CHARS, style: str = "") -> str:
    """A ``<pre>`` of highlighted, pretty-printed XML (escaped; inline styles only).

    ``direction`` ("C→S" or "S→C") colours element names green or black.
    """
    lines = pretty_lines(text, pretty=pretty, width=width, max_chars=max_chars)
    key = str(direction) if direction is not None else None
    color = DIRECTION_TEXT_COLORS.get(key, XML_FOREGROUND)
    return (f'<pre style="{PRE_STYLE};color:{color}{";" + style if style else ""}">'
            f"{lines_html(lines, direction)}</pre>")


# ------------------------------------------------------------------------------------ ANSI
RESET = "\033[0m"
_ANSI = {
    "space": "",
    "punct": "",
    "attr": "36",
    "value": "35",
    "xmlns": "2",
    "text": "",
    "masked": "30;43",
    "other": "2;3",
    "error": "31",
    "note": "2;3",
}
_ANSI_DIRECTION = {"C→S": ("1;32", "32"), "S→C": ("1", ""), None: ("1;34", "")}


def lines_ansi(lines, direction: str | None = None, color: bool = True, indent: str = "") -> list[str]:
    """Each line as a string with ANSI colours (or plain when ``color`` is false)."""
    name_code, punct_code = _ANSI_DIRECTION.get(str(direction) if direction is not None else None,
                                                _ANSI_DIRECTION[None])
    codes = dict(_ANSI, name=name_code, punct=punct_code)
    out = []
    for pad, segs in lines:
        parts = [indent, " " * pad]
        for kind, piece in segs:
            code = codes.get(kind, "") if color else ""
            parts.append(f"\033[{code}m{piece}{RESET}" if code else piece)
        out.append("".join(parts))
    return out


def xml_ansi(text: str, *, direction=None, color: bool = True, pretty: bool = True, width: int = 96,
             max_chars: int | None = MAX_CHARS, indent: str = "") -> str:
    """Pretty-printed XML with ANSI colours for a terminal (plain text when ``color`` is false)."""
    lines = pretty_lines(text, pretty=pretty, width=width, max_chars=max_chars)
    return "\n".join(lines_ansi(lines, direction, color, indent))


class XMLView(Displayable):
    """Any XML text, shown highlighted: ``XMLView("<message to='romeo@example.net'/>")``."""

    __slots__ = ("direction", "pretty", "text")

    def __init__(self, text: str, direction=None, pretty: bool = True):
        self.text = str(text)
        self.direction = direction
        self.pretty = pretty

    def _display_text(self) -> str:
        return xml_text(self.text, pretty=self.pretty)

    def _display_html(self) -> str:
        return xml_html(self.text, direction=self.direction, pretty=self.pretty)

    def __repr__(self) -> str:
        return f"XMLView({self.text[:60]!r}{'...' if len(self.text) > 60 else ''})"
