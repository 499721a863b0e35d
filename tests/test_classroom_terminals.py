"""The handout's terminal lines, run as a student would: go-sendxmpp in a shell, profanity in a terminal."""

import asyncio
import html
import os
import re
import shutil
import subprocess

import pytest

from tests.peers import need_program
from xmpplab.classroom import certificate_fingerprint, prepare_class, read_csv, render_handout
from xmpplab.client import Client
from xmpplab.server import Server

pytestmark = [pytest.mark.peer, pytest.mark.timeout(120)]
DOMAIN = "class.example"


@pytest.fixture
async def school(tmp_path):
    """A class of three on loopback, its handout, and student02 logged in to receive."""
    server = await Server([DOMAIN]).start()
    prepare_class(server, DOMAIN, 3, tmp_path / "class.csv")
    accounts = read_csv(tmp_path / "class.csv")
    page = render_handout(accounts, host="127.0.0.1", port=server.port, domain=DOMAIN,
                          fingerprint=certificate_fingerprint(server))
    passwords = {str(a.jid): a.password for a in accounts}
    receiver = await Client.connect(f"student02@{DOMAIN}/laptop", passwords[f"student02@{DOMAIN}"],
                                    host="127.0.0.1", port=server.port, verify_tls=False)
    try:
        yield server, page, passwords, receiver
    finally:
        await receiver.disconnect()
        await server.stop()


def card_lines(page: str, jid: str) -> list[str]:
    """The code lines on one student's card, as the student reads them."""
    card = page[page.index(f"<div class='who'>{jid}</div>"):]
    card = card[:card.index("</section>")]
    return [html.unescape(c) for c in re.findall(r"<code>(.*?)</code>", card)]


async def test_the_go_sendxmpp_line_of_the_handout_sends_a_message(school, tmp_path):
    need_program("go-sendxmpp", shutil.which("go-sendxmpp") is not None, "apt-get install go-sendxmpp")
    server, page, passwords, receiver = school
    line = next(c for c in card_lines(page, f"student01@{DOMAIN}") if c.startswith("echo hello | go-sendxmpp"))
    assert f"student02@{DOMAIN}" in line  # the next student on the list
    result = await asyncio.to_thread(subprocess.run, ["bash", "-c", line], capture_output=True, text=True,
                                     timeout=60, env=dict(os.environ, HOME=str(tmp_path)))
    assert result.returncode == 0, result.stderr
    got = await receiver.next("message", timeout=30, predicate=lambda m: m["body"])
    assert got["body"].strip() == "hello" and str(got["from"]).startswith(f"student01@{DOMAIN}/")


async def test_the_profanity_lines_of_the_handout_log_in_and_chat(school, tmp_path):
    need_program("profanity", shutil.which("profanity") is not None, "apt-get install profanity")
    need_program("tmux", shutil.which("tmux") is not None, "apt-get install tmux")
    server, page, passwords, receiver = school
    connect = next(c for c in card_lines(page, f"student01@{DOMAIN}") if c.startswith("/connect"))
    bound = asyncio.get_running_loop().create_future()
    server.hook("session-bound", lambda s: s.jid.local == "student01" and not bound.done() and bound.set_result(s))
    session = f"xmpplab-{os.getpid()}"
    env = dict(os.environ, HOME=str(tmp_path), TERM="xterm-256color")

    def keys(*text, enter=True):
        for t in text:
            subprocess.run(["tmux", "send-keys", "-t", session, "-l", t], check=True, env=env)
            if enter:
                subprocess.run(["tmux", "send-keys", "-t", session, "Enter"], check=True, env=env)

    def screen() -> str:
        return subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True,
                              env=env).stdout

    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "200", "-y", "50", "profanity"],
                   check=True, env=env)
    try:
        for _ in range(100):  # profanity's prompt is up when its window shows the version line
            if "Profanity" in screen() or "profanity" in screen():
                break
            await asyncio.sleep(0.1)  # another process: nothing to wait on but its screen
        keys(connect)
        for _ in range(100):
            if "password" in screen().lower():
                break
            await asyncio.sleep(0.1)
        keys(passwords[f"student01@{DOMAIN}"])
        for _ in range(100):  # the self-signed certificate: the handout says to allow it
            text = screen()
            if "/tls allow" in text or bound.done():
                break
            await asyncio.sleep(0.1)
        if not bound.done():
            keys("/tls allow")
        await asyncio.wait_for(bound, 30)
        keys(f"/msg student02@{DOMAIN} hi from profanity")
        got = await receiver.next("message", timeout=30, predicate=lambda m: m["body"])
        assert got["body"] == "hi from profanity", screen()
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], env=env, capture_output=True)
