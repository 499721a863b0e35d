"""The course ships with the package: `xmpplab lab` copies it into a learner's folder, and it runs there."""

import asyncio
import os
import signal
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from xmpplab.course.files import copy_course, notebooks, sample_streams

ROOT = Path(__file__).resolve().parents[1]
XMPPLAB = [sys.executable, "-m", "xmpplab"]


def test_copying_the_course_keeps_a_learners_edits_and_update_adds_what_is_missing(tmp_path):
    folder, copied, kept = copy_course(tmp_path / "course")
    chapters = sorted(p.name for p in notebooks().glob("[0-9][0-9]-*.ipynb"))
    assert sorted(p.name for p in folder.glob("*.ipynb")) == chapters and not kept
    assert (folder / "sample_streams" / "juliet-login-starttls-scram.jsonl").is_file()
    assert not (folder / "solutions").exists()  # the teachers' solutions stay out of a learner's folder
    (folder / "00-welcome.ipynb").write_text("my edits")
    (folder / "03-message.ipynb").unlink()
    _, copied, kept = copy_course(folder)  # again, without --update: nothing changes
    assert copied == [] and not (folder / "03-message.ipynb").exists()
    _, copied, kept = copy_course(folder, update=True)
    assert copied == ["03-message.ipynb"] and "00-welcome.ipynb" in kept
    assert (folder / "00-welcome.ipynb").read_text() == "my edits"


def test_in_a_checkout_the_course_is_the_repositorys_own():
    assert notebooks() == ROOT / "notebooks" and sample_streams() == ROOT / "sample_streams"


async def start_lab(*args, cwd):
    """``xmpplab lab --no-browser`` in ``cwd``: what it printed up to the opening line, and the process."""
    proc = await asyncio.create_subprocess_exec(*args, "--no-browser", "--port", "0", cwd=cwd,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    said = []
    while not said or "opening" not in said[-1]:
        line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
        assert line, "xmpplab lab stopped: " + "".join(said)
        said.append(line)
    proc.send_signal(signal.SIGINT)  # Ctrl-C: xmpplab stops the JupyterLab it started, then ends
    # to the end of its output: the pipes close only once JupyterLab, which shares them, is gone too
    await asyncio.wait_for(proc.communicate(), 30)
    return "".join(said)


async def test_lab_in_an_empty_folder_copies_the_course_and_opens_it_there(tmp_path):
    said = await start_lab(*XMPPLAB, "lab", cwd=tmp_path)
    course = tmp_path / "xmpplab-course"
    assert "copied" in said and str(course) in said and "00-welcome.ipynb" in said
    assert (course / "00-welcome.ipynb").is_file()
    said = await start_lab(*XMPPLAB, "lab", cwd=tmp_path)  # a second start keeps everything
    assert "already in" in said and "kept" in said


@pytest.mark.timeout(900)
async def test_the_installed_wheel_carries_the_course_and_every_chapter_runs_from_a_learners_folder(tmp_path):
    """CI's check of `pip install xmpplab`: build the wheel, install it in a fresh virtual environment, copy the
    course with `xmpplab lab --dir`, and run every chapter there, top to bottom."""
    wheels = tmp_path / "wheels"
    await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q",
                                             "-w", str(wheels)], check=True, capture_output=True, timeout=300)
    wheel = next(wheels.glob("xmpplab-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "xmpplab/_course/notebooks/00-welcome.ipynb" in names
    assert any(n.startswith("xmpplab/_course/sample_streams/") for n in names)
    assert not any("solutions" in n for n in names)
    env_dir = tmp_path / "venv"
    await asyncio.to_thread(venv.EnvBuilder(with_pip=True).create, env_dir)
    python = env_dir / "bin" / "python"
    # without PYTHONPATH: a checkout on it (as in a helper's worktree) would make pip think xmpplab is installed
    clean_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    install = await asyncio.to_thread(subprocess.run, [str(python), "-m", "pip", "install", "-q", str(wheel),
                                                       "nbclient"], capture_output=True, text=True, timeout=600,
                                      env=clean_env)
    assert install.returncode == 0, install.stderr[-2000:]
    learner = tmp_path / "learner"
    learner.mkdir()
    said = await start_lab(str(env_dir / "bin" / "xmpplab"), "lab", "--dir", "course", cwd=learner)
    assert "copied" in said
    script = (
        "import sys, nbformat\n"
        "from pathlib import Path\n"
        "from nbclient import NotebookClient\n"
        "failed = []\n"
        "for path in sorted(Path('course').glob('[0-9][0-9]-*.ipynb')):\n"
        "    nb = nbformat.read(path, as_version=4)\n"
        "    NotebookClient(nb, timeout=120, kernel_name='python3', allow_errors=True,\n"
        "                   resources={'metadata': {'path': str(path.parent)}}).execute()\n"
        "    errors = [o for c in nb.cells for o in c.get('outputs', []) if o.get('output_type') == 'error']\n"
        "    print(path.name, 'errors' if errors else 'ok', flush=True)\n"
        "    failed += [f\"{path.name}: {e['ename']}: {e['evalue']}\" for e in errors]\n"
        "sys.exit('\\n'.join(failed) if failed else 0)\n")
    run = await asyncio.to_thread(
        subprocess.run, [str(python), "-c", script], cwd=learner, capture_output=True, text=True, timeout=900,
        env={**{k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")},
             # chapter 16 finds xmpp.js there (the checkout's own copy is not next to an installed package)
             "XMPPLAB_NODE_MODULES": str(ROOT / "tests" / "peers" / "node_modules")})
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert run.stdout.count(" ok") == len(list(notebooks().glob("[0-9][0-9]-*.ipynb")))
