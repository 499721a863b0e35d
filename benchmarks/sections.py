"""The sections of ``benchmarks/RESULTS.md``: each harness rewrites its own and keeps the others."""

from __future__ import annotations

from pathlib import Path

#: Sections of RESULTS.md that other harnesses write; run.py keeps them.
OTHER_SECTIONS = ("## 10,000 connections", "## Soak", "## Classroom", "## Profile", "## Group chat", "## Rendering",
                  "## Course")


def keep_sections(path: Path, headings=OTHER_SECTIONS, skip: str | None = None) -> list[str]:
    """The sections of an existing report that another harness owns (text after each heading)."""
    if not path.exists():
        return []
    old, kept = path.read_text(), []
    for heading in headings:
        if heading == skip:
            continue
        start = old.find("\n" + heading)
        if start != -1:
            end = old.find("\n## ", start + 1)
            kept.append((old[start:] if end == -1 else old[start:end]).rstrip() + "\n")
    return kept



def replace_section(path: Path, heading: str, text: str) -> None:
    """Put ``text`` (starting with ``heading``) in place of that section of ``path``, or append it."""
    old = path.read_text() if path.exists() else ""
    start = old.find("\n" + heading)
    if start == -1:
        new = old.rstrip() + "\n\n\n" + text
    else:
        end = old.find("\n## ", start + 1)
        new = old[:start].rstrip() + "\n\n\n" + text + ("" if end == -1 else "\n" + old[end:])
    path.write_text(new)
