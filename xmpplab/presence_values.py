"""What a presence may say of its sender: the ``<show/>`` values and the ``<priority/>`` range (RFC 6121 §4.7.2).

The server, the explanations, the composer, the board and the course all take
them from here.
"""

from __future__ import annotations

__all__ = ["PRIORITY_MAX", "PRIORITY_MIN", "SHOW_MEANINGS", "SHOW_VALUES", "clamp_priority"]

#: RFC 6121 §4.7.2.1: the four values of ``<show/>`` (none means plainly available).
SHOW_VALUES = ("away", "chat", "dnd", "xa")

#: What each ``<show/>`` value means, in a few words.
SHOW_MEANINGS = {
    "away": "away for a short while",
    "chat": "free to chat",
    "dnd": "busy (do not disturb)",
    "xa": "away for a long while (extended away)",
}

#: RFC 6121 §4.7.2.3: a priority is an integer from -128 to +127.
PRIORITY_MIN = -128
PRIORITY_MAX = 127


def clamp_priority(value: int) -> int:
    """A priority forced into -128…127 (RFC 6121 §4.7.2.3)."""
    return max(PRIORITY_MIN, min(PRIORITY_MAX, value))
