"""``xmpplab lab``: open the course in JupyterLab."""

from __future__ import annotations

import os
import sys

from .common import CLIError, port_number


def add_parser(cmds) -> None:
    """Add the subcommand and its options to ``cmds``."""
    lab = cmds.add_parser("lab", help="open the course in JupyterLab",
                          description="Open the xmpplab course (notebooks/00-welcome.ipynb) in JupyterLab.")
    lab.add_argument("--notebooks", metavar="DIR", help="the course folder (default: ./notebooks)")
    lab.add_argument("--port", type=port_number, default=8888, help="JupyterLab's port (default 8888)")
    lab.add_argument("--no-browser", action="store_true", help="do not open a browser (print the URL only)")


def run(args) -> int:
    """Start JupyterLab on the course, with this Python's kernel; Ctrl-C stops it."""
    import subprocess

    folder = os.path.abspath(args.notebooks or "notebooks")
    first = "00-welcome.ipynb"
    if not os.path.isfile(os.path.join(folder, first)):
        raise CLIError(f"there is no course in {folder} (no {first}); run this in the xmpplab folder "
                       "or give --notebooks DIR")
    argv = [sys.executable, "-m", "jupyterlab", first, f"--ServerApp.root_dir={folder}",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={args.port}"]
    if args.no_browser:
        argv.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        argv.append("--allow-root")  # containers and CI machines often run as root
    print(f"xmpplab: opening {os.path.join(folder, first)} in JupyterLab (Ctrl-C stops it)", flush=True)
    try:
        return subprocess.call(argv, cwd=folder)
    except KeyboardInterrupt:
        return 0
