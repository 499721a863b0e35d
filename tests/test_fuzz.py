"""The fuzz targets in CI: every committed seed passes the harness, and a bounded atheris run finds no crash.

``tests/fuzz/corpus/`` holds small, meaningful inputs (a full login stream, stanzas, known attacks)
and every crash the fuzzers ever found, as regression seeds. Each is checked by both harnesses on
every run (tests/fuzz/harness.py). Then each coverage-guided target (tests/fuzz/fuzz_stream.py and
tests/fuzz/fuzz_c2s.py) runs for ``XMPPLAB_FUZZ_SECONDS`` (default 20) in a subprocess, both at
once; a crash fails the test and prints the input. Longer runs: docs/fuzzing.md.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fuzz.harness import LOCAL_PEER, REMOTE_PEER, check_stream, run_connection

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "fuzz" / "corpus"
SEEDS = sorted(CORPUS.iterdir())
TARGETS = ("fuzz_stream", "fuzz_c2s")


def test_the_corpus_has_seeds_of_each_kind():
    names = {p.name for p in SEEDS}
    assert "login-plain-and-chat.xml" in names and any(n.startswith("attack-") for n in names)
    assert all(p.stat().st_size <= 4096 for p in SEEDS), "keep seeds small: libFuzzer's -max_len is 4096"


@pytest.mark.parametrize("seed", SEEDS, ids=[p.name for p in SEEDS])
def test_seed_passes_the_stream_harness(seed):
    check_stream(seed.read_bytes())


@pytest.mark.parametrize("peer", [LOCAL_PEER, REMOTE_PEER], ids=["local", "remote"])
@pytest.mark.parametrize("seed", SEEDS, ids=[p.name for p in SEEDS])
async def test_seed_passes_the_connection_harness(seed, peer):
    await run_connection(seed.read_bytes(), peer=peer)


async def test_the_login_seed_really_logs_in_and_chats():
    """The harness is only worth its seeds: the login seed reaches a bound resource and a message round trip."""
    seed = (CORPUS / "login-plain-and-chat.xml").read_bytes()
    session, _transport, written = await run_connection(seed, peer=LOCAL_PEER)
    assert b"<jid>juliet@example.com/balcony</jid>" in written
    assert b"<body>to myself</body>" in written and b'<iq type="result" id="p1"' in written
    assert written.endswith(b"</stream:stream>") and session.closed


def _run_targets(seconds: int, workdir: Path) -> dict[str, subprocess.CompletedProcess]:
    """Run every target for ``seconds`` at the same time; new inputs go to ``workdir``, never the corpus."""
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    procs = {}
    for target in TARGETS:
        out = workdir / target
        out.mkdir()
        cmd = [sys.executable, "-m", f"tests.fuzz.{target}", str(out), str(CORPUS),
               f"-max_total_time={seconds}", "-timeout=10", "-rss_limit_mb=2048", "-max_len=4096",
               f"-artifact_prefix={workdir}/{target}-", "-print_final_stats=1"]
        procs[target] = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    results = {}
    for target, proc in procs.items():
        try:
            stdout, _ = proc.communicate(timeout=seconds + 60)
        except subprocess.TimeoutExpired:
            proc.kill()
            stdout, _ = proc.communicate()
        results[target] = subprocess.CompletedProcess(proc.args, proc.returncode, stdout.decode("utf-8", "replace"))
    return results


def test_a_bounded_fuzz_run_finds_no_crash(tmp_path):
    pytest.importorskip("atheris", reason="atheris is in the test extra: pip install -e '.[test]'")
    seconds = int(os.environ.get("XMPPLAB_FUZZ_SECONDS", "20"))
    results = _run_targets(seconds, tmp_path)
    failures = []
    for target, result in results.items():
        if result.returncode == 0 and "Done " in result.stdout:
            continue
        crashes = sorted(tmp_path.glob(f"{target}-*"))
        shown = "\n".join(f"{p.name}: {p.read_bytes()!r}" for p in crashes) or "(no crash file)"
        tail = "\n".join(result.stdout.splitlines()[-40:])
        failures.append(f"{target} exited with {result.returncode}.\nCrashing input(s):\n{shown}\n"
                        f"Add it to tests/fuzz/corpus/ as crash-<what>.xml once understood.\n--- output ---\n{tail}")
    assert not failures, "\n\n".join(failures)
