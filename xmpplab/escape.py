"""Escaping text for XML written by hand (RFC 6120 section 11: stanzas are XML 1.0).

Code that builds stanzas as strings (stream headers, small fixed replies)
escapes every value it puts in: :func:`escape_text` for character data,
:func:`escape_attr` for an attribute value in single or double quotes.
Views that write HTML use :func:`html.escape`.

>>> escape_attr("juliet's <balcony>")
'juliet&apos;s &lt;balcony&gt;'
"""

from __future__ import annotations

__all__ = ["escape_attr", "escape_text"]


def escape_text(text: str) -> str:
    """Escape ``&``, ``<`` and ``>`` for XML character data."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_attr(value: str) -> str:
    """Escape text for an XML attribute value in either kind of quotes (and for character data)."""
    return escape_text(value).replace("'", "&apos;").replace('"', "&quot;")
