"""Read-only attributes that show an attribute of a part, written once instead of a property each.

>>> class Step:
...     direction = delegated("item.direction", "The direction of the current item.")
...     def __init__(self, item):
...         self.item = item
>>> class Item:
...     direction = "C→S"
>>> Step(Item()).direction
'C→S'
"""

from __future__ import annotations

from operator import attrgetter

__all__ = ["delegated"]


def delegated(path: str, doc: str) -> property:
    """A read-only property giving ``self.<path>`` (a dotted path such as ``"limits.max_stanza_bytes"``)."""
    get = attrgetter(path)
    return property(lambda self: get(self), doc=doc)
