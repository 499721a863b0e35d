"""The servers a benchmark measures: xmpplab, Prosody and ejabberd as processes on loopback.

Each is a :class:`ServerUnderTest`: start it, read its resident memory and
CPU time (the process and its children), stop it.  Prosody and ejabberd
are started through :mod:`xmpplab.testing.prosody` and
:mod:`xmpplab.testing.ejabberd` with their own config in a temporary folder;
xmpplab as ``python -m xmpplab serve``.  Used by ``run.py``, ``conns10k.py``
and ``profile_server.py``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
sys.path.insert(0, str(REPO))

from xmpplab.testing.ejabberd import EjabberdError, EjabberdServer, ejabberd_path, ejabberd_version  # noqa: E402,F401 - a script: the repository joins sys.path first
from xmpplab.testing.prosody import ProsodyError, ProsodyServer, free_port, prosody_path, prosody_version  # noqa: E402,F401 - (as above)

DOMAIN = "example.com"
PASSWORD = "bench-password"

#: The servers of the table, in column order.
SERVERS = ["xmpplab", "xmpplab --limit-loopback", "xmpplab --record", "prosody", "ejabberd"]

#: ``xmpplab --limit-loopback``: the limits apply to the benchmark's loopback
#: clients, so every check runs; the per-address counts and the byte rate are
#: raised above what the benchmark itself does (500 connections from one
#: address, a sender writing megabytes per second), so the figure is the cost
#: of checking the limits, not of being throttled by them.  The limits that
#: honest benchmark traffic never reaches keep their defaults.
LIMIT_FLAGS = ["--limit-loopback", "--bytes-per-second", "1G",
               "--connections-per-address", "100000", "--unauthenticated-per-address", "1000",
               "--registrations", "1000000", "--auth-failures", "1000000"]


#: What a server that fails to start or to answer raises (the benchmark then notes it and goes on).
FAILURES = (RuntimeError, ProsodyError, EjabberdError, OSError, TimeoutError)


def terminate(process: subprocess.Popen | None, timeout: float) -> None:
    """Stop a server process we started: SIGTERM, then SIGKILL if it still runs after ``timeout`` seconds."""
    if process is not None and process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class ServerUnderTest:
    """A server process on loopback: start, pid, measure, stop."""

    name = "?"

    def __init__(self) -> None:
        self.host = "127.0.0.1"
        self.port: int | None = None
        self.pid: int | None = None
        self.notes: list[str] = []

    def start(self) -> None:
        """Start the server."""
        raise NotImplementedError

    def stop(self) -> None:
        """Stop the server."""
        raise NotImplementedError

    # measuring -------------------------------------------------------------
    def processes(self) -> list[psutil.Process]:
        """The server process and its children (if it forks helpers)."""
        main = psutil.Process(self.pid)
        return [main] + main.children(recursive=True)

    def rss(self) -> int:
        """Resident memory in bytes (server plus children)."""
        total = 0
        for proc in self.processes():
            with contextlib.suppress(psutil.NoSuchProcess):
                total += proc.memory_info().rss
        return total

    def cpu(self) -> float:
        """CPU seconds used so far (user + system, server plus children)."""
        total = 0.0
        for proc in self.processes():
            try:
                times = proc.cpu_times()
                total += times.user + times.system
            except psutil.NoSuchProcess:
                pass
        return total

    def alive(self) -> bool:
        """True while the server's process runs."""
        return self.pid is not None and psutil.pid_exists(self.pid)


class ProsodyUnderTest(ServerUnderTest):
    """Prosody from Debian's packages, via :class:`ProsodyServer`."""

    name = "prosody"

    def __init__(self, log_level: str = "warn", c2s_timeout: float | None = 1.0) -> None:
        super().__init__()
        # Plaintext c2s, in-band registration, mod_limits off, warn-level log
        # by default (at "info" Prosody writes lines per connection, which
        # would be measured too).  c2s_timeout works around a 0.12.3 bug: the
        # unauthenticated-connection timer (300 s) is never cancelled and
        # keeps every closed session in memory, so the login rate falls as
        # logins accumulate (1,200/s to 430/s within 6,000 logins here).
        self.server = ProsodyServer(domains=[DOMAIN], tls=False, allow_registration=True,
                                    log_level=log_level, c2s_timeout=c2s_timeout)
        if c2s_timeout is not None:
            self.notes.append(f"c2s_timeout = {c2s_timeout:g} s (workaround, see NOTES.md)")
        else:
            self.notes.append("stock c2s_timeout (300 s)")

    def start(self) -> None:
        """Start Prosody with the benchmark's configuration."""
        self.server.start()
        self.port, self.pid = self.server.port, self.server.pid

    def stop(self) -> None:
        """Stop Prosody."""
        self.server.stop()


def xmpplab_unavailable() -> str | None:
    """Why the xmpplab server cannot be benchmarked yet, or None if it can.

    Checked in a child process, so a half-written package cannot break the
    coordinator.
    """
    env = dict(os.environ, PYTHONPATH=str(REPO))
    probe = ("import importlib.util, sys\n"
             "import xmpplab.server\n"
             "if importlib.util.find_spec('xmpplab.__main__') is None:\n"
             "    sys.exit('`python -m xmpplab` does not exist yet (no xmpplab/__main__.py)')\n")
    check = subprocess.run([sys.executable, "-c", probe], cwd=REPO, env=env,
                           capture_output=True, text=True, timeout=60)
    if check.returncode != 0:
        last = (check.stderr.strip().splitlines() or ["?"])[-1]
        if last.startswith("`python -m xmpplab`"):
            return last
        return f"`import xmpplab.server` fails ({last})"
    return None


class EjabberdUnderTest(ServerUnderTest):
    """ejabberd from Debian's packages, via :class:`EjabberdServer`."""

    name = "ejabberd"

    def __init__(self) -> None:
        super().__init__()
        # Plaintext c2s, in-band registration without its per-address timeout,
        # listen backlog 1024, no shaper on the listener (unlimited), log level
        # warning.  The launcher runs erl itself (not ejabberdctl through su),
        # so the VM inherits our open-files limit.
        self.server = EjabberdServer(domains=[DOMAIN], tls=False, allow_registration=True,
                                     log_level="warning")

    def start(self) -> None:
        """Start ejabberd and note its schedulers and threads."""
        self.server.start()
        self.port, self.pid = self.server.port, self.server.pid
        threads = sum(p.num_threads() for p in self.processes())
        self.notes.append(f"Erlang VM with its default schedulers (one per core: "
                          f"{os.cpu_count()}), {threads} OS threads at start")

    def stop(self) -> None:
        """Stop ejabberd."""
        self.server.stop()


class XmpplabUnderTest(ServerUnderTest):
    """``python -m xmpplab serve`` as a separate process, optionally recording or limited."""

    def __init__(self, record: bool = False, limits: bool = False,
                 extra: list[str] | None = None) -> None:
        super().__init__()
        self.record = record
        self.limits = limits
        self.extra = list(extra or [])
        self.name = ("xmpplab --record" if record else
                     "xmpplab --limit-loopback" if limits else "xmpplab")
        if limits:
            self.notes.append("flags: " + " ".join(LIMIT_FLAGS))
        self.workdir = Path(tempfile.mkdtemp(prefix="xmpplab-bench-"))
        self.record_file = self.workdir / "record.jsonl"
        self.log_file = self.workdir / "server.log"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 30.0) -> None:
        """Start ``xmpplab serve`` on a free port and wait until it accepts connections."""
        self.port = free_port(self.host)
        cmd = [sys.executable, "-m", "xmpplab", "serve", "--host", self.host,
               "--port", str(self.port), "--domain", DOMAIN, "--register"]
        if self.record:
            cmd += ["--record", str(self.record_file)]
        if self.limits:
            cmd += LIMIT_FLAGS
        cmd += self.extra
        env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1")
        with open(self.log_file, "wb") as log:
            self.process = subprocess.Popen(
                cmd, cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True)
        self.pid = self.process.pid
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        tail = self.log_file.read_text(errors="replace")[-2000:]
        self.stop()
        raise RuntimeError(f"{' '.join(cmd[2:])} did not listen on port {self.port}: {tail}")

    def stop(self) -> None:
        """Stop the xmpplab server (SIGTERM, then SIGKILL) and note the size of its recording."""
        if self.record and self.record_file.exists():
            self.notes.append(f"record file: {self.record_file.stat().st_size / 1e6:.1f} MB")
        process, self.process = self.process, None
        terminate(process, 10)
        for path in self.workdir.glob("*"):
            path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            self.workdir.rmdir()
