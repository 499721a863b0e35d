"""``xmpplab lab``: open the course in JupyterLab."""

from __future__ import annotations

import os
import sys

from .common import CLIError, port_number

DEFAULT_DIR = "xmpplab-course"


def add_parser(cmds) -> None:
    """Add the subcommand and its options to ``cmds``."""
    lab = cmds.add_parser("lab", help="open the course in JupyterLab",
                          description="Open the xmpplab course in JupyterLab. In a checkout of the repository it "
                                      "opens notebooks/; anywhere else it first copies the course into "
                                      f"./{DEFAULT_DIR}/ (or --dir), never overwriting a learner's edits.")
    lab.add_argument("--dir", "--notebooks", dest="dir", metavar="DIR",
                     help=f"the course folder (default: ./notebooks in a checkout, else ./{DEFAULT_DIR}, "
                          "where the course is copied the first time)")
    lab.add_argument("--update", action="store_true",
                     help="add the chapters (and sample streams) the course folder lacks; edited ones stay")
    lab.add_argument("--port", type=port_number, default=8888, help="JupyterLab's port (default 8888)")
    lab.add_argument("--no-browser", action="store_true", help="do not open a browser (print the URL only)")


def _folder(args) -> str:
    """The folder to open: a checkout's notebooks/, or a course folder copied from the package."""
    first = "00-welcome.ipynb"
    if args.dir is None and os.path.isfile(os.path.join("notebooks", first)) and not args.update:
        return os.path.abspath("notebooks")
    from ..course.files import copy_course

    target = os.path.abspath(args.dir or DEFAULT_DIR)
    if os.path.exists(target) and not os.path.isdir(target):
        raise CLIError(f"{target} is a file, not a folder for the course")
    try:
        folder, copied, kept = copy_course(target, update=args.update)
    except FileNotFoundError as exc:
        raise CLIError(str(exc)) from None
    except OSError as exc:
        raise CLIError(f"cannot copy the course into {target}: {exc.strerror}") from None
    if copied:
        print(f"xmpplab: copied {len(copied)} file(s) of the course into {folder}"
              + (f" ({len(kept)} already there, kept as they are)" if kept else ""), flush=True)
    elif kept:
        print(f"xmpplab: the course is already in {folder}; your files are kept as they are"
              + ("" if args.update else " (--update adds new chapters)"), flush=True)
    return str(folder)


def run(args) -> int:
    """Start JupyterLab on the course, with this Python's kernel; Ctrl-C stops it."""
    import subprocess

    folder = _folder(args)
    first = "00-welcome.ipynb"
    if not os.path.isfile(os.path.join(folder, first)):
        raise CLIError(f"there is no course in {folder} (no {first}); give --dir DIR, or --update to add it")
    argv = [sys.executable, "-m", "jupyterlab", first, f"--ServerApp.root_dir={folder}",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={args.port}"]
    if args.no_browser:
        argv.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        argv.append("--allow-root")  # containers and CI machines often run as root
    child = subprocess.Popen(argv, cwd=folder)
    try:
        print(f"xmpplab: opening {os.path.join(folder, first)} in JupyterLab (Ctrl-C stops it)", flush=True)
        return child.wait()
    except KeyboardInterrupt:
        # Ctrl-C: JupyterLab alone would ask "Shutdown this Jupyter server?" and, with nobody to answer, go on
        # running after xmpplab has returned; stop it for good (SIGTERM shuts it down cleanly)
        child.terminate()
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        return 0
