"""lab.view(): what happened since the last cell, several streams in the order things happened (issue 13).

A notebook cell shows ``lab.view(juliet, romeo)``: only what its own cell recorded (the Lab marks
each cell's start in a Jupyter kernel; here ``lab.mark()`` plays the kernel), ordered by time across
the streams, each row labelled with its stream, in the HTML and in the text.
"""

import asyncio
import sys
import types

import pytest

from tests.support_wait import round_trip
from xmpplab.lab import Lab, running_labs
from xmpplab.render import stream_view


@pytest.fixture(autouse=True)
async def no_labs_left():
    yield
    for lab in running_labs():
        if lab._loop is asyncio.get_running_loop():
            await lab.stop()
            pytest.fail(f"the test left {lab!r} running")


def bodies(view) -> list[tuple[str, str, str]]:
    """(connection, direction, body) of each message in a view, in its order."""
    return [(i.conn, str(i.direction), i.element.findtext("{jabber:client}body"))
            for i in view if i.name == "message"]


async def talk(sender, receiver, text: str) -> None:
    await sender.send_message(str(receiver.jid), text)
    got = await receiver.next("message", predicate=lambda m: m["body"] == text)
    assert got["body"] == text


async def test_a_view_shows_only_what_its_cell_recorded():
    async with Lab.start(replace=False) as lab:
        juliet = await lab.connect("juliet@example.com/balcony")
        romeo = await lab.connect("romeo@example.net/orchard")
        await round_trip(romeo)
        lab.mark()                                         # cell 1
        await talk(juliet, romeo, "Art thou not Romeo?")
        first = lab.view(juliet, romeo)
        assert [b for _, _, b in bodies(first)] == ["Art thou not Romeo?"] * 2

        lab.mark()                                         # cell 2: cell 1's stanzas do not leak into it
        assert list(lab.view(juliet, romeo)) == []
        assert "nothing recorded yet" in stream_view(lab.view()).html()
        await talk(romeo, juliet, "Neither, fair saint")
        once = lab.view(juliet, romeo)
        shown = stream_view(once).html() + once._repr_mimebundle_()["text/plain"]   # drawing it moves no mark
        twice = lab.view(juliet, romeo)
        assert bodies(once) == bodies(twice) == [
            ("client-romeo-1", "C→S", "Neither, fair saint"), ("client-juliet-1", "S→C", "Neither, fair saint")]
        assert "Neither, fair saint" in shown and "Art thou not Romeo?" not in shown
        assert first.title.startswith("What happened in this cell: juliet@example.com/balcony")

        # everything, on demand
        everything = lab.view(juliet, romeo, since="start")
        assert [b for _, _, b in bodies(everything)] == ["Art thou not Romeo?"] * 2 + ["Neither, fair saint"] * 2
        assert everything.title.startswith("Everything recorded")
        # an earlier view keeps what it showed: a variable can be looked at again in a later cell
        lab.mark()
        assert [b for _, _, b in bodies(once)] == ["Neither, fair saint"] * 2


async def test_who_is_shown_and_what_is_left_out():
    async with Lab.start(replace=False) as lab:
        balcony = await lab.connect("juliet@example.com/balcony")
        chamber = await lab.connect("juliet@example.com/chamber")
        romeo = await lab.connect("romeo@example.net/orchard")
        await round_trip(romeo)
        lab.mark()
        await talk(romeo, balcony, "to the balcony")
        await talk(romeo, chamber, "to the chamber")
        # a bare JID is every resource of the account; a full JID, a client or a connection id one stream
        assert {c for c, _, _ in bodies(lab.view("juliet@example.com"))} == {balcony.conn, chamber.conn}
        assert {c for c, _, _ in bodies(lab.view("juliet@example.com/chamber"))} == {chamber.conn}
        assert {c for c, _, _ in bodies(lab.view(balcony.conn))} == {balcony.conn}
        # no one named: every client's own stream, not the server's copy of the same text
        everyone = lab.view()
        assert {c for c, _, _ in bodies(everyone)} == {balcony.conn, chamber.conn, romeo.conn}
        assert not any(i.conn.startswith("c2s-") for i in everyone)
        # the server's recording is still there when asked for by its id
        assert bodies(lab.view("c2s-1"))
        # narrowing as Transcript.filter does
        assert {str(i.direction) for i in lab.view(romeo, kind="message")} == {"C→S"}
        # the title names each address once; a second connection of one address is counted, not repeated
        assert lab.view("juliet@example.com").title.endswith(
            ": juliet@example.com/balcony, juliet@example.com/chamber")
        again = await lab.connect("juliet@example.com/balcony")
        assert lab.view("juliet@example.com/balcony").title.endswith(": juliet@example.com/balcony (2 connections)")
        await again.disconnect()
        with pytest.raises(ValueError, match="nurse@example.com.*the connections are: client-juliet-1"):
            lab.view("nurse@example.com")
        with pytest.raises(ValueError, match="since='yesterday'"):
            lab.view(romeo, since="yesterday")


async def test_several_streams_in_the_order_things_happened_each_line_labelled():
    async with Lab.start(replace=False) as lab:
        juliet = await lab.connect("juliet@example.com/balcony")
        romeo = await lab.connect("romeo@example.net/orchard")
        await round_trip(romeo)
        lab.mark()
        for n in range(3):   # interleaved: each message crosses juliet's stream, then romeo's, and back
            await talk(juliet, romeo, f"j{n}")
            await talk(romeo, juliet, f"r{n}")
        view = lab.view(juliet, romeo)
        expected = []
        for n in range(3):
            expected += [(juliet.conn, "C→S", f"j{n}"), (romeo.conn, "S→C", f"j{n}"),
                         (romeo.conn, "C→S", f"r{n}"), (juliet.conn, "S→C", f"r{n}")]
        assert bodies(view) == expected

        sv = stream_view(view)
        assert sv.by_time and sv.labels == {juliet.conn: "juliet/balcony", romeo.conn: "romeo/orchard"}
        # the text: one line per item, in that order, each naming its stream
        text = view._repr_mimebundle_()["text/plain"]
        lines = [line for line in text.splitlines() if "message chat" in line]
        assert [("juliet/balcony" in line, "romeo/orchard" in line) for line in lines] == \
            [(True, False), (False, True), (False, True), (True, False)] * 3
        assert [line.rsplit("“", 1)[1].rstrip("”") for line in lines] == [b for _, _, b in expected]
        # the terminal text labels each item too
        terminal = [line for line in sv.text(width=100, explanations=False).splitlines() if "message chat" in line]
        assert [line.split("[", 1)[1].split("]", 1)[0] for line in terminal] == \
            ["juliet/balcony", "romeo/orchard", "romeo/orchard", "juliet/balcony"] * 3
        # the HTML: rows in the same order, each with its stream's label in the row
        html = sv.html()
        rows = [row for row in html.split('<div id="')[1:] if "message chat" in row]
        assert [row.split(">", 1)[1].split("</span>", 1)[0].rsplit(">", 1)[1] for row in rows] == \
            ["juliet/balcony", "romeo/orchard", "romeo/orchard", "juliet/balcony"] * 3
        assert [row.split("“", 1)[1].split("”", 1)[0] for row in rows] == [b for _, _, b in expected]
        assert "In the order it happened; each row names its stream" in html
        # one block per stream, on request
        assert not stream_view(view, order="connection").by_time


async def test_the_lab_follows_the_kernels_cells_until_it_stops(monkeypatch):
    from IPython.core.events import EventManager, available_events

    events = EventManager(None, available_events)
    shell = types.SimpleNamespace(events=events)
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: shell))
    lab = await Lab.start(replace=False)
    try:
        assert lab.cells.following
        juliet = await lab.connect("juliet@example.com/balcony")
        romeo = await lab.connect("romeo@example.net/orchard")
        await round_trip(romeo)
        events.trigger("pre_run_cell", None)               # the kernel starts a cell
        await talk(juliet, romeo, "first cell")
        events.trigger("pre_run_cell", None)               # and the next one
        await talk(romeo, juliet, "second cell")
        assert {b for _, _, b in bodies(lab.view())} == {"second cell"}
        assert lab.cells.cells == 2
    finally:
        await lab.stop()
    assert not lab.cells.following and events.callbacks["pre_run_cell"] == []


async def test_outside_a_kernel_nothing_is_followed_and_everything_is_one_cell():
    async with Lab.start(replace=False) as lab:
        assert not lab.cells.following
        juliet = await lab.connect("juliet@example.com/balcony")
        romeo = await lab.connect("romeo@example.net/orchard")
        await talk(juliet, romeo, "no marks yet")
        assert ("client-juliet-1", "C→S", "no marks yet") in bodies(lab.view())


async def test_a_lab_that_records_nothing_says_so():
    async with Lab.start(replace=False, record=False) as lab:
        with pytest.raises(RuntimeError, match="record=False"):
            lab.view()


async def test_one_live_view_per_lab_follows_the_cells():
    from tests.support_wait import until
    from xmpplab.widgets import live

    async with Lab.start(replace=False) as lab:
        juliet = await lab.connect("juliet@example.com/balcony")
        romeo = await lab.connect("romeo@example.net/orchard")
        await round_trip(romeo)
        console = live(lab)
        assert live(lab) is console                         # one per Lab, the same in every cell
        console.throttle = 0.05
        lab.mark()                                          # a cell starts: the view starts afresh
        await until(lambda: not console.items(), console.view_w, what="an empty view at the cell's start")
        await talk(juliet, romeo, "live, in this cell")
        await until(lambda: "live, in this cell" in console.html, console.view_w, what="the live view redrawn")
        assert {i.conn for i in console.items()} <= {juliet.conn, romeo.conn}   # each client's own stream
        assert ">juliet/balcony<" in console.html and ">romeo/orchard<" in console.html   # rows name their stream
        lab.mark()                                          # the next cell: the last one's stanzas are gone
        await until(lambda: "live, in this cell" not in console.html, console.view_w, what="the next cell")
        console.cell_w.value = False                        # everything, on demand
        assert "live, in this cell" in console.html
        console.close()
        assert not lab.cells._listeners and live(lab) is not console   # closed: a new one when asked again
        live(lab).close()
        with pytest.raises(TypeError, match="live\\(\\) follows a Lab"):
            live(juliet)


def test_no_chapter_keeps_a_clock_to_see_its_cell():
    """Issue 13: the Lab knows where each cell began; no chapter needs ``since = time.time()``."""
    from pathlib import Path

    import nbformat

    for path in sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]-*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code":
                assert "time.time()" not in cell.source and "since=since" not in cell.source, (path.name, cell.source)


def test_a_script_marks_its_own_cells_with_synclab():
    from xmpplab.lab import SyncLab

    with SyncLab() as lab:
        juliet = lab.connect("juliet@example.com/balcony")
        romeo = lab.connect("romeo@example.net/orchard")
        juliet.send_message("romeo@example.net", "before the mark")
        assert romeo.next("message")["body"] == "before the mark"
        lab.mark()
        juliet.send_message("romeo@example.net", "after the mark")
        assert romeo.next("message")["body"] == "after the mark"
        assert [b for _, _, b in bodies(lab.view(juliet, romeo))] == ["after the mark"] * 2
