"""The final project (chapter 17): the Nurse bot answers a real client nobody here wrote (profanity), on a
server of one's own and on a class server (profanity logs in as the practice Romeo through the Lab's proxy,
its password never shown), and the Bot runner survives a handler that fails."""

import gc
import importlib.util
import shutil
import stat
from pathlib import Path

import pytest

import tests.test_class_lab as class_lab_tests
from tests.peers import need_program
from tests.support_terminal import Terminal
from xmpplab import Lab
from xmpplab.classroom.remote import ClassLab
from xmpplab.course import acheck
from xmpplab.course.project import Bot, open_room
from xmpplab.course.terminal import profanity_for

SOLUTION = Path(__file__).resolve().parents[1] / "notebooks" / "solutions" / "ch17.py"
DOMAIN = class_lab_tests.DOMAIN
GREETING = "/msg nurse@example.com Good morrow, Nurse"
school = class_lab_tests.school  # a class server of 3 students; this kernel works in it as student01


def solution():
    spec = importlib.util.spec_from_file_location("solutions_ch17", SOLUTION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_a_failing_handler_is_reported_and_the_bot_keeps_answering():
    async with Lab.start() as lab:
        nurse = await lab.connect("nurse@example.com/bot")
        juliet = await lab.connect("juliet@example.com/balcony")

        async def handle(stanza):
            if stanza.name == "message" and stanza["body"] == "boom":
                raise KeyError("nothing here")
            if stanza.name == "message" and stanza["body"]:
                await nurse.send_message(stanza["from"], "still here")

        bot = Bot.start(nurse, handle)
        await juliet.send_message("nurse@example.com/bot", "boom")
        await juliet.send_message("nurse@example.com/bot", "hello?")
        got = await juliet.next("message", from_="nurse@example.com")
        assert got["body"] == "still here"
        assert bot.errors and "KeyError" in bot.errors[0] and "line" in bot.errors[0]
        assert "running" in repr(bot) and "1 error" in repr(bot)
        again = Bot.start(nurse, handle)  # a re-run cell: the older bot stops
        assert not bot.running and again.running
        await again.stop()
        assert "stopped" in repr(again)


async def test_bot_refuses_what_is_not_a_client_or_not_async():
    async with Lab.start() as lab:
        nurse = await lab.connect("nurse@example.com/bot")
        with pytest.raises(TypeError, match="async function"):
            Bot.start(nurse, lambda stanza: None)
        with pytest.raises(TypeError, match="connected client"):
            Bot.start("nurse@example.com", solution().nurse_handler(nurse))


async def test_open_room_creates_once_then_enters():
    async with Lab.start() as lab:
        juliet = await lab.connect("juliet@example.com/balcony")
        romeo = await lab.connect("romeo@example.net/orchard")
        assert await open_room(juliet, "lobby@conference.example.com", "juliet") is True
        assert await open_room(romeo, "lobby@conference.example.com", "romeo") is False


@pytest.mark.peer
@pytest.mark.timeout(120)
async def test_the_nurse_answers_profanity(tmp_path):
    need_program("profanity", shutil.which("profanity") is not None, "apt-get install profanity")
    async with Lab.start() as lab:
        await solution().solve_17_1(lab)
        login = await profanity_for(lab, "romeo@example.net", GREETING)
        connect, password, allow, greeting = login.lines  # what the chapter prints, typed as a person would
        assert connect == f"/connect romeo@example.net server 127.0.0.1 port {lab.server.port}"
        assert login.command == "profanity" and allow.startswith("/tls allow") and greeting == GREETING
        term = Terminal(login.command, tmp_path, "nurse")
        try:
            await term.profanity_login("romeo@example.net", lab.server.port, password.split()[0])
            term.keys(greeting)
            assert await term.wait_for("Your Juliet is on her balcony", tries=300), term.screen()
        finally:
            term.close()


async def test_the_nurse_check_passes_and_fails_on_the_class_server(school):
    """17.1 on the class server: the Nurse and the visitor are practice accounts; a Nurse who never answers in the
    room fails with the words the learner needs, the whole Nurse passes."""
    for solve, passes in ((solution().near_miss_17_1, False), (solution().solve_17_1, True)):
        async with Lab.start() as lab:
            assert isinstance(lab, ClassLab)
            await solve(lab)
            result = await acheck("17.1", lab=lab)
            assert result.ok is passes, result.text()
            assert "the Nurse is online (nurse@example.com/bot)" in result.text()
            assert passes or "no answer in the room" in result.text()


@pytest.mark.peer
@pytest.mark.timeout(120)
async def test_on_the_class_server_profanity_logs_in_as_the_practice_romeo_through_the_labs_proxy(school, tmp_path):
    need_program("profanity", shutil.which("profanity") is not None, "apt-get install profanity")
    async with Lab.start() as lab:
        assert isinstance(lab, ClassLab)
        await solution().solve_17_1(lab)
        login = await profanity_for(lab, "romeo@example.net", GREETING)
        shown = repr(login)
        password = (await lab.login_for("romeo@example.net")).password
        assert password not in shown and login.jid == f"student01.romeo@{DOMAIN}"
        assert login.command == f"XDG_DATA_HOME={login.folder} profanity -a romeo"
        assert f"through your Lab's proxy on 127.0.0.1:{lab.server.port}" in shown
        assert login.lines[-1] == f"/msg student01.nurse@{DOMAIN} Good morrow, Nurse"
        accounts = login.folder / "profanity" / "accounts"
        assert f"password={password}" in accounts.read_text()  # only there, for profanity, readable by its owner
        assert stat.S_IMODE(login.folder.stat().st_mode) == 0o700 and stat.S_IMODE(accounts.stat().st_mode) == 0o600
        term = Terminal(login.command, tmp_path, "class-nurse")
        try:
            assert await term.wait_for("logged in successfully", tries=300), term.screen()
            assert "/tls allow" not in term.screen()  # it trusts the proxy's certificate: nothing to ask
            term.keys(login.lines[-1])
            assert await term.wait_for("Your Juliet is on her balcony", tries=300), term.screen()
        finally:
            term.close()
        romeo = f"student01.romeo@{DOMAIN}/profanity"
        bound = [e for e in lab.events if e["type"] == "bound" and e.get("jid") == romeo]
        assert bound and bound[0]["conn"].startswith("c2s-")  # the Lab's proxy recorded profanity's stream
        assert any(e["conn"] == bound[0]["conn"] and "Good morrow, Nurse" in e.get("data", "") for e in lab.events)
    folder = login.folder
    del lab
    gc.collect()
    assert not folder.exists()  # the account and its password go with the Lab
