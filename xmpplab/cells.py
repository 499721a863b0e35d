"""What happened since the last cell: where each notebook cell began in a Lab's recording.

A learner runs a cell that makes two clients talk and wants to see that
exchange, not everything since the Lab started. The Lab remembers a *mark*,
the position in its recording where the current cell began, and
:meth:`Lab.view <xmpplab.lab.Lab.view>` shows what was recorded from there on::

    await juliet.send_message("romeo@example.net", "Art thou not Romeo?")
    await romeo.next("message")
    lab.view(juliet, romeo)            # this cell's stanzas, both streams, in the order they happened
    lab.view(juliet, since="start")    # everything juliet's stream carried since she logged in

In a Jupyter kernel the mark moves by itself when a cell starts (IPython's
``pre_run_cell`` event), so a view never shows an earlier cell's traffic, and
a cell that shows the view twice shows the same exchange twice (the mark does
not move when a view is drawn). In a script or a test there are no cells:
``lab.mark()`` says where the next "cell" begins.

A mark is a position in the recording (the number of events recorded
before it), not a time: it needs no clock and cannot split one event.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Callable

log = logging.getLogger("xmpplab.lab")

__all__ = ["CellMarks", "select"]

#: ``since=`` values of :func:`select` besides a time
SINCE_CELL, SINCE_START = "cell", "start"


def _shell():
    """The running IPython shell, or None (IPython is never imported here: only found if already loaded)."""
    ipython = sys.modules.get("IPython")
    get = getattr(ipython, "get_ipython", None)
    return get() if get is not None else None


class CellMarks:
    """Where the current cell began in one recording; follows IPython's cells while :meth:`follow` is on.

    ``position`` returns how many events the recording holds now.
    """

    def __init__(self, position: Callable[[], int]):
        self._position = position
        self.start = 0          # where the current cell began (0: the Lab's start)
        self.cells = 0          # how many cell starts were marked
        self._shell = None
        self._listeners: list[Callable[[int], None]] = []

    def mark(self) -> int:
        """A new cell begins here: return its position in the recording."""
        self.start = self._position()
        self.cells += 1
        for listener in list(self._listeners):
            try:
                listener(self.start)
            except Exception:  # a view that fails must not stop the learner's cell
                log.exception("a cell listener failed")
        return self.start

    def on_mark(self, listener: Callable[[int], None]) -> Callable[[], None]:
        """Call ``listener(position)`` at each new mark; returns a function that stops it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _cell_started(self, info=None) -> None:
        self.mark()

    def follow(self) -> bool:
        """Mark each cell the running IPython kernel starts from now on; False when not in IPython."""
        shell = _shell()
        if shell is None or self._shell is not None:
            return self._shell is not None
        shell.events.register("pre_run_cell", self._cell_started)
        self._shell = shell
        return True

    def unfollow(self) -> None:
        """Stop following the kernel's cells (the Lab stopped); safe to call twice."""
        shell, self._shell = self._shell, None
        if shell is not None:
            with contextlib.suppress(ValueError):  # already gone (the kernel reset its events)
                shell.events.unregister("pre_run_cell", self._cell_started)

    @property
    def following(self) -> bool:
        """True while cells of an IPython kernel move the mark."""
        return self._shell is not None


# ---------------------------------------------------------------------------------- choosing what to show
def learner_connections(transcript) -> list:
    """The connections a learner looks through: every client's own recording, every s2s stream, and the
    server's recording of a client stream only where that client did not record it itself (a Lab records
    both ends of ``lab.connect``'s streams: the client's end is shown, not the same text twice)."""
    conns = list(transcript.connections.values())
    recorded_by_client = {(c.client, c.server) for c in conns if c.kind == "c2s" and c.role == "initiating"}
    return [c for c in conns if not (c.kind == "c2s" and c.role == "receiving"
                                     and (c.client, c.server) in recorded_by_client)]


def _connections_of(transcript, who) -> list[str]:
    """Connection ids for clients, connections, JIDs (a bare JID: all its resources) or connection ids."""
    from .transcript.query import jid_matches

    shown = learner_connections(transcript)
    ids: list[str] = []
    for one in who:
        conn = getattr(one, "conn", None)  # a Client: its recording's id
        if isinstance(conn, str):
            found = [conn]
        elif hasattr(one, "parsed") and hasattr(one, "id"):  # a transcript Connection
            found = [one.id]
        elif str(one) in transcript.connections:
            found = [str(one)]
        else:
            found = [c.id for c in shown if jid_matches(str(one), c.jid)]
        if not found:
            known = ", ".join(f"{c.id} ({c.jid})" if c.jid else c.id for c in shown) or "none yet"
            raise ValueError(f"nothing in this Lab's recording is {one!r}: give a client, a JID or a connection "
                             f"id; the connections are: {known}")
        ids.extend(i for i in found if i not in ids)
    return ids


def _names(transcript, ids: list[str]) -> str:
    """The connections' addresses, each once (a phone that reconnected has several connections, one address),
    with how many connections an address had."""
    counts: dict[str, int] = {}
    for conn_id in ids:
        conn = transcript.connections.get(conn_id)
        name = conn.jid if conn is not None and conn.jid else conn_id
        counts[name] = counts.get(name, 0) + 1
    return ", ".join(name if n == 1 else f"{name} ({n} connections)" for name, n in counts.items())


def select(transcript, start: int, who=(), since=SINCE_CELL, **criteria):
    """The :class:`~xmpplab.transcript.Selection` that :meth:`Lab.view <xmpplab.lab.Lab.view>` shows.

    ``who``: clients, JIDs or connection ids (none: every connection a learner looks through, see
    :func:`learner_connections`). ``since``: ``"cell"`` (from ``start``, where this cell began),
    ``"start"`` (everything), or a time (unix time or datetime, as in ``Transcript.filter``).
    Other keywords narrow it as :meth:`Transcript.filter <xmpplab.transcript.Transcript.filter>` does
    (``kind="message"``, ``direction="C→S"``...).
    """
    ids = _connections_of(transcript, who) if who else [c.id for c in learner_connections(transcript)]
    where = criteria.pop("where", None)
    if "conn" in criteria:
        raise TypeError("lab.view() takes who to show as its arguments: lab.view(juliet, romeo), not conn=")
    if since == SINCE_CELL:
        title = "What happened in this cell"

        def in_cell(item, _where=where):
            return item.seq >= start and (_where is None or bool(_where(item)))

        selection = transcript.filter(conn=ids, where=in_cell, **criteria)
    elif since == SINCE_START or since is None:
        title = "Everything recorded"
        selection = transcript.filter(conn=ids, where=where, **criteria)
    elif isinstance(since, str):
        raise ValueError(f"since={since!r}: use 'cell' (what happened in this cell, the default), 'start' "
                         "(everything), or a time")
    else:
        title = "Recorded since the time given"
        selection = transcript.filter(conn=ids, since=since, where=where, **criteria)
    who_text = _names(transcript, ids) if who else "every connection"
    selection.title = f"{title}: {who_text}" if ids else f"{title} (nothing connected yet)"
    return selection
