"""Step through a transcript one item at a time, each with its context.

>>> from xmpplab.replay import Stepper
>>> s = Stepper("sample_streams/juliet-login-starttls-scram.jsonl", kinds="stanza")
>>> s.next()
<Step stanza 1 of 8: C→S iq set urn:ietf:params:xml:ns:xmpp-bind on c2s-1 — answered by stanza 2>
>>> s.seek(3)
<Step stanza 4 of 8: C→S iq get jabber:iq:roster on c2s-1 — answered by stanza 6>
>>> s.prev().item.text
'<presence id="1eb8c173fbeb473ca0f94cc6553ca8e6" xml:lang="en" />'

A :class:`Step` says where the item is (which connection, which direction,
its position), and what it is in conversation with: the ``reply`` it got
(an iq result or error for an iq get or set, RFC 6120 section 8.2.3; the
server's ``<proceed/>`` for ``<starttls/>``; the next SASL element for
``<auth/>``; a bounced error for a message) or the ``prompt`` it answers.
``answered by stanza 6`` means the reply is the stepper's sixth step; a reply
outside the stepper's selection is named by its connection and index.

Without ``kinds`` the stepper shows everything of the parsed view: stream
headers, features, STARTTLS, SASL (credentials masked unless
``reveal_credentials``), stanzas and the stream close.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ..delegate import delegated
from ..transcript import Direction, Item, ItemKind
from ..xml import NS_SASL, NS_TLS
from .exchanges import describe_item, load_source

GREEN = "\033[32m"
DIM = "\033[2m"
RESET = "\033[0m"

_NEGOTIATION_NS = (NS_TLS, NS_SASL)
_SERVER_ANSWERS = {"proceed", "failure", "challenge", "success"}


@dataclass(frozen=True)
class Step:
    """One item of a :class:`Stepper` with its context (positions are 0-based; text shows them from 1)."""

    position: int
    total: int
    item: Item
    connection: object
    reply: Item | None = None           # what answered this item
    prompt: Item | None = None          # what this item answers
    reply_position: int | None = None   # where the reply is among the stepper's steps
    prompt_position: int | None = None
    noun: str = "item"
    reveal_credentials: bool = False

    direction = delegated("item.direction", "The direction of the current item: C→S or S→C.")
    conn = delegated("item.conn", "The id of the current item's connection.")

    @property
    def text(self) -> str:
        """The item as it crossed the wire (credentials masked unless the stepper reveals them)."""
        return self.item.xml(self.reveal_credentials)

    @property
    def number(self) -> int:
        """The position counted from 1, as shown."""
        return self.position + 1

    def _where(self, other: Item, position: int | None) -> str:
        if position is not None:
            return f"{self.noun} {position + 1}"
        return f"{other.conn}#{other.index} (not in this selection)"

    @property
    def context(self) -> str:
        """``answered by stanza 6``, ``answers stanza 5``, or empty."""
        parts = []
        if self.prompt is not None:
            parts.append(f"answers {self._where(self.prompt, self.prompt_position)}")
        if self.reply is not None:
            parts.append(f"answered by {self._where(self.reply, self.reply_position)}")
        return "; ".join(parts)

    def describe(self) -> str:
        """``C→S iq get jabber:iq:roster on c2s-1``."""
        item = self.item
        if item.kind is ItemKind.STREAM_OPEN:
            what = f"{item.direction} stream header" + (f" to {item.to}" if item.to else "") + \
                (f" from {item.from_}" if item.from_ else "")
        elif item.kind is ItemKind.STREAM_CLOSE:
            what = f"{item.direction} stream close"
        elif item.is_problem:
            what = f"{item.direction} {item.kind} ({item.condition})"
        elif item.kind is ItemKind.NONZA:
            what = f"{item.direction} {item.name}" + (f" [{item.ns}]" if item.ns else "")
        else:
            what = describe_item(item)
        return f"{what} on {item.conn}"

    def render(self, color: bool = False, width: int = 100) -> str:
        """The step for a terminal: a numbered label, the XML (wrapped), and its context."""
        label = str(self.item.direction)
        number = f"{self.number:>{len(str(self.total))}}"
        lines = []
        for i, piece in enumerate(_wrap(self.text.strip() or self.text, width)):
            prefix = f"{number} {label} │ " if i == 0 else f"{' ' * len(number)}     │ "
            line = prefix + piece
            lines.append(f"{GREEN}{line}{RESET}" if color and self.item.direction is Direction.C2S else line)
        if self.context:
            note = f"{' ' * len(number)}     ┄ {self.context}"
            lines.append(f"{DIM}{note}{RESET}" if color else note)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()

    def __repr__(self) -> str:
        context = f" — {self.context}" if self.context else ""
        return f"<Step {self.noun} {self.number} of {self.total}: {self.describe()}{context}>"


class Stepper:
    """A cursor over the items of a transcript (see the module docstring).

    ``source`` is a Transcript, a Connection or a file path; ``conn`` keeps one
    connection (an id, a Connection, or a list); ``kinds`` and the other criteria
    are those of :meth:`~xmpplab.transcript.Transcript.items` (``kinds="stanza"``,
    ``direction="C→S"``, ``namespace="jabber:iq:roster"``...).
    """

    def __init__(self, source, conn=None, kinds=None, *, reveal_credentials: bool = False, **criteria):
        self.transcript = load_source(source)
        self.items: list[Item] = list(self.transcript.items(conn=conn, kind=kinds, **criteria))
        self.reveal_credentials = reveal_credentials
        self.noun = "stanza" if self.items and all(i.kind is ItemKind.STANZA for i in self.items) else "item"
        self._where = {(i.conn, i.index): n for n, i in enumerate(self.items)}
        self._steps: dict[int, Step] = {}
        self.position = -1  # before the first step

    # --- moving -----------------------------------------------------------------
    @property
    def current(self) -> Step | None:
        """The step the cursor is on (None before the first :meth:`next`)."""
        return self[self.position] if 0 <= self.position < len(self.items) else None

    def next(self) -> Step | None:
        """Move forward one step and return it; None at the end (the cursor stays on the last step)."""
        if self.position + 1 >= len(self.items):
            return None
        self.position += 1
        return self.current

    def prev(self) -> Step | None:
        """Move back one step and return it; None at the start."""
        if self.position <= 0:
            return None  # the cursor stays where it is: on the first step, or before it
        self.position -= 1
        return self.current

    def seek(self, where) -> Step:
        """Go to a position (0-based; negative counts from the end) or to an Item of the selection."""
        if isinstance(where, Item):
            position = self._where.get((where.conn, where.index))
            if position is None:
                raise IndexError(f"{where!r} is not one of this stepper's {len(self.items)} items")
        else:
            position = where + len(self.items) if where < 0 else where
            if not 0 <= position < len(self.items):
                raise IndexError(f"there is no position {where}: this stepper has {len(self.items)} "
                                 f"{self.noun}s (0 to {len(self.items) - 1})")
        self.position = position
        return self.current

    def rewind(self) -> None:
        """Back to before the first step."""
        self.position = -1

    # --- the steps ----------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, position: int) -> Step:
        if position < 0:
            position += len(self.items)
        if not 0 <= position < len(self.items):
            raise IndexError(f"there is no position {position}: this stepper has {len(self.items)} {self.noun}s")
        step = self._steps.get(position)
        if step is None:
            item = self.items[position]
            reply, prompt = reply_to(self.transcript, item), prompt_of(self.transcript, item)
            connection = self.transcript.connections.get(item.conn) if hasattr(self.transcript, "connections") \
                else self.transcript
            step = Step(position, len(self.items), item, connection, reply, prompt,
                        self._position_of(reply), self._position_of(prompt), self.noun, self.reveal_credentials)
            self._steps[position] = step
        return step

    def _position_of(self, item: Item | None) -> int | None:
        return None if item is None else self._where.get((item.conn, item.index))

    def __iter__(self) -> Iterator[Step]:
        """Every step from the first (the cursor does not move)."""
        return (self[n] for n in range(len(self.items)))

    def render(self, color: bool = False, width: int = 100) -> str:
        """All steps for a terminal, with a line naming the connection whenever it changes."""
        out, conn = [], None
        several = len(getattr(self.transcript, "connections", ())) > 1
        for step in self:
            if several and step.conn != conn:
                conn = step.conn
                who = getattr(step.connection, "jid", None)
                line = f"── {conn}{f' ({who})' if who else ''} ──"
                out.append(f"{DIM}{line}{RESET}" if color else line)
            out.append(step.render(color, width))
        return "\n".join(out)

    def __repr__(self) -> str:
        if not self.items:
            return "<Stepper with nothing to show>"
        current = self.current
        if current is None:
            return f"<Stepper of {len(self.items)} {self.noun}s, before the first (call next())>"
        return f"<Stepper at {repr(current)[len('<Step '):-1]}>"


# --- what answers what -----------------------------------------------------------------------------
def reply_to(transcript, item: Item) -> Item | None:
    """What answered ``item``: an iq result or error, the server's next negotiation step, a bounced error."""
    if item.kind is ItemKind.STANZA:
        if item.stanza_kind == "iq" and item.type in ("get", "set"):
            return transcript.answer_to(item)
        if item.stanza_kind in ("message", "presence") and item.id and item.type != "error":
            for other in _after(transcript, item):
                if other.direction is not item.direction and other.kind is ItemKind.STANZA and \
                        other.name == item.name and other.id == item.id and other.type == "error":
                    return other
        return None
    if item.direction is Direction.C2S and _is_negotiation(item):
        for other in _after(transcript, item):
            if other.direction is Direction.S2C and (other.kind is ItemKind.STREAM_OPEN and
                                                     item.kind is ItemKind.STREAM_OPEN or
                                                     other.kind is not ItemKind.STREAM_OPEN and
                                                     other.name in _SERVER_ANSWERS):
                return other
            if other.direction is Direction.C2S and _is_negotiation(other):
                return None
    return None


def prompt_of(transcript, item: Item) -> Item | None:
    """What ``item`` answers: the inverse of :func:`reply_to`."""
    if item.kind is ItemKind.STANZA:
        if item.stanza_kind == "iq" and item.type in ("result", "error"):
            return transcript.request_for(item)
        if item.type == "error" and item.id:
            for other in reversed(list(_before(transcript, item))):
                if other.direction is not item.direction and other.kind is ItemKind.STANZA and \
                        other.name == item.name and other.id == item.id:
                    return other
        return None
    if item.direction is Direction.S2C and (item.kind is ItemKind.STREAM_OPEN or item.name in _SERVER_ANSWERS):
        for other in reversed(list(_before(transcript, item))):
            if other.direction is Direction.C2S and _is_negotiation(other):
                return other if reply_to(transcript, other) is item else None
    return None


def _is_negotiation(item: Item) -> bool:
    return item.kind is ItemKind.STREAM_OPEN or item.kind is ItemKind.NONZA and item.ns in _NEGOTIATION_NS


def _connection_items(transcript, item: Item) -> list[Item]:
    connections = getattr(transcript, "connections", None)
    connection = connections[item.conn] if connections is not None else transcript
    return connection.parsed


def _after(transcript, item: Item):
    items = _connection_items(transcript, item)
    return items[item.index + 1:]


def _before(transcript, item: Item):
    items = _connection_items(transcript, item)
    return items[:item.index]


def _wrap(text: str, width: int):
    """Split long XML between two tags, else at a space, else anywhere."""
    for line in text.split("\n"):
        while len(line) > width:
            cut = line.rfind("><", 0, width)
            cut = cut + 1 if cut > 0 else (line.rfind(" ", 0, width) if line.rfind(" ", 0, width) > 0 else width)
            yield line[:cut]
            line = line[cut:]
        yield line
