"""The trace detectives' recordings (chapter 14) are real recordings that can be made again: each scenario,
played now on a fresh Lab, says what the committed file in sample_streams/ says, and the tool that writes
them works. The chapter's checks read their answers from the same files (tests/test_course.py)."""

import subprocess
import sys
from pathlib import Path

import pytest

from xmpplab.course import traces
from xmpplab.transcript import Transcript

ROOT = Path(__file__).resolve().parents[1]


def test_the_committed_recordings_are_broken_the_way_the_chapter_says():
    lost = traces.facts("lost-message")
    assert lost["lost"] == [("m2", "romeo@example.net/orchad", "headline")] and lost["errors"] == 0
    assert lost["delivered"] == ["m1"] and lost["romeo"] == "romeo@example.net/orchard"
    pending = traces.facts("pending-subscription")
    assert pending == {"juliet_answered": ["subscribe"], "subscription": "none", "ask": "subscribe"}
    failed = traces.facts("failed-login")
    assert failed == {"to": "example.net", "mechanism": "SCRAM-SHA-256", "condition": "not-authorized",
                      "bound": None}
    for name in traces.SCENARIOS:
        header = traces.load(name).header
        assert header["recorded_by"] == "xmpplab server" and header["description"].startswith("broken on purpose")
        assert name in (ROOT / "sample_streams" / "README.md").read_text()


@pytest.mark.parametrize("name", list(traces.SCENARIOS))
async def test_recording_a_scenario_again_says_the_same(name):
    again = await traces.record(name)
    assert all(not conn.startswith("client-") for conn in again.connections)  # the server's side only
    assert traces.facts(name, again) == traces.facts(name)


def test_the_tool_writes_a_recording_that_loads(tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "record_sample_streams.py"), "--out", str(tmp_path),
                           "failed-login"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    written = Transcript.load(tmp_path / "failed-login.jsonl")
    assert traces.facts("failed-login", written) == traces.facts("failed-login")
    assert "not-authorized" in done.stdout
    refused = subprocess.run([sys.executable, str(ROOT / "tools" / "record_sample_streams.py"), "nope"],
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and "no scenario nope" in refused.stderr
