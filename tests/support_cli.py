"""Run ``python -m xmpplab`` subcommands as a user would, from tests."""

import asyncio
import os
import sys

XMPPLAB = [sys.executable, "-m", "xmpplab"]


async def start_command(*args, cwd=None, timeout: float = 60):
    """Start ``xmpplab ARGS`` and read what it prints up to its "Ctrl-C" line (it serves from then on), each
    line within ``timeout`` seconds: ``(process, printed text)``."""
    proc = await asyncio.create_subprocess_exec(
        *XMPPLAB, *args, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env=dict(os.environ, PYTHONUNBUFFERED="1"))
    lines = []
    while True:
        line = (await asyncio.wait_for(proc.stdout.readline(), timeout)).decode()
        lines.append(line)
        if "Ctrl-C" in line or not line:
            return proc, "".join(lines)
