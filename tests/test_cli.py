"""The xmpplab command: serve, accounts; wrong arguments get one readable sentence."""

import asyncio
import os
import signal
import subprocess

import pytest

from tests.support import RawClient
from tests.support_cli import XMPPLAB, start_command


def run(*args, input=None):
    return subprocess.run(XMPPLAB + list(args), capture_output=True, text=True, input=input, timeout=60)


@pytest.mark.parametrize("args, words", [
    (["serve", "--port", "seventy"], "the port must be a number"),
    (["serve", "--port", "70000"], "from 0 to 65535"),
    (["serve", "--domain", "not a domain"], "not a valid domain"),
    (["serve", "--domain", "juliet@example.com"], "wants a domain"),
    (["serve", "--user", "juliet"], "JID:PASSWORD"),
    (["accounts", "add", "juliet@example.com"], "--db"),
    (["accounts", "add", "juliet@", "--db", "x.sqlite", "--password", "p"], "domain part"),
    (["accounts"], "add, remove or list"),
    (["frobnicate"], "invalid choice"),
])
def test_wrong_arguments_get_one_sentence(args, words, tmp_path):
    result = subprocess.run(XMPPLAB + args, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 2
    assert words in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_accounts_add_list_remove(tmp_path):
    db = str(tmp_path / "lab.sqlite")
    assert run("accounts", "add", "juliet@example.com", "--db", db, "--password", "secret").stdout == \
        "added juliet@example.com\n"
    assert run("accounts", "add", "romeo", "--domain", "example.net", "--db", db, input="pw\n").returncode == 0
    assert run("accounts", "list", "--db", db).stdout.split() == ["juliet@example.com", "romeo@example.net"]
    assert run("accounts", "list", "--db", db, "--domain", "example.net").stdout.split() == ["romeo@example.net"]
    assert run("accounts", "remove", "juliet@example.com", "--db", db).returncode == 0
    gone = run("accounts", "remove", "juliet@example.com", "--db", db)
    assert gone.returncode == 2 and "there is no account juliet@example.com" in gone.stderr
    assert run("accounts", "list", "--db", db).stdout.split() == ["romeo@example.net"]


def test_help_for_every_command():
    for args in (["--help"], ["serve", "--help"], ["accounts", "add", "--help"], ["demo", "--help"]):
        result = run(*args)
        assert result.returncode == 0 and "usage: xmpplab" in result.stdout


async def test_serve_prints_where_it_listens_serves_and_stops_on_ctrl_c(tmp_path):
    db = tmp_path / "lab.sqlite"
    record = tmp_path / "streams.jsonl"
    run("accounts", "add", "juliet@example.com", "--db", str(db), "--password", "secret")
    proc = await asyncio.create_subprocess_exec(
        *XMPPLAB, "serve", "--port", "0", "--domain", "example.com", "--db", str(db), "--record", str(record),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env=dict(os.environ, PYTHONUNBUFFERED="1"))
    try:
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        assert "serving example.com on 127.0.0.1:" in line
        port = int(line.rsplit(":", 1)[1])
        c = await RawClient.open(port)
        assert await c.login("juliet@example.com/cli") == "juliet@example.com/cli"
        await c.close()
        proc.send_signal(signal.SIGINT)
        rest = (await asyncio.wait_for(proc.stdout.read(), 30)).decode()
        assert await asyncio.wait_for(proc.wait(), 30) == 0
        assert "stopping" in rest
        assert b"Traceback" not in await proc.stderr.read()
    finally:
        if proc.returncode is None:
            proc.kill()
    from xmpplab.transcript import iter_events
    events = list(iter_events(record))
    assert any(e["type"] == "bound" and e["jid"] == "juliet@example.com/cli" for e in events)
    assert any(e["type"] == "data" and e["dir"] == "in" and "<auth" in e["data"] for e in events)


async def _start_serve(*args):
    return await start_command("serve", "--port", "0", *args, timeout=30)


async def test_two_separately_started_servers_federate():
    import socket

    from tests.support import RawClient

    ports = []
    for _ in range(2):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            ports.append(s.getsockname()[1])
    one, out1 = await _start_serve("--domain", "server1.com", "--s2s-port", str(ports[0]),
                                   "--peer", f"server2.com=127.0.0.1:{ports[1]}", "--user", "user1@server1.com:pw")
    two, out2 = await _start_serve("--domain", "server2.com", "--s2s-port", str(ports[1]),
                                   "--peer", f"server1.com=127.0.0.1:{ports[0]}", "--user", "user2@server2.com:pw")
    try:
        assert f"servers connect to 127.0.0.1 port {ports[0]}" in out1
        assert f"the server for server1.com is at 127.0.0.1:{ports[0]}" in out2
        port1 = int(out1.split("serving server1.com on 127.0.0.1:")[1].split()[0])
        port2 = int(out2.split("serving server2.com on 127.0.0.1:")[1].split()[0])
        a = await RawClient.open(port1)
        await a.login("user1@server1.com/pc", "pw")
        b = await RawClient.open(port2)
        await b.login("user2@server2.com/phone1", "pw")
        await a.send("<message to='user2@server2.com/phone1' type='chat'><body>across processes</body></message>")
        got = await b.recv(10)
        assert got.get("from") == "user1@server1.com/pc"
        await a.close()
        await b.close()
    finally:
        for proc in (one, two):
            proc.send_signal(signal.SIGINT)
            await asyncio.wait_for(proc.wait(), 30)


def test_bad_peer_argument_is_one_sentence():
    result = run("serve", "--peer", "server2.com")
    assert result.returncode == 2 and "--peer wants DOMAIN=HOST:PORT" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


async def test_lab_opens_the_course_in_jupyterlab():
    import socket
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = await asyncio.create_subprocess_exec(
        *XMPPLAB, "lab", "--no-browser", "--port", str(port), stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT, cwd=str(__import__("pathlib").Path(__file__).resolve().parents[1]))
    try:
        first = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        assert "opening" in first and "00-welcome.ipynb" in first
        token = None
        while token is None:  # JupyterLab prints its URL with the access token once it listens
            line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
            assert line, "JupyterLab stopped before printing its URL"
            if f"127.0.0.1:{port}/lab" in line and "token=" in line:
                token = line.split("token=")[1].split()[0]

        def fetch():
            url = f"http://127.0.0.1:{port}/api/contents/00-welcome.ipynb?content=0&token={token}"
            with urllib.request.urlopen(url, timeout=5) as r:
                return r.read().decode()

        body = ""
        for _ in range(100):  # the URL may be printed a moment before connections are accepted
            try:
                body = await asyncio.get_running_loop().run_in_executor(None, fetch)
                break
            except OSError:
                # JupyterLab is another process with no event to wait on but its HTTP answer: poll it
                await asyncio.sleep(0.3)
        assert '"name": "00-welcome.ipynb"' in body or '"name":"00-welcome.ipynb"' in body
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(proc.wait(), 20)
        except TimeoutError:
            proc.kill()
