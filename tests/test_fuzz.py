"""The fuzz targets in CI: every committed seed passes the harness, and a bounded atheris run finds no crash.

``tests/fuzz/corpus/`` holds small, meaningful inputs (a full login stream, stanzas, known attacks)
and every crash the fuzzers ever found, as regression seeds. Each is checked by both harnesses on
every run (tests/fuzz/harness.py). Then each coverage-guided target (tests/fuzz/fuzz_stream.py and
tests/fuzz/fuzz_c2s.py) runs in a subprocess, both at once; a crash fails the test and prints the
input. By default the run is reproducible (a fixed libFuzzer seed and number of inputs, capped at
25 s): CI fails for a change of the code, not for the luck of the draw. ``XMPPLAB_FUZZ_SECONDS=N``
runs each target for N seconds from a random seed instead. Longer runs: docs/fuzzing.md.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fuzz.harness import LOCAL_PEER, REMOTE_PEER, check_stream, run_connection

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "fuzz" / "corpus"
SEEDS = sorted(CORPUS.iterdir())
#: target -> inputs in the reproducible CI run (about 15 s each here; the stream target is ~25 times faster)
TARGETS = {"fuzz_stream": 150_000, "fuzz_c2s": 6_000}
SEED = 20261205
CAP_SECONDS = 25


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


def _run_targets(seconds: int | None, workdir: Path) -> dict[str, subprocess.CompletedProcess]:
    """Run every target at the same time; new inputs go to ``workdir``, never into the corpus.

    ``seconds=None``: the reproducible run (fixed seed and number of inputs, capped at CAP_SECONDS).
    """
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
           "PYTHONHASHSEED": "0"}
    procs = {}
    for target, runs in TARGETS.items():
        out = workdir / target
        out.mkdir()
        bound = [f"-seed={SEED}", f"-runs={runs}", f"-max_total_time={CAP_SECONDS}"] if seconds is None \
            else [f"-max_total_time={seconds}"]
        cmd = [sys.executable, "-m", f"tests.fuzz.{target}", str(out), str(CORPUS), *bound,
               "-timeout=10", "-rss_limit_mb=2048", "-max_len=4096",
               f"-artifact_prefix={workdir}/{target}-", "-print_final_stats=1"]
        procs[target] = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    results = {}
    for target, proc in procs.items():
        try:
            stdout, _ = proc.communicate(timeout=(seconds or CAP_SECONDS) + 60)
        except subprocess.TimeoutExpired:
            proc.kill()
            stdout, _ = proc.communicate()
        results[target] = subprocess.CompletedProcess(proc.args, proc.returncode, stdout.decode("utf-8", "replace"))
    return results


def test_a_bounded_fuzz_run_finds_no_crash(tmp_path):
    pytest.importorskip("atheris", reason="atheris is in the test extra: pip install -e '.[test]'")
    seconds = int(os.environ["XMPPLAB_FUZZ_SECONDS"]) if os.environ.get("XMPPLAB_FUZZ_SECONDS") else None
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
