"""House rules: ``ruff check`` passes (the rule set is ``[tool.ruff]`` in pyproject.toml, see ARCHITECTURE.md).

For now the check covers tests/ and benchmarks/: the package (xmpplab/) joins it once the
branches of issue 11 that rewrite it are merged and ``ruff check --fix`` has run over them
(see LINTED below).
"""

import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINTED = ["tests", "benchmarks"]  # issue 11: add "xmpplab" (then simply ".") once it is clean


def test_ruff_check_passes():
    assert importlib.util.find_spec("ruff"), "ruff is a test dependency (pip install -e '.[test]')"
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", *LINTED], cwd=ROOT,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
