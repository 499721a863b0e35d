"""xmpplab record, replay and convert: what a user types and sees; wrong arguments get one sentence."""

import asyncio
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from xmpplab.rawclient import RawClient
from xmpplab.server import Server
from xmpplab.transcript import Transcript

XMPPLAB = [sys.executable, "-m", "xmpplab"]
SAMPLES = Path(__file__).resolve().parent.parent / "sample_streams"
JULIET = str(SAMPLES / "juliet-login-starttls-scram.jsonl")


def run(*args, input=None, cwd=None):
    return subprocess.run(XMPPLAB + list(args), capture_output=True, text=True, input=input, timeout=60, cwd=cwd)


@pytest.mark.parametrize("args, words", [
    (["record", "--listen", "5223", "--upstream", "example.org", "-o", "out.txt"], "name the file .jsonl"),
    (["record", "--listen", "localhost", "--upstream", "example.org", "-o", "a.jsonl"], "give a port to listen on"),
    (["record", "--listen", "5223", "-o", "a.jsonl"], "required: --upstream"),
    (["record", "--listen", "5223", "--upstream", "example.org:http", "-o", "a.jsonl"], "the port must be a number"),
    (["replay", "missing.jsonl"], "there is no file missing.jsonl"),
    (["replay", JULIET, "--fake"], "--fake needs --listen"),
    (["replay", JULIET, "--fake", "--listen", "0", "--against", "127.0.0.1:5222"], "not both"),
    (["replay", JULIET, "--listen", "5223"], "--listen goes with --fake"),
    (["replay", JULIET, "--jid", "juliet@example.com"], "go with --against"),
    (["replay", JULIET, "--against", "127.0.0.1:5222", "--map", "romeo"], "--map wants OLD=NEW"),
    (["replay", JULIET, "--conn", "c2s-9"], "there is no connection 'c2s-9'"),
    (["replay", JULIET, "--kind", "stanzas"], "unknown kind stanzas"),
    (["replay", JULIET, "--against", "127.0.0.1:1", "--password", "secret"], "could not connect to 127.0.0.1:1"),
    (["convert", JULIET, "out.log"], "slixmpp logs are read, not written"),
    (["convert", str(SAMPLES / "README.md"), "out.jsonl"], "xmpplab reads .jsonl"),
    (["convert", JULIET, JULIET], "the same file"),
])
def test_wrong_arguments_get_one_sentence(args, words, tmp_path):
    result = run(*args, cwd=tmp_path)
    assert result.returncode == 2, result
    assert words in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_replay_prints_the_stanzas_with_direction_labels():
    result = run("replay", JULIET, "--kind", "stanza")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0].endswith("8 stanzas on 1 connection; C→S is client to server, S→C server to client")
    assert lines[1].startswith("1 C→S │ <iq") and "\033[" not in result.stdout  # no colour in a pipe
    assert "4 C→S │ <iq id=\"693ead1e461e4e29b0d386db10871504\" type=\"get\">" in result.stdout
    assert "┄ answered by stanza 6" in result.stdout
    assert result.stdout.count(" S→C │ ") == 4


def test_replay_step_waits_for_enter_and_q_quits():
    result = run("replay", JULIET, "--step", input="\n\nq\n")
    assert result.returncode == 0
    assert re.findall(r"^ ?(\d+) [CS]→[CS] │", result.stdout, re.MULTILINE) == ["1", "2", "3"]
    assert "credentials masked" not in result.stdout and "[masked]" not in result.stdout  # SASL is further on


def test_convert_between_formats(tmp_path):
    txt, back, script = tmp_path / "juliet.txt", tmp_path / "back.jsonl", tmp_path / "juliet.scs"
    assert run("convert", JULIET, str(txt)).stdout.startswith(f"wrote {txt}: RFC example text")
    assert txt.read_text().lstrip().startswith("C: <stream:stream to='example.com'")
    assert run("convert", str(txt), str(back)).returncode == 0
    original, again = Transcript.load(JULIET), Transcript.load(back)
    assert [i.text for i in again.stanzas()] == [i.text for i in original.stanzas()]
    assert run("convert", str(SAMPLES.parent / "tests" / "data" / "slixmpp-juliet-starttls-scram.log"),
               str(tmp_path / "from-log.jsonl")).returncode == 0
    made = run("convert", JULIET, str(script))
    assert made.returncode == 0 and "[Client] Juliet" in script.read_text()


@pytest.fixture
async def lab_server():
    async with Server(["example.com", "example.net"]) as server:
        server.accounts.add("juliet@example.com", "secret")
        yield server


async def _xmpplab(*args) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(*XMPPLAB, *args, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode, out.decode(), err.decode()


async def test_replay_against_a_server_exits_0_when_the_answers_are_the_same(lab_server):
    code, out, err = await _xmpplab("replay", JULIET, "--against", f"127.0.0.1:{lab_server.port}",
                                    "--password", "secret", "--wait", "0.1")
    assert code == 0, err
    assert "3 exchanges, all the same" in out.splitlines()[0]
    async with await RawClient.connect("127.0.0.1", lab_server.port) as c:  # now juliet has a contact
        await c.login("juliet@example.com", "secret")
        await c.request("<iq type='set' id='r'><query xmlns='jabber:iq:roster'><item jid='romeo@example.net'/>"
                        "</query></iq>")
    code, out, err = await _xmpplab("replay", JULIET, "--against", f"127.0.0.1:{lab_server.port}",
                                    "--password", "secret", "--wait", "0.1")
    assert code == 1 and "2 same, 1 different" in out and "+    <item jid=\"romeo@example.net\"" in out


async def _start(*args):
    """Start a long-running xmpplab command; return the process and the port it says it listens on."""
    proc = await asyncio.create_subprocess_exec(*XMPPLAB, *args, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE,
                                                env=dict(os.environ, PYTHONUNBUFFERED="1"))
    line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
    match = re.search(r"on 127\.0\.0\.1:(\d+)", line)
    assert match, line + (await proc.stderr.read()).decode()
    return proc, int(match.group(1)), line


async def _stop(proc) -> str:
    proc.send_signal(signal.SIGINT)
    rest = (await asyncio.wait_for(proc.stdout.read(), 30)).decode()
    assert await asyncio.wait_for(proc.wait(), 30) == 0
    assert b"Traceback" not in await proc.stderr.read()
    return rest


async def test_record_proxies_a_starttls_session_to_a_file(lab_server, tmp_path):
    out = tmp_path / "proxied.jsonl"
    proc, port, first = await _start("record", "--listen", "127.0.0.1:0", "--upstream",
                                     f"127.0.0.1:{lab_server.port}", "-o", str(out))
    try:
        assert f"forwarding to 127.0.0.1:{lab_server.port}, recording to {out}" in first
        async with await RawClient.connect("127.0.0.1", port) as c:
            assert await c.login("juliet@example.com/balcony", "secret") == "juliet@example.com/balcony"
            assert c.tls_version == "TLSv1.3"
        said = await _stop(proc)
    finally:
        if proc.returncode is None:
            proc.kill()
    assert "must accept that certificate" in said and "STARTTLS on both legs" in said
    t = Transcript.load(out)
    conn = t.connections["proxy-1"]
    assert (conn.jid, conn.tls, conn.mechanism) == ("juliet@example.com/balcony", "TLSv1.3", "SCRAM-SHA-256")
    assert t.first(kind="iq", direction="S→C").text.count("juliet@example.com/balcony") == 1


async def test_replay_fake_answers_a_client_with_the_recording(tmp_path):
    proc, port, first = await _start("replay", JULIET, "--fake", "--listen", "127.0.0.1:0")
    try:
        assert "playing c2s-1 (juliet@example.com/balcony)" in first and "any password" in first
        async with await RawClient.connect("127.0.0.1", port) as c:
            await c.login("juliet@example.com", "anything")
            roster = await c.request("<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>")
            assert roster.get("type") == "result" and roster.get("id") == "r1"
        said = await _stop(proc)
    finally:
        if proc.returncode is None:
            proc.kill()
    assert "client sent iq get jabber:iq:roster: played iq result jabber:iq:roster" in said
