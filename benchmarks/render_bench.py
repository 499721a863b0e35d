"""Benchmark the stream view on a large transcript: is the first page quick, and is the HTML small?

Usage (from the repository root)::

    .venv/bin/python benchmarks/render_bench.py             # 10,000 stanzas, 7 rounds
    .venv/bin/python benchmarks/render_bench.py --stanzas 50000 --rounds 3 --no-write

It builds a synthetic recording of one client connection (stream headers,
features, STARTTLS, SASL, bind, then ``--stanzas`` stanzas: messages both
ways, presence, roster and ping iqs with their answers) and measures:

* **first page, cold**: a fresh Transcript (nothing parsed yet) to the HTML of
  page 1 of its stream view (200 items): parsing the whole recording
  (the view needs the item count), explaining and rendering 200 rows;
* **first page, warm**: the same again on a transcript already parsed
  (re-displaying a cell), and page 25 (the middle);
* the size of one page of HTML (the cap is about 1 MB per output), the
  ``text/plain`` that goes with it, and the standalone page of the whole
  recording (``render_page``), for comparison.

Times are the median of ``--rounds`` runs. The target: first page under half
a second, HTML of one output under about 1 MB. Results are printed and
written to ``benchmarks/RESULTS.md`` under "## Rendering" (that section only;
the rest of the file belongs to ``benchmarks/run.py``).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from xmpplab.render.page import render_page  # noqa: E402 - a script: the repository joins sys.path first
from xmpplab.render.stream_view import StreamView  # noqa: E402 - (as above)
from xmpplab.transcript import Transcript  # noqa: E402 - (as above)

RESULTS = ROOT / "benchmarks" / "RESULTS.md"
HEADING = "## Rendering"
TARGET_SECONDS = 0.5
TARGET_BYTES = 1_000_000

_NEGOTIATION = [
    ("in", ("<stream:stream to='example.com' xmlns='jabber:client' "
           "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>")),
    ("out", ("<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'"
            " from='example.com' id='s1' version='1.0' xml:lang='en'>")),
    ("out", ("<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/><mechanisms "
            "xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism><mechanism>PLAIN</mechanism>"
            "</mechanisms></stream:features>")),
    ("in", "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"),
    ("out", "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"),
    ("in", ("<stream:stream to='example.com' xmlns='jabber:client' "
           "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>")),
    ("out", ("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'"
            " from='example.com' id='s2' version='1.0'>")),
    ("out", ("<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism>"
            "</mechanisms></stream:features>")),
    ("in", "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGp1bGlldABzZWNyZXQ=</auth>"),
    ("out", "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>"),
    ("in", ("<stream:stream to='example.com' xmlns='jabber:client' "
           "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>")),
    ("out", ("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'"
            " from='example.com' id='s3' version='1.0'>")),
    ("out", "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>"),
    ("in", ("<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>balcony</resource>"
           "</bind></iq>")),
    ("out", ("<iq type='result' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
            "<jid>juliet@example.com/balcony</jid></bind></iq>")),
]


def events(stanzas: int) -> list[dict]:
    """A recorder's events for one connection with ``stanzas`` stanzas after the negotiation."""
    t0 = 1_800_000_000.0
    out = [{"t": t0, "conn": "c2s-1", "type": "open", "peer": "127.0.0.1:50000", "local": "127.0.0.1:5222",
            "kind": "c2s", "role": "receiving"}]
    t = t0
    for direction, data in _NEGOTIATION:
        t += 0.0005
        out.append({"t": t, "conn": "c2s-1", "type": "data", "dir": direction, "data": data})
    me, romeo = "juliet@example.com/balcony", "romeo@example.net/orchard"
    for i in range(stanzas):
        t += 0.001
        k = i % 10
        if k in (0, 2, 4, 6):
            d, data = "in", (f"<message to='romeo@example.net' type='chat' id='m{i}'><body>Wherefore art thou "
                             f"Romeo? ({i})</body></message>")
        elif k in (1, 3, 5):
            d, data = "out", (f"<message from='{romeo}' to='{me}' type='chat' id='r{i}'><body>By a name I know "
                              f"not how to tell thee who I am ({i})</body></message>")
        elif k == 7:
            d, data = "in", f"<presence id='p{i}'><show>away</show><status>at the ball</status></presence>"
        elif k == 8:
            d, data = "in", f"<iq type='get' id='q{i}' to='example.com'><ping xmlns='urn:xmpp:ping'/></iq>"
        else:
            d, data = "out", f"<iq type='result' id='q{i - 1}' from='example.com' to='{me}'/>"
        out.append({"t": t, "conn": "c2s-1", "type": "data", "dir": d, "data": data})
    return out


def median_time(fn, rounds: int) -> tuple[float, object]:
    """The median time of `rounds` calls of `fn`, and what the last call returned."""
    times, result = [], None
    for _ in range(rounds):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main(argv=None) -> int:
    """Time the views on a transcript of many stanzas, write the figures (unless --no-write); returns an exit code."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stanzas", type=int, default=10_000, help="stanzas after the negotiation (10,000)")
    parser.add_argument("--rounds", type=int, default=7, help="runs per figure; the median is reported (7)")
    parser.add_argument("--page-size", type=int, default=200, help="items per page (200, the default view)")
    parser.add_argument("--no-write", action="store_true", help=f"do not write {RESULTS.name}")
    args = parser.parse_args(argv)

    evs = events(args.stanzas)

    def cold():
        transcript = Transcript.from_events(evs, recorded_by="render benchmark")
        return StreamView(transcript, page_size=args.page_size).html()

    cold_s, _ = median_time(cold, args.rounds)
    transcript = Transcript.from_events(evs, recorded_by="render benchmark")
    items = len(transcript)
    warm_s, _html = median_time(lambda: StreamView(transcript, page_size=args.page_size).html(), args.rounds)
    middle = max(1, (items // args.page_size) // 2)
    middle_s, _ = median_time(lambda: StreamView(transcript, page=middle, page_size=args.page_size).html(),
                              args.rounds)
    view = StreamView(transcript, page_size=args.page_size)
    page_html = view.html()
    plain = view._display_text()
    bundle = transcript._repr_mimebundle_()
    bundle_bytes = sum(len(v.encode("utf-8")) for v in bundle.values())
    page_s, full_page = median_time(lambda: render_page(transcript, title="render benchmark", figures=False),
                                    max(1, args.rounds // 3))
    html_bytes = len(page_html.encode("utf-8"))
    full_bytes = len(full_page.encode("utf-8"))
    ok_time = cold_s < TARGET_SECONDS
    ok_size = bundle_bytes <= TARGET_BYTES * 1.05

    lines = [
        (f"- Date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC; Python {platform.python_version()}, "
        f"{os.cpu_count()} cores; `benchmarks/render_bench.py --stanzas {args.stanzas} --rounds {args.rounds}`"),
        (f"- Transcript: one c2s connection, {args.stanzas:,} stanzas after STARTTLS, SASL and bind "
        f"({items:,} items in the parsed view)"),
        "",
        "| figure | value | target | pass |",
        "| --- | ---: | :---: | :---: |",
        (f"| first page ({view.shown} of {items:,} items), cold: fresh transcript, parse, explain, render | "
        f"{cold_s * 1000:,.0f} ms | < {TARGET_SECONDS * 1000:.0f} ms | {'yes' if ok_time else 'no'} |"),
        f"| first page again, transcript already parsed | {warm_s * 1000:,.0f} ms | | |",
        f"| page {middle} of {view.pages} | {middle_s * 1000:,.0f} ms | | |",
        f"| HTML of one page (text/html) | {html_bytes / 1000:,.0f} kB | | |",
        (f"| whole notebook output (text/html + text/plain) | {bundle_bytes / 1000:,.0f} kB | about 1 MB max | "
        f"{'yes' if ok_size else 'no'} |"),
        (f"| standalone page of the whole transcript (render_page, no figures) | {full_bytes / 1_000_000:,.1f} MB in "
        f"{page_s:,.1f} s ({_pager(full_page)}{'; cut at its byte cap' if 'stopped at about' in full_page else ''})"
        " | | |"),
        "",
        f"Pager line of page 1: \"{re.search(r'showing [^<]*', page_html).group(0)}\"",
    ]
    section = HEADING + "\n\n" + "\n".join(lines) + "\n"
    print(section)
    print(f"(text/plain of the view: {len(plain.encode('utf-8')) / 1000:.1f} kB)")
    if not args.no_write:
        write_section(RESULTS, section)
        print(f"wrote the '{HEADING}' section of {RESULTS.relative_to(ROOT)}")
    return 0 if ok_time and ok_size else 1


def _pager(html: str) -> str:
    m = re.search(r"showing [^<;(]*", html)
    return m.group(0).strip() if m else "?"


def write_section(path: Path, section: str) -> None:
    """Replace the '## Rendering' section of ``path`` (up to the next '## ' heading), or append it."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    pattern = re.compile(rf"^{re.escape(HEADING)}\n.*?(?=^## |\Z)", re.DOTALL | re.MULTILINE)
    if pattern.search(text):
        text = pattern.sub(lambda _m: section + "\n", text, count=1).rstrip("\n") + "\n"
    else:
        text = text.rstrip("\n") + ("\n\n" if text else "") + section
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
