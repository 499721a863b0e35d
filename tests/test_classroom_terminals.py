"""The handout's terminal lines, run as a student would: go-sendxmpp in a shell, profanity in a terminal."""

import asyncio
import os
import re
import shutil
import subprocess

import pytest

from tests.peers import need_program
from tests.support_classroom import card_lines
from tests.support_terminal import Terminal
from xmpplab.certs import certificate_file
from xmpplab.classroom import certificate_fingerprint, certificate_sha1, prepare_class, read_csv, render_handout
from xmpplab.client import Client
from xmpplab.proxy import RecordingProxy
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
                          fingerprint=certificate_fingerprint(server), sha1=certificate_sha1(server))
    passwords = {str(a.jid): a.password for a in accounts}
    receiver = await Client.connect(f"student02@{DOMAIN}/laptop", passwords[f"student02@{DOMAIN}"],
                                    host="127.0.0.1", port=server.port, verify_tls=False)
    try:
        yield server, page, passwords, receiver
    finally:
        await receiver.disconnect()
        await server.stop()


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
    server, page, passwords, receiver = school
    connect = next(c for c in card_lines(page, f"student01@{DOMAIN}") if c.startswith("/connect"))
    bound = asyncio.get_running_loop().create_future()
    server.hook("session-bound", lambda s: s.jid.local == "student01" and not bound.done() and bound.set_result(s))
    term = Terminal("profanity", tmp_path, "handout")
    try:
        await term.wait_for("profanity")  # its prompt is up when its window shows the version line
        term.keys(connect)
        await term.wait_for("password")
        term.keys(passwords[f"student01@{DOMAIN}"])
        for _ in range(100):  # the self-signed certificate: the handout says to compare, then allow it
            if "/tls allow" in term.screen() or bound.done():
                break
            await asyncio.sleep(0.1)
        if not bound.done():
            card = " ".join(card_lines(page, f"student01@{DOMAIN}"))
            assert certificate_sha1(server) in card and certificate_sha1(server) in term.screen(), term.screen()
            term.keys("/tls allow")
        await asyncio.wait_for(bound, 30)
        term.keys(f"/msg student02@{DOMAIN} hi from profanity")
        got = await receiver.next("message", timeout=30, predicate=lambda m: m["body"])
        assert got["body"] == "hi from profanity", term.screen()
    finally:
        term.close()


async def test_through_a_man_in_the_middle_profanity_shows_a_fingerprint_that_is_not_the_cards(school, tmp_path):
    need_program("profanity", shutil.which("profanity") is not None, "apt-get install profanity")
    server, page, passwords, receiver = school
    theirs = certificate_file([DOMAIN], directory=tmp_path / "mitm")  # another certificate for the class's name
    async with RecordingProxy("127.0.0.1", 0, "127.0.0.1", server.port, cert=str(theirs)) as mitm:
        term = Terminal("profanity", tmp_path, "mitm")
        try:
            await term.wait_for("profanity")
            term.keys(f"/connect student01@{DOMAIN} server 127.0.0.1 port {mitm.port}")
            await term.wait_for("password")
            term.keys(passwords[f"student01@{DOMAIN}"])
            assert await term.wait_for("/tls deny"), term.screen()
            screen = term.screen()
            shown = re.search(r"Fingerprint\s*:\s*([0-9a-f]{40})", screen).group(1)
            card = " ".join(card_lines(page, f"student01@{DOMAIN}"))
            assert certificate_sha1(server) in card and shown != certificate_sha1(server)
            assert shown not in card  # the card says: another fingerprint, /tls deny
            term.keys("/tls deny")
        finally:
            term.close()
