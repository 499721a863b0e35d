"""Driving load generator processes (``loadgen.py``) from a coordinator.

A :class:`Loadgen` is one ``loadgen.py`` process speaking the ready/go line
protocol: it does its untimed set-up, prints ``{"event": "ready"}``, waits
for ``go`` on stdin, runs the timed part and prints its result as one JSON
line.  :func:`run_coordinated` starts several, says go to all at once and
times the server's CPU meanwhile.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time

import psutil
from servers import BENCH_DIR, DOMAIN, PASSWORD, ServerUnderTest

LOADGEN = BENCH_DIR / "loadgen.py"


class Loadgen:
    """One load generator process speaking the ready/go line protocol."""

    def __init__(self, args: list[str], cpu: int | None) -> None:
        self.args = args
        self.cpu = cpu
        self.proc: asyncio.subprocess.Process | None = None
        self.stderr = tempfile.TemporaryFile()  # noqa: SIM115 - the loadgen's stderr for its whole run, read after
        self.ready_info: dict = {}

    async def start(self) -> None:
        """Start the load generator process, pinned to its CPU when one is given."""
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, str(LOADGEN), *self.args,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=self.stderr)
        if self.cpu is not None:
            psutil.Process(self.proc.pid).cpu_affinity([self.cpu])

    async def read_event(self, timeout: float) -> dict:
        """Next JSON line from the process (ready, result or error)."""
        line = await asyncio.wait_for(self.proc.stdout.readline(), timeout)
        if not line:
            await self.proc.wait()
            self.stderr.seek(0)
            raise RuntimeError(f"loadgen exited ({self.proc.returncode}): "
                               f"{self.stderr.read().decode(errors='replace')[-1500:]}")
        event = json.loads(line)
        if event.get("event") == "error":
            raise RuntimeError(f"loadgen: {event.get('error')}")
        return event

    async def wait_ready(self, timeout: float) -> dict:
        """Wait until the load generator says it is ready; returns what it said."""
        event = await self.read_event(timeout)
        if event.get("event") != "ready":
            raise RuntimeError(f"loadgen: expected ready, got {event}")
        self.ready_info = event
        return event

    def go(self) -> None:
        """Tell the load generator to start."""
        self.proc.stdin.write(b"go\n")

    async def result(self, timeout: float) -> dict:
        """The load generator's result, once it has finished."""
        event = await self.read_event(timeout)
        await self.proc.wait()
        return event

    def kill(self) -> None:
        """Kill the load generator if it still runs."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()


def common_args(server: ServerUnderTest) -> list[str]:
    """The load generator's arguments that name the server, its domain and password."""
    return ["--host", server.host, "--port", str(server.port), "--domain", DOMAIN,
            "--password", PASSWORD, "--wait-go"]


async def run_coordinated(server: ServerUnderTest, arg_lists: list[list[str]],
                          cpus: list[int | None], timeout: float) -> dict:
    """Start loadgens, wait until all are ready, say go, time server CPU, gather."""
    gens = [Loadgen(a, cpus[i % len(cpus)]) for i, a in enumerate(arg_lists)]
    try:
        for gen in gens:
            await gen.start()
        await asyncio.gather(*(g.wait_ready(timeout) for g in gens))
        busy0, cpu0, t0 = machine_busy(), server.cpu(), time.monotonic()
        for gen in gens:
            gen.go()
        results = await asyncio.gather(*(g.result(timeout) for g in gens))
        cpu1, busy1, t1 = server.cpu(), machine_busy(), time.monotonic()
    finally:
        for gen in gens:
            gen.kill()
    wall = max(r["end"] for r in results) - min(r["start"] for r in results)
    loadgen_cpu = sum(r["cpu_s"] for r in results)
    return {
        "results": results, "wall_s": wall,
        "server_cpu_s": cpu1 - cpu0,
        "server_cpu_percent": 100.0 * (cpu1 - cpu0) / (t1 - t0),
        "loadgen_cpu_s": loadgen_cpu,
        "loadgen_cpu_percent": 100.0 * loadgen_cpu / wall if wall else 0.0,
        "loadgen_procs": len(gens),
        # Everything else that ran meanwhile (other users of the machine,
        # the coordinator, the kernel's softirq work): noise in the figures.
        "other_cpu_percent": max(0.0, 100.0 * ((busy1 - busy0) - (cpu1 - cpu0) - loadgen_cpu)
                                 / (t1 - t0)),
    }


def machine_busy() -> float:
    """CPU seconds the whole machine has been busy (all cores, not idle)."""
    times = psutil.cpu_times()
    return times.user + times.nice + times.system + getattr(times, "irq", 0.0) + \
        getattr(times, "softirq", 0.0) + getattr(times, "steal", 0.0)


def split(total: int, parts: int) -> list[int]:
    """Split ``total`` into ``parts`` near-equal integers."""
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


async def register_accounts(server: ServerUnderTest, count: int) -> dict:
    """Create accounts u0..u{count-1} in-band (untimed)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(LOADGEN), "register", "--host", server.host,
        "--port", str(server.port), "--domain", DOMAIN, "--password", PASSWORD,
        "--count", str(count), "--concurrency", "16",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 600)
    lines = out.decode().strip().splitlines()
    result = json.loads(lines[-1]) if lines else {}
    if proc.returncode != 0 or result.get("event") != "result":
        raise RuntimeError(f"registration failed: {result or err.decode()[-1500:]}")
    return result
