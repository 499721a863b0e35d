"""House rules (ARCHITECTURE.md): ``ruff check`` passes over the whole project (the rule set is ``[tool.ruff]``
in pyproject.toml), and every public function, method and class of the package says what it does.
"""

import ast
import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINTED = ["xmpplab", "tests", "benchmarks"]  # the whole project (notebooks and node_modules are excluded in pyproject)


def test_ruff_check_passes():
    assert importlib.util.find_spec("ruff"), "ruff is a test dependency (pip install -e '.[test]')"
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", *LINTED], cwd=ROOT,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def _undocumented(path: Path) -> list[str]:
    """Public functions, methods and classes (under public classes) of one file that have no docstring."""
    found = []

    def visit(node, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                if child.name.startswith("_"):
                    continue
                if ast.get_docstring(child) is None:
                    found.append(f"{path.relative_to(ROOT)}:{child.lineno} {prefix}{child.name}")
                if isinstance(child, ast.ClassDef):
                    visit(child, f"{prefix}{child.name}.")

    visit(ast.parse(path.read_text(encoding="utf-8")), "")
    return found


def test_every_public_function_of_the_package_has_a_docstring():
    missing = [m for path in sorted((ROOT / "xmpplab").rglob("*.py")) for m in _undocumented(path)]
    assert not missing, "no docstring (one line saying what it does is enough):\n" + "\n".join(missing)
