"""The "Classroom" section of RESULTS.md: the figures and checks of each server side by side, and their ratios."""

from __future__ import annotations

import soak
from report import machine_info

HEADING = "## Classroom"
MAX_LOGIN_S = 10.0
MAX_P99_MS = 200.0
LABELS = {"xmpplab": "xmpplab", "prosody": "Prosody"}


def percentile_ms(samples: list[float], q: float) -> float:
    """The ``q`` quantile of round trips in seconds, in milliseconds (nan when there are none)."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return 1000.0 * ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def figures(opts, room, out: dict | None) -> dict:
    """One server's figures and checks (``out`` is None when its run failed)."""
    out = out or {}
    book, memory = room.book, room.memory()
    lost, expected = book.lost(), sum(len(e) for e in book.expected)
    times, online = room.dashboard, room.online
    checks = {
        f"all {opts.clients} students logged in within {MAX_LOGIN_S:g} s":
            out.get("logged_in") == opts.clients and out.get("login_s", 1e9) <= MAX_LOGIN_S,
        "zero lost, none duplicated": bool(out) and lost == 0 and book.duplicates == 0 and expected > 0,
        "no limit tripped, no stream or stanza error": bool(out) and not room.failures,
        f"RSS flat after warm-up (growth <= {soak.MAX_GROWTH:.0%})": bool(memory.get("flat")),
        f"dashboard round trip p99 under {MAX_P99_MS:g} ms": bool(times) and percentile_ms(times, 0.99) < MAX_P99_MS,
        "no traceback in the server log": out.get("server_tracebacks") == 0,
    }
    return {"completed": bool(out), "result": out, "memory": memory, "sent_chat": book.sent_chat,
            "sent_room": book.sent_room, "expected": expected, "lost": lost, "duplicates": book.duplicates,
            "unexpected": book.unexpected, "failures": room.failures[:100], "dashboard_s": times,
            "online_list_s": online, "refresh": room.refresh_text, "checks": checks}


def _trips(samples: list[float]) -> str:
    if not samples:
        return "—"
    return (f"{len(samples)} / {percentile_ms(samples, 0.5):.1f} / {percentile_ms(samples, 0.99):.1f} / "
            f"{percentile_ms(samples, 1.0):.1f}")


def _ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}x" if a is not None and b else ""


def report(opts, runs: dict) -> tuple[str, bool, dict]:
    """The section's text, whether xmpplab's checks (or, alone, Prosody's) passed, and the raw figures."""
    data = {name: figures(opts, room, out) for name, (room, out) in runs.items()}
    names = list(data)
    both = "xmpplab" in data and "prosody" in data
    info = machine_info()
    room_name = next(iter(runs.values()))[0].room
    lines = [
        HEADING, "",
        f"Written by `benchmarks/classroom.py --minutes {opts.minutes:g}` on {info['date']}, {info['nproc']} cores, "
        f"Python {info['python']}, Prosody {info['prosody']}. {opts.clients} students log in over STARTTLS with the "
        f"class list's passwords, {opts.batch} at a time, join the members-only `{room_name}` and each send one "
        f"message per second ({opts.room_share:.0%} to the room, the rest to a random classmate); the teacher "
        f"refreshes the dashboard every {opts.poll:g} s. " + " ".join(
            f"{LABELS[n]}: {data[n]['refresh']}; the run took "
            f"{data[n]['result'].get('wall_s', 0) / 60:.1f} minutes." for n in names), "",
        "| figure | " + " | ".join(LABELS[n] for n in names) + (" | xmpplab / Prosody |" if both else " |"),
        "| --- |" + " ---: |" * len(names) + (" :---: |" if both else ""),
    ]

    def row(label: str, cell, ratio=None) -> None:
        cells = [cell(data[n]) for n in names]
        extra = f" {ratio(data['xmpplab'], data['prosody']) if ratio else ''} |" if both else ""
        lines.append(f"| {label} | " + " | ".join(cells) + " |" + extra)

    def by(getter):
        return lambda x, p: _ratio(getter(x), getter(p))

    def get(key: str):
        return by(lambda d: d["result"].get(key))

    def online_at(q: float):
        return lambda d: percentile_ms(d["online_list_s"], q) if d["online_list_s"] else None

    row("students logged in / time from the first login to the last",
        lambda d: f"{d['result'].get('logged_in', 0)} / {d['result'].get('login_s', float('nan')):.1f} s",
        get("login_s"))
    row("messages sent (chat / to the room)", lambda d: f"{d['sent_chat']:,} / {d['sent_room']:,}")
    row("deliveries expected (by recipient)", lambda d: f"{d['expected']:,}")
    row("lost / duplicated / unexpected", lambda d: f"{d['lost']} / {d['duplicates']} / {d['unexpected']}")
    row("stream errors, error stanzas, lost connections", lambda d: f"{len(d['failures'])}")
    row("dashboard refreshes / p50 / p99 / max (ms)", lambda d: _trips(d["dashboard_s"]))
    row("the online list alone (XEP-0133, 2 round trips): count / p50 / p99 / max (ms)",
        lambda d: _trips(d["online_list_s"]),
        lambda x, p: f"p50 {by(online_at(0.5))(x, p)}, p99 {by(online_at(0.99))(x, p)}")
    row("server RSS after warm-up: first / last (MiB, growth)",
        lambda d: (f"{d['memory']['first_mib']:.1f} / {d['memory']['last_mib']:.1f} ({d['memory']['growth']:+.1%})"
                   if d["memory"].get("flat") is not None else "too few samples"),
        by(lambda d: d["memory"].get("last_mib")))
    row("server CPU while sending (% of one core)", lambda d: f"{d['result'].get('server_cpu_percent', 0):.1f}%",
        get("server_cpu_percent"))
    row("students' and teacher's CPU (one process) / everything else on the machine (noise)",
        lambda d: f"{d['result'].get('clients_cpu_percent', 0):.0f}% / {d['result'].get('other_cpu_percent', 0):.0f}%")

    lines += ["", "| check | " + " | ".join(LABELS[n] for n in names) + " |", "| --- |" + " :---: |" * len(names)]
    for check in next(iter(data.values()))["checks"]:
        lines.append(f"| {check} | " + " | ".join(
            "yes" if data[n]["checks"][check] else "**no**" for n in names) + " |")
    for n in names:
        if not data[n]["completed"]:
            lines += ["", f"The run on {LABELS[n]} failed before its figures were complete (see the output)."]
        if data[n]["failures"]:
            lines += ["", f"First failures on {LABELS[n]}:", ""] + [f"- {f}" for f in data[n]["failures"][:10]]
    if "prosody" in data:
        lines += ["", PROSODY_NOTE]
    judged = "xmpplab" if "xmpplab" in data else names[0]
    ok = data[judged]["completed"] and all(data[judged]["checks"].values())
    return "\n".join(lines) + "\n", ok, data


PROSODY_NOTE = (
    "How Prosody runs the same load (`benchmarks/classroom_prosody.py`): Prosody 0.12 with TLS, "
    "`mod_admin_adhoc` (the teacher is its admin), a MUC component and `mod_limits` as Debian's default "
    "configuration has it (10 kB/s per client connection; Prosody has no per-address connection limits "
    "like xmpplab's `--limit-loopback`). The same class list and the same random seed, so the same "
    "messages to the same recipients. Not the same: the accounts are created in-band before the logins "
    "(Prosody has no class command), the teacher makes the room over XMPP (XEP-0045: persistent, public, "
    "members only, every student a member), and Prosody's dashboard asks only the online list, since it "
    "has no progress or routing command: compare the online list's own round trip, not the whole "
    "refresh. The two servers run one after the other on the same machine, not at the same time; the "
    "CPU everything else used meanwhile is in the table, because the machine may be shared.")
