"""The Lab: servers and clients in the running loop, accounts on demand, re-running cells, stopping, scripts."""

import asyncio
import socket
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import psutil
import pytest

from tests.support_wait import round_trip
from xmpplab.client import ConnectError
from xmpplab.lab import Lab, SyncLab, run, running_labs

ROOT = Path(__file__).resolve().parent.parent


def listening_ports() -> set[int]:
    """TCP ports this process listens on."""
    return {c.laddr.port for c in psutil.Process().net_connections(kind="tcp") if c.status == psutil.CONN_LISTEN}


def accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(autouse=True)
async def no_labs_left():
    """Every test here leaves no Lab running and no socket listening."""
    before = listening_ports()
    yield
    for lab in running_labs():
        if lab._loop is asyncio.get_running_loop():
            await lab.stop()
            pytest.fail(f"the test left {lab!r} running")
    assert listening_ports() <= before


async def test_start_connect_message_and_stop():
    lab = await Lab.start()
    assert lab.domains == ["example.com", "example.net"] and lab.servers == [lab.server]
    juliet = await lab.connect("juliet@example.com/balcony")   # accounts made on demand
    romeo = await lab.connect("romeo@example.net/orchard")
    assert "juliet@example.com" in lab.server.accounts and "romeo@example.net" in lab.server.accounts
    await juliet.send_message("romeo@example.net", "Art thou not Romeo?")
    msg = await romeo.next("message")
    assert msg["body"] == "Art thou not Romeo?"
    assert lab.clients == [juliet, romeo]
    assert "example.com, example.net on 127.0.0.1:" in repr(lab) and "2 clients connected" in repr(lab)
    # One list holds both sides of every stream.
    conns = {e["conn"] for e in lab.events}
    assert {"client-juliet-1", "client-romeo-1"} <= conns
    assert any(c.startswith("c2s-") for c in conns)
    port = lab.server.port
    await lab.stop()
    assert not accepts(port)
    assert [c for c in psutil.Process().net_connections(kind="tcp")
            if port in (c.laddr.port, c.raddr.port if c.raddr else None)] == []
    assert not juliet.connected and not romeo.connected
    assert "stopped" in repr(lab) and lab not in running_labs()
    await lab.stop()  # twice is fine
    with pytest.raises(RuntimeError, match="not running"):
        await lab.connect("juliet@example.com/again")


async def test_async_with_start_and_async_with_lab():
    async with Lab.start(["example.org"]) as lab:
        client = await lab.connect("alice@example.org/desk")
        assert client.connected and lab.running
        port = lab.server.port
    assert not lab.running and not client.connected and not accepts(port)
    async with Lab(["example.org"]) as lab2:
        assert lab2.running
    assert not lab2.running


async def test_starting_again_in_the_same_loop_stops_the_earlier_lab():
    # What re-running a notebook cell (or Run All twice) does.
    before = listening_ports()
    first = await Lab.start()
    juliet = await first.connect("juliet@example.com/balcony")
    second = await Lab.start()
    try:
        assert not first.running and not juliet.connected and not accepts(first.server.port)
        assert [lab for lab in running_labs() if lab._loop is asyncio.get_running_loop()] == [second]
        assert listening_ports() - before == {second.server.port}
        assert "stopped 1 earlier Lab first" in repr(second)
        again = await second.connect("juliet@example.com/balcony")
        assert again.connected
    finally:
        await second.stop()
    assert listening_ports() <= before


async def test_replace_false_keeps_the_earlier_lab():
    first = await Lab.start()
    second = await Lab.start(replace=False)
    try:
        assert first.running and second.running and first.server.port != second.server.port
    finally:
        await second.stop()
        await first.stop()


async def test_a_lab_whose_loop_is_closed_is_forgotten():
    ports = []

    def leave_one_running():
        async def start():
            lab = await Lab.start(replace=False)
            ports.append(lab.server.port)
        asyncio.run(start())   # the loop closes with the Lab never stopped

    thread = threading.Thread(target=leave_one_running)
    thread.start()
    thread.join()
    assert accepts(ports[0])
    lab = await Lab.start()
    try:
        assert all(not old._loop.is_closed() for old in running_labs())
        assert not accepts(ports[0])
    finally:
        await lab.stop()


async def test_passwords_and_domains():
    async with Lab.start(password="letmein") as lab:
        juliet = await lab.connect("juliet@example.com/balcony")
        assert lab.server.accounts.check("juliet@example.com", "letmein")
        await juliet.disconnect()
        nurse = lab.add_account("nurse@example.com", "angelica")
        assert nurse == "nurse@example.com"
        assert (await lab.connect("nurse@example.com/kitchen")).connected   # the Lab remembers the password
        with pytest.raises(ConnectError, match="not-authorized"):
            await lab.connect("juliet@example.com/balcony", "wrong")
        with pytest.raises(ValueError, match="this Lab serves example.com, example.net, not example.org"):
            await lab.connect("alice@example.org")
        with pytest.raises(ValueError, match="no user part"):
            await lab.connect("example.com")
        with pytest.raises(ValueError, match="no account"):
            await lab.connect("tybalt@example.com", create=False)


async def test_record_false_keeps_no_events():
    async with Lab.start(record=False) as lab:
        client = await lab.connect("juliet@example.com/balcony")
        assert lab.events == [] and client.events   # the client still keeps its own


async def test_transcript_of_the_lab():
    async with Lab.start() as lab:
        juliet = await lab.connect("juliet@example.com/balcony")
        transcript = lab.transcript
        await juliet.send_message("romeo@example.net", "late")
        await round_trip(juliet)  # the server has taken the message: both ends of it are recorded
        assert juliet.conn in transcript.connections, f"{juliet.conn} is not among {list(transcript.connections)}"
        assert "late" in "".join(e["data"] for e in lab.events if e["conn"] == juliet.conn and e["type"] == "data")
        assert lab.transcript is transcript   # kept up to date, not rebuilt
        assert list(transcript.items(conn=juliet.conn))


def test_start_not_awaited_says_what_to_write():
    assert "lab = await Lab.start(...)" in repr(Lab.start())


async def test_sync_entry_points_refuse_inside_a_running_loop():
    async def main(lab):
        return 1

    with pytest.raises(RuntimeError, match=r"cannot be used where one is already running .*"
                                           r"`lab = await xmpplab.lab.Lab.start\(\)`"):
        run(main)
    with pytest.raises(RuntimeError, match="SyncLab runs its own event loop"):
        SyncLab()


SCRIPT = textwrap.dedent("""
    import asyncio
    from xmpplab.lab import SyncLab, run

    async def main(lab, text):
        juliet = await lab.connect("juliet@example.com/balcony")
        romeo = await lab.connect("romeo@example.net/orchard")
        await juliet.send_message("romeo@example.net", text)
        return (await romeo.next("message"))["body"]

    print("run:", run(main, "from run()"))

    with SyncLab() as lab:
        juliet = lab.connect("juliet@example.com/balcony")
        romeo = lab.connect("romeo@example.net/orchard")
        juliet.send_message("romeo@example.net", "from SyncLab")
        print("sync:", romeo.next("message")["body"])
        print("roster:", juliet.roster())
        print(lab)
    print("after:", lab)
""")


def test_sync_entry_points_work_from_a_plain_script(tmp_path):
    script = tmp_path / "script.py"
    script.write_text(SCRIPT)
    result = subprocess.run([sys.executable, "-W", "error::RuntimeWarning", str(script)], cwd=ROOT,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "run: from run()"
    assert lines[1] == "sync: from SyncLab"
    assert lines[2] == "roster: []"
    assert lines[3].startswith("<xmpplab SyncLab example.com, example.net on 127.0.0.1:")
    assert "stopped" in lines[4]
    assert "Traceback" not in result.stderr and "never awaited" not in result.stderr
