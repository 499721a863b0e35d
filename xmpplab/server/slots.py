"""Where a feature module keeps its state: a typed slot on the server (per host) or on a session.

A module declares its slots next to its code and is the only one to fill
them; another module that needs the state names the module in its
``requires`` and reads the slot, never an attribute of the server::

    ROSTER: Slot[Roster] = Slot("roster")                  # in modules/roster.py
    INTERESTED: Slot[bool] = Slot("roster: interested", bool)

    ROSTER.put(server, Roster(server))                    # its setup(server)
    INTERESTED.put(session, True)                         # RFC 6121 2.1.6: it asked for the roster
    ROSTER.of(server).item(owner, contact)                # in modules/presence.py (requires = ("roster",))

A slot with a ``default`` (a factory, such as ``bool`` or ``set``) makes its
value on first use; one without raises :class:`LookupError` naming the slot.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Slot(Generic[T]):
    """One module's state on an owner that has a ``slots`` dict (the server, a session)."""

    __slots__ = ("name", "default")

    def __init__(self, name: str, default: Callable[[], T] | None = None):
        self.name = name
        self.default = default

    def of(self, owner) -> T:
        """The value on ``owner``; made by ``default`` on first use, else a LookupError."""
        slots = owner.slots
        try:
            return slots[self]
        except KeyError:
            if self.default is None:
                raise LookupError(f"{owner!r} has no {self.name}: the module that keeps it is not loaded") from None
            value = slots[self] = self.default()
            return value

    def get(self, owner, default=None):
        """The value on ``owner``, or ``default`` when none was put there (nothing is made)."""
        return owner.slots.get(self, default)

    def put(self, owner, value: T) -> T:
        """Keep ``value`` on ``owner``; return it."""
        owner.slots[self] = value
        return value

    def __repr__(self) -> str:
        return f"<Slot {self.name}>"
