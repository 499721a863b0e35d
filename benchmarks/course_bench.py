"""Time the whole course: every notebook executed top to bottom on a fresh kernel, as CI does.

    .venv/bin/python benchmarks/course_bench.py

Prints a table and writes the "## Course" section of benchmarks/RESULTS.md (the target: the whole
course in under 5 minutes on this machine, each notebook in under a minute).
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def run_one(path: Path) -> tuple[float, float]:
    """(seconds for the whole run including kernel start, seconds in cells)"""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}})
    start = time.perf_counter()
    with client.setup_kernel():
        cells_start = time.perf_counter()
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index)
        cells = time.perf_counter() - cells_start
    return time.perf_counter() - start, cells


def main(argv: list[str] | None = None) -> None:
    """Run every chapter notebook (or those named), print its times, and write the table to RESULTS.md."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("chapters", nargs="*", metavar="NN",
                        help="only these chapters, e.g. 03 10 (then RESULTS.md is not written)")
    args = parser.parse_args(argv)
    paths = sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))
    if args.chapters:
        unknown = sorted(set(args.chapters) - {p.name[:2] for p in paths})
        if unknown:
            parser.error(f"no chapter {', '.join(unknown)}: the chapters are "
                         f"{paths[0].name[:2]} to {paths[-1].name[:2]}")
        paths = [p for p in paths if p.name[:2] in args.chapters]
    rows = []
    for path in paths:
        total, cells = run_one(path)
        rows.append((path.stem, total, cells))
        print(f"{path.stem:22} {total:6.1f} s (cells {cells:5.1f} s)", flush=True)
    whole = sum(r[1] for r in rows)
    print(f"{'whole course':22} {whole:6.1f} s")
    if args.chapters:
        return
    lines = ["", "## Course", "",
             f"Written by `benchmarks/course_bench.py` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
             f"{os.cpu_count()} cores, Python {platform.python_version()}: each notebook executed top to bottom on a "
             "fresh kernel (kernel start included), one after the other. Targets: under a minute each, under "
             "5 minutes for the whole course.", "",
             "| notebook | seconds (with kernel start) | seconds in cells | under a minute |",
             "| --- | ---: | ---: | :---: |"]
    lines += [f"| {name} | {total:.1f} | {cells:.1f} | {'yes' if total < 60 else 'no'} |"
              for name, total, cells in rows]
    lines += [f"| **whole course** | **{whole:.1f}** | {sum(r[2] for r in rows):.1f} | "
              f"{'yes, under 5 minutes' if whole < 300 else 'no: over 5 minutes'} |", ""]
    text = RESULTS.read_text() if RESULTS.exists() else ""
    start = text.find("\n## Course")
    if start != -1:
        end = text.find("\n## ", start + 1)
        text = text[:start] + (text[end:] if end != -1 else "")
    RESULTS.write_text(text.rstrip("\n") + "\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
