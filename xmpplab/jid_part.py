"""What every part of a JID shares: the length limit, the error a part raises, and how a bad character is named.

The local and resource parts are prepared in :mod:`xmpplab.jid_precis`, the domain part in
:mod:`xmpplab.jid_domain`; :mod:`xmpplab.jid` splits an address into its parts (RFC 7622 section 3.1)
and turns a :class:`PartError` into the :class:`~xmpplab.jid.InvalidJID` a user sees.
"""

from __future__ import annotations

import unicodedata

#: Longest allowed local, domain or resource part, in UTF-8 bytes (RFC 7622).
MAX_PART_BYTES = 1023

# Guard against spending time on absurdly long input: NFC composes at most a
# handful of characters into one, so an input of more than 4 * 1023
# characters cannot shrink to 1023 bytes.
MAX_RAW_CHARS = 4 * MAX_PART_BYTES


class PartError(Exception):
    """One part of a JID failed its checks: which part (``local``, ``domain``, ``resource``) and why."""

    def __init__(self, part: str, reason: str) -> None:
        super().__init__(part, reason)
        self.part = part
        self.reason = reason


def shorten(text: str, limit: int = 80) -> str:
    """`text` cut in the middle with an ellipsis when it is longer than `limit` characters."""
    if len(text) <= limit:
        return text
    return text[: limit - 21] + "\u2026" + text[-20:]


def describe(ch: str) -> str:
    """``U+0020 SPACE`` style description of one character."""
    name = unicodedata.name(ch, None)
    if name is None:
        category = unicodedata.category(ch)
        name = {
            "Cc": "<control>",
            "Cn": "<unassigned>",
            "Co": "<private use>",
            "Cs": "<surrogate>",
        }.get(category, "<unnamed>")
    return f"U+{ord(ch):04X} {name}"


def check_length(part: str, value: str) -> None:
    """Raise :class:`PartError` when a prepared part is longer than 1023 UTF-8 bytes (RFC 7622 sections 3.2 to 3.4)."""
    # A str of n characters has at most 4n UTF-8 bytes: skip encoding short ones.
    if len(value) * 4 > MAX_PART_BYTES and len(value.encode("utf-8")) > MAX_PART_BYTES:
        raise PartError(part, f"the {part} part is longer than {MAX_PART_BYTES} bytes")
