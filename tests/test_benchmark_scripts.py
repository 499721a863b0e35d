"""Every benchmark script a user may run answers ``--help`` with its usage, and runs nothing."""

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
SCRIPTS = sorted(p for p in BENCHMARKS.glob("*.py") if 'if __name__ == "__main__"' in p.read_text())


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_help_shows_the_usage_and_runs_nothing(script):
    result = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True, timeout=60,
                            cwd=BENCHMARKS.parent)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: "), result.stdout[:500]
    assert "Traceback" not in result.stderr
