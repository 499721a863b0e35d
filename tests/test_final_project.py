"""The final project (chapter 17): the Nurse bot answers a real client nobody here wrote (profanity), and
the Bot runner survives a handler that fails."""

import importlib.util
import shutil
from pathlib import Path

import pytest

from tests.peers import need_program
from tests.support_terminal import Terminal
from xmpplab import Lab
from xmpplab.course.project import Bot, open_room

SOLUTION = Path(__file__).resolve().parents[1] / "notebooks" / "solutions" / "ch17.py"


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
        lab.add_account("romeo@example.net", "wherefore")
        term = Terminal("profanity", tmp_path, "nurse")
        try:
            await term.profanity_login("romeo@example.net", lab.server.port, "wherefore")
            term.keys("/msg nurse@example.com Good morrow, Nurse")
            assert await term.wait_for("Your Juliet is on her balcony", tries=300), term.screen()
        finally:
            term.close()
