"""Re-drive a recording made on the lab server against a real Prosody, and read the diff."""

import asyncio

import pytest

from tests.peers import need_program
from xmpplab.rawclient import RawClient
from xmpplab.recording import MemoryRecorder
from xmpplab.replay import redrive
from xmpplab.server import Server
from xmpplab.testing.prosody import ProsodyServer, free_port, prosody_path
from xmpplab.transcript import Transcript

pytestmark = pytest.mark.peer


async def test_a_lab_recording_redriven_against_prosody():
    need_program("prosody", prosody_path() is not None, "apt-get install prosody (or .ci/install-peers)")
    # Record juliet on the lab server: a roster get, a ping to her server, its software version.
    recorder = MemoryRecorder()
    async with Server(["localhost"]) as lab:
        lab.accounts.add("juliet@localhost", "secret")
        c = await RawClient.connect("127.0.0.1", lab.port, domain="localhost", recorder=recorder)
        await c.login("juliet@localhost/balcony", "secret")
        await c.request("<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>")
        await c.request("<iq type='get' id='p1' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>")
        await c.request("<iq type='get' id='v1' to='localhost'><query xmlns='jabber:iq:version'/></iq>")
        await c.close()
    recording = Transcript.from_events(recorder.events, recorded_by="client")
    conn = next(iter(recording.connections))

    prosody = ProsodyServer(["localhost"], c2s_port=free_port(), extra_modules=("version",))
    await asyncio.get_running_loop().run_in_executor(None, prosody.start)
    try:
        await prosody.aregister("juliet", "localhost", "secret")
        report = await redrive(recording, conn, prosody.host, prosody.port, "juliet@localhost/balcony", "secret")
    finally:
        await asyncio.get_running_loop().run_in_executor(None, prosody.stop)
    statuses = [o.status.value for e in report.exchanges for o in e.outcomes]
    assert "missing" not in statuses, report.text()
    # Same roster answer (its opaque version string aside) and ping; the version answer names another
    # software: one readable difference.
    assert not report.ok
    text = report.text()
    assert "Prosody" in text and "xmpplab" in text
    assert statuses.count("different") == 1, text
