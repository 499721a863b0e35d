"""Exercises that need a partner pair students through the class room (issue 12): the partner cells of chapters
03 and 06, as the notebooks hold them, run by two students at once (each paired with the other, both checks
passing), by a student alone (a practice account plays the partner after a bounded wait), and the ``#pair``
protocol's ``leave``. tests/test_class_notebooks.py runs the whole notebooks in two kernels."""

import ast
import asyncio
import inspect
import json
from pathlib import Path

import pytest

import tests.test_class_lab as class_lab_tests
from xmpplab import Lab
from xmpplab.classroom.partners import ask, pair
from xmpplab.classroom.remote import ClassLab
from xmpplab.classroom.teacher import progress_of
from xmpplab.course import acheck

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
DOMAIN = class_lab_tests.DOMAIN
ROOM = f"class@conference.{DOMAIN}"


@pytest.fixture
async def school(tmp_path, monkeypatch):
    """The class server of tests/test_class_lab.py (3 students); this kernel works in it as student01."""
    async for found in class_lab_tests.school.__wrapped__(tmp_path, monkeypatch):
        yield found


def partner_cell(chapter: str) -> str:
    """The source of the chapter's partner cell, as committed."""
    nb = json.loads(next(NOTEBOOKS.glob(f"{chapter}-*.ipynb")).read_text(encoding="utf-8"))
    cells = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    found = [c for c in cells if f'lab.pair("{chapter}")' in c]
    assert len(found) == 1, f"chapter {chapter} should have one partner cell"
    return found[0]


async def run_cell(source: str, namespace: dict) -> None:
    """Run a notebook cell's code (top-level await allowed) in ``namespace``, as a kernel does."""
    code = compile(source, "<cell>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    result = eval(code, namespace)  # noqa: S307 (the committed notebook's own cell)
    if inspect.iscoroutine(result):
        await result


async def cell_space(lab) -> dict:
    """What the chapter's earlier cells left for the partner cell: the Lab, Juliet logged in, ``acheck``."""
    return {"lab": lab, "acheck": acheck, "juliet": await lab.connect("juliet@example.com/balcony")}


async def classmate(server, passwords) -> ClassLab:
    """A second student's notebook (student02) beside this kernel's Lab (student01)."""
    lab = ClassLab(["example.com", "example.net"], f"127.0.0.1:{server.port}", f"student02@{DOMAIN}",
                   account_password=passwords[f"student02@{DOMAIN}"])
    return await lab._start(replace=False)


async def in_the_room(client, nick: str) -> None:
    await client.send_raw(f"<presence to='{ROOM}/{nick}'><x xmlns='http://jabber.org/protocol/muc'/></presence>")
    await client.next("presence", from_=f"{ROOM}/{nick}")


def said_in_room(client, words: str):
    return client.next("message", timeout=10, predicate=lambda m: m["type"] == "groupchat" and words in m["body"])


@pytest.mark.parametrize("chapter", ["03", "06"])
async def test_two_students_run_the_partner_cell_at_once_and_are_paired_through_the_class_room(
        chapter, school, capsys):
    server, passwords, connect = school
    teacher = await connect(f"teacher@{DOMAIN}/dashboard")
    await in_the_room(teacher, "teacher")
    first = await Lab.start()  # student01, as the environment says
    second = await classmate(server, passwords)
    try:
        labs = (first, second)
        spaces = [await cell_space(lab) for lab in labs]
        await asyncio.gather(*(run_cell(partner_cell(chapter), space) for space in spaces))
        said = capsys.readouterr().out
        assert f"Your partner for chapter {chapter} is student02@{DOMAIN}: you are both in the class room" in said
        assert f"Your partner for chapter {chapter} is student01@{DOMAIN}: you are both in the class room" in said
        assert "plays your partner" not in said  # nobody fell back
        # each did the partner's side for the other: their own account answered the other's Juliet
        assert [str(lab.partner) for lab in labs] == [f"student02@{DOMAIN}", f"student01@{DOMAIN}"]
        for lab in labs:
            result = await acheck(f"{chapter}.partner", lab=lab)
            assert result.ok, result.text()
        # the teacher saw, in the class room, who waited and who was paired with whom
        await said_in_room(teacher, f"looks for a partner for chapter {chapter}")
        await said_in_room(teacher, f"are partners for chapter {chapter}")
        occupants = {str(p["from"]) for p in teacher.pending if p.name == "presence"}
        assert {f"{ROOM}/student01", f"{ROOM}/student02"} <= occupants
    finally:
        await second.stop()
        await first.stop()


@pytest.mark.parametrize("chapter", ["03", "06"])
async def test_a_student_alone_gets_a_practice_partner_after_a_bounded_wait(chapter, school, capsys, monkeypatch):
    server, passwords, connect = school
    monkeypatch.setenv("XMPPLAB_PARTNER_WAIT", "0.5")
    teacher = await connect(f"teacher@{DOMAIN}/dashboard")
    await in_the_room(teacher, "teacher")
    async with Lab.start() as lab:
        space = await cell_space(lab)
        await asyncio.wait_for(run_cell(partner_cell(chapter), space), 30)
        said = capsys.readouterr().out
        assert f"Waiting up to 0.5 s for a classmate to ask for a partner for chapter {chapter} too" in said
        assert (f"No classmate asked for chapter {chapter} within 0.5 s: Benvolio (student01.benvolio@{DOMAIN}), "
                "a practice account, plays your partner.") in said
        assert str(lab.partner) == "benvolio@example.net" and lab.practice_partner is not None
        live = await teacher.next("message", timeout=10, predicate=lambda m: (progress_of(m) or {}).get(
            "exercise") == f"{chapter}.partner")
        assert progress_of(live)["passed"] and progress_of(live)["student"] == f"student01@{DOMAIN}"
        await said_in_room(teacher, f"Nobody came: a practice account plays student01's partner for chapter {chapter}")
        # the lone student no longer waits: a classmate who asks now waits in turn, not paired with someone gone
        latecomer = await connect(f"student02@{DOMAIN}/laptop")
        assert await ask(latecomer, chapter) is None


async def test_leaving_the_queue_names_a_partner_who_came_meanwhile(school):
    server, passwords, connect = school
    a, b, c = [await connect(f"student0{n}@{DOMAIN}/laptop") for n in (1, 2, 3)]
    assert await ask(a, "03") is None  # a waits
    assert str(await ask(b, "03")) == f"student01@{DOMAIN}"  # b takes a ...
    assert str(await ask(a, "03", leave=True)) == f"student02@{DOMAIN}"  # ... so a, giving up, still gets b
    assert await ask(a, "03", leave=True) is None  # told once
    assert await ask(a, "06") is None  # a waits for 06, then gives up: nobody
    assert await ask(a, "06", leave=True) is None
    assert await ask(c, "06") is None  # c waits: a is no longer in the queue
    assert str(await pair(b, "06", timeout=10)) == f"student03@{DOMAIN}"


async def test_a_cell_stopped_while_it_waits_leaves_the_queue(school):
    from xmpplab.classroom import partners
    from xmpplab.server.modules.classmates import PAIRING

    server, passwords, connect = school
    waiting = PAIRING.of(server).waiting
    async with Lab.start() as lab:
        teacher = await connect(f"teacher@{DOMAIN}/dashboard")
        await in_the_room(teacher, "teacher")
        cell = asyncio.ensure_future(lab.pair("03", timeout=300))
        await said_in_room(teacher, "student01 looks for a partner for chapter 03")  # it asked, and waits
        assert [str(j.bare) for j in waiting.values()] == [f"student01@{DOMAIN}"]
        cell.cancel()  # the student stops the cell (Jupyter's interrupt)
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(cell, 10)
        await asyncio.gather(*partners._leaving)  # its leave request, sent on the way out, is answered
        assert not waiting
        assert await ask(await connect(f"student02@{DOMAIN}/laptop"), "03") is None  # not paired with a stopped cell
