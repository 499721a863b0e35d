"""The course notebooks are tests too: each runs top to bottom on a fresh kernel, and then once more
in the same kernel (Run All twice), with no error output. Committed notebooks hold no outputs and
no typos. With XMPPLAB_ARTIFACTS=DIR set (CI does), the executed course is exported to HTML there,
which shows the views survive without a kernel."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
COURSE = sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))


def _errors(nb) -> list[str]:
    found = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                found.append(f"{out.get('ename')}: {out.get('evalue')} in cell:\n{cell.source[:300]}")
    return found


#: what a chapter prints on servers of its own (tests/test_class_notebooks.py runs it on a class server)
PRIVATE_RUN = {
    "00-welcome": ["juliet@example.com/balcony says: Art thou not Romeo",  # the chapter's Lab, private
                   "example.com → example.net"],  # the federation cell: a server-to-server stream of its own
    "09-federation": ["This part needs a class server"],  # the class deep dive says so and skips
    "11-replay": ["against 127.0.0.1:", "as juliet@example.com/balcony: 3 exchanges, all the same",  # re-drive
                  "romeo-login-plain-raw against 127.0.0.1:"],  # the scansion script, on a second Lab of its own
    "10-security": ["<auth>  y,,n=juliet,r=",  # the SCRAM login, as the chapter's juliet
                    "\\x00romeo\\x00secret"],  # PLAIN without TLS, on the second Lab (own)
    "13-accounts": ["iq result  id reg2",  # Benvolio signs up in-band on the second Lab (own)
                    "· to romeo@example.net/orchard",  # the chapter's Lab: Romeo changes his password in-band
                    "stream error  not-authorized",  # no sign-ups on lab: asking for the form ends the stream
                    "logged in as mercutio@example.com/street"],  # xmpplab accounts, on the second Lab (own)
    # no classmate: a practice account plays the partner of the partner exercise, and says so in one line
    "03-message": ["On a server of your own: Benvolio (benvolio@example.net), a practice account, plays your partner."],
    "06-subscriptions": ["On a server of your own: Benvolio (benvolio@example.net), a practice account, plays your "
                         "partner."],
}


def _printed(nb) -> str:
    return "".join(out.get("text", "") + out.get("data", {}).get("text/plain", "")
                   for cell in nb.cells for out in cell.get("outputs", []))


@pytest.mark.parametrize("path", COURSE, ids=[p.stem for p in COURSE])
def test_notebook_runs_top_to_bottom_twice(path, monkeypatch):
    from nbclient import NotebookClient

    for name in ("XMPPLAB_SERVER", "XMPPLAB_ACCOUNT"):  # not in a class, whatever the shell says
        monkeypatch.delenv(name, raising=False)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(NOTEBOOKS)}})
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index)
        first = _errors(nb)
        assert not first, "\n\n".join(first)
        printed = _printed(nb)
        assert "Working in the class" not in printed  # outside a class, every Lab is private
        for words in PRIVATE_RUN.get(path.stem, []):
            assert words in printed, f"{path.stem} should print {words!r} on its own servers"
        artifacts = os.environ.get("XMPPLAB_ARTIFACTS")
        if artifacts:
            from nbconvert import HTMLExporter

            out = Path(artifacts) / "course"
            out.mkdir(parents=True, exist_ok=True)
            body, _ = HTMLExporter().from_notebook_node(nb)
            (out / f"{path.stem}.html").write_text(body, encoding="utf-8")
        for index, cell in enumerate(nb.cells):  # Run All again, same kernel
            client.execute_cell(cell, index)
        second = _errors(nb)
        assert not second, "second run:\n" + "\n\n".join(second)


@pytest.mark.parametrize("path", COURSE, ids=[p.stem for p in COURSE])
def test_committed_notebook_has_no_outputs(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, f"{path.name} holds outputs; clear them"


def test_course_has_no_typos():
    assert len(COURSE) >= 12, f"the course's chapters are missing from {NOTEBOOKS}"  # 00 to 11 (README)
    codespell = shutil.which("codespell", path=str(Path(sys.executable).parent)) or shutil.which("codespell")
    assert codespell, "codespell is a test dependency (pip install -e .[test])"
    result = subprocess.run([codespell, *map(str, COURSE), str(NOTEBOOKS / "solutions")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
