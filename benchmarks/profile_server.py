"""Profile the xmpplab server under the throughput load, with py-spy.

Usage (from the repository root; py-spy is not a project dependency)::

    pip install py-spy                                     # or: pip install --target /tmp/pyspy py-spy
    .venv/bin/python benchmarks/profile_server.py                   # plain xmpplab
    .venv/bin/python benchmarks/profile_server.py --variant record  # xmpplab --record
    .venv/bin/python benchmarks/profile_server.py --variant limits  # xmpplab --limit-loopback ...
    .venv/bin/python benchmarks/profile_server.py --svg /tmp/profile.svg   # a flame graph too

It starts the server the way ``run.py`` does, logs in the throughput pairs,
and while they send (``loadgen.py throughput``) samples the server with
``py-spy record --nonblocking`` for ``--seconds``.  It prints the functions
that take the most samples: by *self* time (the function was running) and by
*inclusive* time (the function was on the stack), and the share of each
source file.  Summaries go into the "Profile" section of RESULTS.md by hand;
the raw profiles are big and are not committed.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from coordinator import Loadgen, common_args, register_accounts
from servers import XmpplabUnderTest

FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^():]+)(?::(?P<line>\d+))?\)$")


def find_py_spy(given: str | None) -> str:
    """The py-spy program: the one given, the one on PATH, or /tmp/pyspy/bin/py-spy (SystemExit if none)."""
    for candidate in (given, shutil.which("py-spy"), "/tmp/pyspy/bin/py-spy"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise SystemExit("py-spy not found: pip install py-spy (or give --py-spy PATH)")


def short_file(path: str) -> str:
    """``.../xmpplab/server/c2s.py`` -> ``xmpplab/server/c2s.py``; stdlib files by their name."""
    for marker in ("/xmpplab/", "/site-packages/"):
        if marker in path:
            return path[path.index(marker) + 1:]
    return Path(path).name


def summarise(raw: Path, top: int) -> str:
    """Tables of the hottest functions and files from py-spy's raw (collapsed) output."""
    self_count: collections.Counter = collections.Counter()
    incl_count: collections.Counter = collections.Counter()
    file_count: collections.Counter = collections.Counter()
    line_count: collections.Counter = collections.Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames, last_line = [], "?"
        for part in stack.split(";"):
            m = FRAME.match(part.strip())
            frames.append((m.group("func"), short_file(m.group("file"))) if m else (part, "?"))
            last_line = m.group("line") if m else "?"
        if not frames:
            continue
        func, file = frames[-1]
        line_count[f"{file}:{last_line} ({func})"] += n
        self_count[f"{func} ({file})"] += n
        file_count[file] += n
        for key in {f"{f} ({p})" for f, p in frames}:
            incl_count[key] += n
    if not total:
        return "no samples (is py-spy allowed to attach? run as root or with ptrace permission)"
    out = [f"{total} samples", "", "self time (running in the function):", ""]
    out += [f"  {100 * c / total:5.1f}%  {k}" for k, c in self_count.most_common(top)]
    out += ["", "inclusive time (function on the stack):", ""]
    out += [f"  {100 * c / total:5.1f}%  {k}" for k, c in incl_count.most_common(top)]
    out += ["", "self time by line (C functions count in the line that calls them):", ""]
    out += [f"  {100 * c / total:5.1f}%  {k}" for k, c in line_count.most_common(top)]
    out += ["", "self time by file:", ""]
    out += [f"  {100 * c / total:5.1f}%  {k}" for k, c in file_count.most_common(top)]
    return "\n".join(out)


async def profile(opts) -> str:
    """Sample the xmpplab server with py-spy under the throughput load; returns the summary."""
    py_spy = find_py_spy(opts.py_spy)
    server = XmpplabUnderTest(record=opts.variant == "record", limits=opts.variant == "limits")
    server.start()
    raw = Path(tempfile.mkdtemp(prefix="xmpplab-profile-")) / "profile.txt"
    try:
        await register_accounts(server, 2 * opts.pairs)
        gen = Loadgen(["throughput", *common_args(server), "--pairs", str(opts.pairs),
                       "--messages", str(opts.messages), "--window", "100"], None)
        try:
            await gen.start()
            await gen.wait_ready(120)
            gen.go()
            spy = await asyncio.create_subprocess_exec(
                py_spy, "record", "--pid", str(server.pid), "--duration", str(opts.seconds),
                "--rate", str(opts.rate), "--nonblocking", "--format", "raw", "-o", str(raw),
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            svg = None
            if opts.svg:
                svg = await asyncio.create_subprocess_exec(
                    py_spy, "record", "--pid", str(server.pid), "--duration", str(opts.seconds),
                    "--rate", str(opts.rate), "--nonblocking", "-o", str(opts.svg),
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            _, err = await spy.communicate()
            if svg is not None:
                await svg.wait()
            result = await gen.result(600)
        finally:
            gen.kill()
        if spy.returncode != 0 and not raw.exists():
            raise SystemExit(f"py-spy failed: {err.decode(errors='replace')[-800:]}")
        header = (f"{server.name}: {result['messages_per_s']:,.0f} msg/s over the whole load "
                  f"(sampled at {opts.rate} Hz for {opts.seconds} s, py-spy --nonblocking)")
        return header + "\n" + summarise(raw, opts.top)
    finally:
        server.stop()
        raw.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            raw.parent.rmdir()


def main(argv=None) -> int:
    """Profile the server as the command line asks and print the summary; returns an exit code."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variant", choices=["plain", "limits", "record"], default="plain")
    parser.add_argument("--seconds", type=int, default=10, help="how long py-spy samples")
    parser.add_argument("--rate", type=int, default=200, help="samples per second")
    parser.add_argument("--pairs", type=int, default=10)
    parser.add_argument("--messages", type=int, default=200000,
                        help="messages per pair: enough to outlast the sampling")
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--py-spy", help="path of the py-spy binary")
    parser.add_argument("--svg", type=Path, help="also write a flame graph here (not committed)")
    print(asyncio.run(profile(parser.parse_args(argv))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
