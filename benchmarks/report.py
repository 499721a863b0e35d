"""The report of ``run.py``: the side-by-side table, the ratios, CPU beside each figure, details.

Also :func:`machine_info` (the facts every harness writes above its figures)
and the sections of ``benchmarks/RESULTS.md`` that other harnesses own.
"""

from __future__ import annotations

import datetime
import importlib.metadata
import os
import platform
from pathlib import Path

import psutil
from sections import keep_sections
from servers import SERVERS, ejabberd_version, prosody_version

#: Targets from the issue: ratios of xmpplab to Prosody.
TARGET_THROUGHPUT = 0.5     # at least half of Prosody's messages/s
TARGET_LOGINS = 0.5         # at least half of Prosody's logins/s
TARGET_MEMORY = 2.0         # at most twice Prosody's kB per idle connection


def machine_info() -> dict:
    """Facts about this machine and the software measured."""
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        scramp_version = importlib.metadata.version("scramp")
    except importlib.metadata.PackageNotFoundError:
        scramp_version = "?"
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(), "cpu": model,
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "kernel": platform.release(), "python": platform.python_version(),
        "prosody": prosody_version() or "not installed",
        "ejabberd": ejabberd_version() or "not installed", "scramp": scramp_version,
    }


def bottleneck(run: dict, nproc: int | None, busy: float = 85.0) -> str:
    """Which side a timed part was limited by, judged from CPU percentages."""
    server = run["server_cpu_percent"]
    per_gen = run["loadgen_cpu_percent"] / max(1, run["loadgen_procs"])
    total = server + run["loadgen_cpu_percent"]
    if nproc and total >= 100 * nproc * busy / 100:
        return "all cores busy"
    if server >= busy and per_gen >= busy:
        return "both (server and loadgen)"
    if server >= busy:
        return "server"
    if per_gen >= busy:
        return "**load generator**"
    return "neither saturated (latency)"


def fmt(value, spec: str) -> str:
    """`value` formatted with `spec` when it is a number, else as text."""
    return format(value, spec) if isinstance(value, (int, float)) else str(value)


def loops(servers: dict) -> set[str]:
    """Event loops the load generator used (asyncio or uvloop)."""
    found = set()
    for entry in servers.values():
        if isinstance(entry, dict):
            for run in entry.get("throughput_rounds", []) + entry.get("login_rounds", []):
                found.update(r.get("loop", "?") for r in run["results"])
    return found


#: Other CPU (percent of one core) above which the report says the machine was shared.
SHARED_CPU = 25.0


def shared_machine(servers: dict) -> list[str]:
    """A line saying the machine was shared when other processes were busy during the timed parts."""
    other = [run["other_cpu_percent"] for entry in servers.values() if isinstance(entry, dict)
             for key in ("throughput", "login") if isinstance(entry.get(key), dict)
             for run in [entry[key]]]
    if not other or max(other) < SHARED_CPU:
        return []
    return [f"- **The machine was shared**: other processes used {min(other):.0f}-{max(other):.0f}% of one core "
            "during the timed parts (\"other CPU\" below), so the figures are lower than on a quiet machine; "
            "compare the ratios of this run, not its figures with another run's."]


def write_report(path: Path, info: dict, opts, servers: dict[str, dict | str]) -> None:
    """Write RESULTS.md: the comparison table, CPU beside each figure, details."""
    names = SERVERS

    def value(name: str, getter):
        entry = servers.get(name)
        if not isinstance(entry, dict):
            return None
        try:
            return getter(entry)
        except (KeyError, TypeError):
            return None

    def figure(name: str, getter, spec: str) -> str:
        entry = servers.get(name)
        if not isinstance(entry, dict):
            return "not measured" if entry is None else str(entry)
        mine = value(name, getter)
        return "failed" if mine is None else fmt(mine, spec)

    def ratio(name: str, ref: str, getter) -> float | None:
        mine, theirs = value(name, getter), value(ref, getter)
        return mine / theirs if mine is not None and theirs else None

    def rcell(r: float | None) -> str:
        return "—" if r is None else f"{r:.2f}x"

    def tput(e):
        return e["throughput"]["messages_per_s"]

    def logins(e):
        return e["login"]["logins_per_s"]

    def memory(e):
        return e["memory"]["kb_per_connection"]

    def lost(e):
        return sum(r["lost"] + r["duplicates"] + r["bounced"] + r["misrouted"] for r in e["throughput_rounds"])

    metrics = [  # label, getter, format, target vs Prosody, higher is better
        (f"messages/s, {opts.pairs} pairs", tput, ",.0f", TARGET_THROUGHPUT, True),
        ("logins/s (SCRAM-SHA-1, no TLS)", logins, ",.0f", TARGET_LOGINS, True),
        ("kB RSS per idle authenticated connection", memory, ".1f", TARGET_MEMORY, False),
    ]

    lines = [
        "# Benchmark results: xmpplab server vs Prosody and ejabberd",
        "",
        "Written by `benchmarks/run.py`" + (" --quick" if opts.quick else "") +
        "; see `benchmarks/README.md` for what each figure means.",
        "",
        f"- Date: {info['date']}",
        f"- Machine: {info['nproc']} cores ({info['cpu']}), {info['memory_gib']} GiB, "
        f"Linux {info['kernel']}",
        f"- Python {info['python']}, Prosody {info['prosody']}, ejabberd {info['ejabberd']} "
        f"(Debian packages), scramp {info['scramp']}",
        f"- Load: {opts.pairs} pairs x {opts.messages:,} messages (window {opts.window} per "
        f"pair); {opts.logins:,} logins over {opts.login_accounts} accounts, {opts.login_concurrency} "
        f"at a time; {opts.idle} idle connections; median of {opts.rounds} round(s); "
        f"{opts.loadgen_procs} loadgen process(es), event loop "
        f"{', '.join(sorted(loops(servers))) or '?'}" + (", server pinned to CPU 0 and "
                                                        "loadgen to CPU 1" if opts.pin else ""),
        "- xmpplab is one Python process (one core at most), Prosody one Lua process; "
        "ejabberd's Erlang VM runs a scheduler on each core.",
        *shared_machine(servers),
        "",
        "| metric | " + " | ".join(names) + " |",
        "| --- |" + " ---: |" * len(names),
    ]
    for label, getter, spec, _target, _higher in metrics:
        lines.append(f"| {label} | " + " | ".join(figure(n, getter, spec) for n in names) + " |")
    lines.append("| messages lost, duplicated, misrouted or bounced (all rounds; must be 0) | " +
                 " | ".join(figure(n, lost, "d") for n in names) + " |")

    lines += [
        "",
        "### Ratios (same run)",
        "",
        "xmpplab against the reference servers (target from the issue against Prosody), "
        "and the cost of the limits and of recording: the figure of `xmpplab --limit-loopback` "
        "and of `xmpplab --record` divided by plain `xmpplab`'s.",
        "",
        "| metric | xmpplab / prosody | target | pass | xmpplab / ejabberd | "
        "--limit-loopback / xmpplab | --record / xmpplab |",
        "| --- | :---: | :---: | :---: | :---: | :---: | :---: |",
    ]
    for label, getter, _spec, target, higher in metrics:
        r = ratio("xmpplab", "prosody", getter)
        ok = "—" if r is None else ("yes" if (r >= target if higher else r <= target) else "**no**")
        lines.append(
            f"| {label} | {rcell(r)} | {'>=' if higher else '<='} {target}x | {ok} | "
            f"{rcell(ratio('xmpplab', 'ejabberd', getter))} | "
            f"{rcell(ratio('xmpplab --limit-loopback', 'xmpplab', getter))} | "
            f"{rcell(ratio('xmpplab --record', 'xmpplab', getter))} |")

    lines += [
        "",
        "## CPU during the timed parts",
        "",
        "Percent of one core, over the timed part of the median round. 100% server CPU "
        "means a one-process server was the bottleneck (ejabberd can use 200% on 2 cores); "
        "a load generator near 100% (per process) would mean the harness limits the figure. "
        "\"Other CPU\" is everything else that was busy on the machine meanwhile (noise).",
        "",
        "| scenario | server | server CPU | loadgen CPU | loadgen processes | other CPU | "
        "limited by |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for name in names:
        entry = servers.get(name)
        if not isinstance(entry, dict):
            lines.append(f"| all | {name} | {'not measured' if entry is None else entry} "
                         "| | | | |")
            continue
        for label, key in (("throughput", "throughput"), ("logins", "login")):
            run = entry.get(key)
            if run:
                lines.append(f"| {label} | {name} | {run['server_cpu_percent']:.0f}% | "
                             f"{run['loadgen_cpu_percent']:.0f}% | {run['loadgen_procs']} | "
                             f"{run['other_cpu_percent']:.0f}% | "
                             f"{bottleneck(run, info['nproc'])} |")
        mem = entry.get("memory")
        if mem:
            lines.append(f"| opening {mem['connections']} idle connections | {name} | — | "
                         f"{mem['loadgen_cpu_percent']:.0f}% | 1 | | (not timed) |")

    lines += ["", "## Details", ""]
    for name in names:
        entry = servers.get(name)
        if not isinstance(entry, dict):
            reason = "not measured" if entry is None else entry
            lines.append(f"- **{name}**: {reason}")
            continue
        try:
            mem = entry["memory"]
            lines.append(
                f"- **{name}**: RSS {mem['rss_before'] / 2**20:.1f} MiB before, "
                f"{mem['rss_after'] / 2**20:.1f} MiB with {mem['connections']} idle connections. "
                "Throughput rounds (msg/s): " + ", ".join(
                    f"{r['messages_per_s']:,.0f}" for r in entry["throughput_rounds"]) +
                ". Login rounds (logins/s): " + ", ".join(
                    f"{r['logins_per_s']:,.0f}" for r in entry["login_rounds"]) +
                f"; failed logins: {sum(r['failed'] for r in entry['login_rounds'])}; "
                f"client PBKDF2 computations during timed logins: "
                f"{sum(r['pbkdf2_computed'] for r in entry['login_rounds'])}." +
                "".join(f" {note}." for note in entry.get("notes", [])))
        except KeyError as exc:
            lines.append(f"- **{name}**: incomplete ({exc} missing)")
    lines += [
        "",
        "The load generator and the server share the machine's "
        f"{info['nproc']} cores; the figures compare servers measured the same way, "
        "one after the other, in this one run.",
        "",
    ]
    lines += keep_sections(path)
    path.write_text("\n".join(lines))
