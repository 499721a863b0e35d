"""Measure each chapter's core path, and check the limits that keep it a ten-minute read (issue 13).

Run it on the course (or any folder of ``NN-name.ipynb`` notebooks)::

    python -m xmpplab.course.corepath [NOTEBOOK_DIR]

It prints one line per chapter (words of core prose, longest core code cell
in lines, section citations in core text, predictions, estimated minutes),
the xmpplab names a learner writes in chapters 00–03, and every broken rule;
it exits with status 1 when a chapter in :data:`ENFORCED` breaks a limit.

Definitions
-----------
- **Deep dive, core path.** A cell whose metadata has ``"tags": ["deep-dive"]``
  is a deep-dive cell; every other cell is on the *core path*.
- **Folded deep dives.** Each run of consecutive deep-dive cells starts with a
  markdown cell, tagged deep-dive, whose text begins with a heading
  ``## Deep dive: ...`` (any level) and whose metadata holds
  ``"jp-MarkdownHeadingCollapsed": true`` (what JupyterLab 4 uses to keep a
  heading folded). JupyterLab folds every cell under that heading up to the next
  heading of the same or a higher level, so the fold must end where the deep dive
  ends: no cell inside the run has such a heading, and the core cell after the
  run (if any) is a markdown cell beginning with one. A ``Deep dive:`` heading in
  a core cell is also an error.
- **Words of core prose.** The whitespace-separated words of core markdown cells
  that contain a letter or a digit; link and image targets, HTML tags and HTML
  comments are left out; code spans and code blocks count like any other words.
- **Core code cells and their lines.** Core code cells, not counting prediction
  cells; a cell's lines are its non-blank lines.
- **Predictions.** Calls ``predict(`` (``xmpplab.predict(...)``) in core code
  cells. A *prediction cell* (a code cell that is nothing but one such call) is
  counted as a prediction, not as a code cell: it is read, not written. Its
  source holds the answer, so it should be hidden (cell metadata
  ``"jupyter": {"source_hidden": true}``, JupyterLab's collapsed input): a
  visible one is noted (ℹ), not counted as a failure.
- **Section citations.** In core markdown, every ``§`` followed by a number
  (``§4``, ``RFC 6120 §4.2``, ``XEP-0045 §7``) and every ``section 4``/``sections 4.1``.
- **Estimated minutes.** words / 200 + 0.4 per core code cell + 0.5 per prediction.
- **API names.** The public xmpplab names: ``xmpplab.__all__`` and the
  ``__all__`` of each of its first-level modules and packages (with the public
  functions and classes of xmpplab they list in ``dir()``), plus the public
  method and attribute names of the objects a learner gets (:data:`LEARNER_CLASSES`:
  Lab, SyncLab, Client, JID, and the transcript's Transcript, Selection,
  Connection, Item). A name counts where it appears in a core code cell (not a
  prediction cell) as an attribute (``lab.connect``), an imported name or a name
  read but never assigned in the notebook. ``import xmpplab`` itself is exempt.
  The distinct names of chapters :data:`API_CHAPTERS` together are limited.

Limits (:data:`LIMITS`): chapter 00, the whole article in fifteen minutes:
≤ 1,800 words, code cells ≤ 8 lines, no section citation, ≥ 2 predictions,
≤ 15 minutes. Chapters 01–17: ≤ 600 words, code cells ≤ 8 lines, ≤ 2 section
citations, ≥ 2 predictions, ≤ 10 minutes (:data:`CORE`). Chapter 18, five extensions each shown wrong
then right: the same, in ≤ 15 minutes. API names in 00–03 together: ≤ 10.
Chapters not in :data:`ENFORCED` are measured and reported, not enforced.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import pkgutil
import re
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

__all__ = ["API_CHAPTERS", "API_NAMES_LIMIT", "CORE", "ENFORCED", "LIMITS", "Limits", "Measure", "api_names",
           "check_chapter", "main", "measure", "used_api_names"]

DEEP_DIVE = "deep-dive"
FOLDED = "jp-MarkdownHeadingCollapsed"


@dataclass(frozen=True)
class Limits:
    """The limits of one chapter's core path."""

    words: int
    code_lines: int
    citations: int
    min_predictions: int
    minutes: float


#: the limits of a chapter's core path after 00: a newcomer's ten minutes
CORE = Limits(words=600, code_lines=8, citations=2, min_predictions=2, minutes=10)

LIMITS = {
    "00": Limits(words=1800, code_lines=8, citations=0, min_predictions=2, minutes=15),
    **{f"{n:02d}": CORE for n in range(1, 18)},
    "18": replace(CORE, minutes=15),
}
#: the chapters whose limits are enforced (the exit status, and tests/test_core_path.py)
ENFORCED = sorted(LIMITS)  # every chapter
#: the chapters whose API names are counted together, and their limit
API_CHAPTERS = ["00", "01", "02", "03"]
API_NAMES_LIMIT = 10
#: the objects a learner gets, as (module, class name): their public methods and attributes are API names
LEARNER_CLASSES = [("xmpplab.lab", "Lab"), ("xmpplab.lab", "SyncLab"), ("xmpplab.client", "Client"),
                   ("xmpplab.jid", "JID"), ("xmpplab.transcript", "Transcript"),
                   ("xmpplab.transcript", "Selection"), ("xmpplab.transcript", "Connection"),
                   ("xmpplab.transcript", "Item")]

WORDS_PER_MINUTE = 200
MINUTES_PER_CODE_CELL = 0.4
MINUTES_PER_PREDICTION = 0.5

_CITATION = re.compile(r"§+\s*\d|\bsections?\s+\d", re.IGNORECASE)
_PREDICT_CALL = re.compile(r"\bpredict\s*\(")
_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_DEEP_HEADING = re.compile(r"^deep dive:", re.IGNORECASE)


# ------------------------------------------------------------------------------------------ cells
def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def is_deep_dive(cell: dict) -> bool:
    """True if the cell is tagged ``deep-dive``."""
    return DEEP_DIVE in (cell.get("metadata", {}).get("tags") or [])


def _headings(text: str) -> list[tuple[int, str]]:
    """The markdown headings of ``text`` as (level, words), outside code blocks."""
    found, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        elif not fenced and (m := _HEADING.match(line.strip())):
            found.append((len(m.group(1)), m.group(2).strip()))
    return found


def _first_line_heading(text: str) -> tuple[int, str] | None:
    lines = [line for line in text.splitlines() if line.strip()]
    m = _HEADING.match(lines[0].strip()) if lines else None
    return (len(m.group(1)), m.group(2).strip()) if m else None


def prose_words(markdown: str) -> int:
    """The words of a markdown text (code spans count; link targets, HTML tags and comments do not)."""
    text = re.sub(r"<!--.*?-->", " ", markdown, flags=re.DOTALL)
    text = re.sub(r"\]\([^)]*\)", "] ", text)  # [words](target) and ![alt](src): keep the words
    text = re.sub(r"</?[A-Za-z][^>]*>", " ", text)
    return sum(1 for token in text.split() if any(ch.isalnum() for ch in token))


def code_lines(code: str) -> int:
    """The non-blank lines of a code cell."""
    return sum(1 for line in code.splitlines() if line.strip())


def _parse(code: str) -> ast.Module | None:
    """The code as an AST (top-level await allowed; IPython magics and shell lines left out), or None."""
    kept = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in code.splitlines())
    try:
        return compile(kept, "<cell>", "exec", flags=ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    except SyntaxError:
        return None


def is_prediction_cell(code: str) -> bool:
    """True if the code is nothing but one ``predict(...)`` call (``xmpplab.predict`` or ``predict``)."""
    tree = _parse(code)
    if tree is None or len(tree.body) != 1 or not isinstance(tree.body[0], ast.Expr):
        return False
    call = tree.body[0].value
    if not isinstance(call, ast.Call):
        return False
    func = call.func
    return (isinstance(func, ast.Name) and func.id == "predict") or \
        (isinstance(func, ast.Attribute) and func.attr == "predict")


# ------------------------------------------------------------------------------------------ API names
def api_names() -> set[str]:
    """The public xmpplab names a learner may write (see the module docstring)."""
    import xmpplab

    names = set(xmpplab.__all__)
    for info in pkgutil.iter_modules(xmpplab.__path__):
        if info.name.startswith("_"):
            continue
        try:
            module = importlib.import_module(f"xmpplab.{info.name}")
        except ImportError:  # an optional dependency missing: its names cannot be written either
            continue
        names.update(getattr(module, "__all__", ()))
        names.update(name for name in dir(module) if _own_public(module, name))
    for module_name, class_name in LEARNER_CLASSES:
        cls = getattr(importlib.import_module(module_name), class_name)
        names.update(name for name, _ in inspect.getmembers(cls) if not name.startswith("_"))
    return {name for name in names if not name.startswith("_")}


def _own_public(module, name: str) -> bool:
    """True if ``module.name`` is a public function or class of xmpplab (some packages export lazily)."""
    if name.startswith("_"):
        return False
    try:
        value = getattr(module, name)
    except (AttributeError, ImportError):
        return False
    return (inspect.isfunction(value) or inspect.isclass(value)) and \
        (getattr(value, "__module__", "") or "").startswith("xmpplab")


def used_api_names(codes: list[str], known: set[str]) -> set[str]:
    """The names of ``known`` that the code cells ``codes`` use (attributes, imports, names read, not assigned)."""
    assigned, read, used = set(), set(), set()
    for code in codes:
        tree = _parse(code)
        if tree is None:
            used.update(word for word in re.findall(r"[A-Za-z_]\w*", code) if word in known)
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute):
                used.add(node.attr)
            elif isinstance(node, ast.Name):
                (assigned if isinstance(node.ctx, ast.Store) else read).add(node.id)
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("xmpplab"):
                used.update(alias.name for alias in node.names)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                assigned.add(node.name)
            elif isinstance(node, ast.arg):
                assigned.add(node.arg)
    used.update(read - assigned)
    return {name for name in used if name in known and name != "xmpplab"}


# ------------------------------------------------------------------------------------------ measuring
@dataclass
class Measure:
    """What one chapter's core path holds, and the rules it breaks."""

    chapter: str
    name: str
    words: int = 0
    longest: int = 0
    citations: int = 0
    predictions: int = 0
    code_cells: int = 0
    codes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def minutes(self) -> float:
        """The estimated minutes: words / 200 + 0.4 per core code cell + 0.5 per prediction."""
        return (self.words / WORDS_PER_MINUTE + MINUTES_PER_CODE_CELL * self.code_cells
                + MINUTES_PER_PREDICTION * self.predictions)

    def line(self) -> str:
        """One line: the chapter's numbers, with its limits where it has some."""
        lim = LIMITS.get(self.chapter)

        def of(value, limit, fmt="{}"):
            return fmt.format(value) + (f"/{fmt.format(limit)}" if lim else "")

        state = ("OK" if not self.problems else "FAIL") if self.chapter in ENFORCED else "(not enforced)"
        return (f"{self.name:<28} words {of(self.words, lim and lim.words):>9}  "
                f"longest cell {of(self.longest, lim and lim.code_lines):>5} lines  "
                f"citations {of(self.citations, lim and lim.citations):>5}  "
                f"predictions {of(self.predictions, lim and lim.min_predictions, '{}'):>4}  "
                f"minutes {of(self.minutes, lim and lim.minutes, '{:.1f}'):>9}  {state}")


def _opens_deep_dive(cell: dict) -> bool:
    """A markdown cell whose first line is a 'Deep dive: ...' heading: where a deep dive begins."""
    if cell.get("cell_type") != "markdown":
        return False
    first = _first_line_heading(_source(cell))
    return bool(first and _DEEP_HEADING.match(first[1]))


def _check_deep_dives(cells: list[dict]) -> list[str]:
    problems, index = [], 0
    for i, cell in enumerate(cells):
        if not is_deep_dive(cell) and cell.get("cell_type") == "markdown":
            first = _first_line_heading(_source(cell))
            if first and _DEEP_HEADING.match(first[1]):
                problems.append(f"cell {i}: a 'Deep dive:' heading on the core path: tag the cell deep-dive")
    while index < len(cells):
        if not is_deep_dive(cells[index]):
            index += 1
            continue
        start = index
        index += 1
        # a run ends at the first core cell, or where the next deep dive (its own folded heading) begins
        while index < len(cells) and is_deep_dive(cells[index]) and not _opens_deep_dive(cells[index]):
            index += 1
        head = cells[start]
        heading = _first_line_heading(_source(head)) if head.get("cell_type") == "markdown" else None
        if heading is None or not _DEEP_HEADING.match(heading[1]):
            problems.append(f"cell {start}: a deep dive must start with a markdown heading 'Deep dive: ...'")
            continue
        if head.get("metadata", {}).get(FOLDED) is not True:
            problems.append(f"cell {start}: the deep dive's heading is not folded "
                            f'(metadata "{FOLDED}": true)')
        level = heading[0]
        for j in range(start + 1, index):
            if cells[j].get("cell_type") == "markdown" and any(lv <= level for lv, _ in _headings(_source(cells[j]))):
                problems.append(f"cell {j}: a heading of level {level} or higher inside the deep dive of "
                                f"cell {start} ends its fold early: use a lower level (more #)")
        if index < len(cells) and not is_deep_dive(cells[index]):
            after = cells[index]
            nxt = _first_line_heading(_source(after)) if after.get("cell_type") == "markdown" else None
            if nxt is None or nxt[0] > level:
                problems.append(f"cell {index}: the core path after the deep dive of cell {start} would stay "
                                f"folded under it: begin it with a markdown heading of level {level} or higher")
    return problems


def measure(path: Path | str) -> Measure:
    """Measure the core path of the notebook at ``path`` (the rules it breaks are checked by check_chapter)."""
    path = Path(path)
    cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
    m = Measure(chapter=path.name[:2], name=path.stem)
    for i, cell in enumerate(cells):
        if is_deep_dive(cell):
            continue
        text = _source(cell)
        if cell.get("cell_type") == "markdown":
            m.words += prose_words(text)
            m.citations += len(_CITATION.findall(text))
        elif cell.get("cell_type") == "code":
            m.predictions += len(_PREDICT_CALL.findall(text))
            if is_prediction_cell(text):
                if not cell.get("metadata", {}).get("jupyter", {}).get("source_hidden"):
                    m.notes.append(f"cell {i}: the prediction's source shows its answer: hide the input "
                                   '(metadata "jupyter": {"source_hidden": true})')
                continue
            m.code_cells += 1
            m.codes.append(text)
            lines = code_lines(text)
            m.longest = max(m.longest, lines)
            limit = LIMITS.get(m.chapter)
            if limit and lines > limit.code_lines:
                m.problems.append(f"cell {i}: a core code cell of {lines} lines (at most {limit.code_lines})")
    m.problems[:0] = _check_deep_dives(cells)
    return m


def check_chapter(m: Measure) -> Measure:
    """Add to ``m.problems`` every limit of its chapter that it breaks; returns ``m``."""
    lim = LIMITS.get(m.chapter)
    if lim is None:
        return m
    if m.words > lim.words:
        m.problems.append(f"{m.words} words of core prose (at most {lim.words}): move depth into deep dives")
    if m.citations > lim.citations:
        m.problems.append(f"{m.citations} section citations in core text (at most {lim.citations})")
    if m.predictions < lim.min_predictions:
        m.problems.append(f"{m.predictions} predictions in core cells (at least {lim.min_predictions})")
    if m.minutes > lim.minutes:
        m.problems.append(f"an estimated {m.minutes:.1f} minutes (at most {lim.minutes})")
    return m


def chapters(folder: Path | str) -> list[Path]:
    """The chapters of a course folder: its ``NN-name.ipynb`` notebooks, in order."""
    return sorted(Path(folder).glob("[0-9][0-9]-*.ipynb"))


def main(argv: list[str] | None = None, out=None) -> int:
    """Print the measures of every chapter in the folder; 1 when an enforced chapter breaks a limit."""
    out = out or sys.stdout
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in ("-h", "--help"):
        print(__doc__, file=out)
        return 0
    if args:
        folder = Path(args[0])
    else:
        from .files import notebooks
        folder = notebooks()
    found = chapters(folder)
    if not found:
        print(f"no chapters (NN-name.ipynb) in {folder}", file=out)
        return 2
    measures = [check_chapter(measure(path)) for path in found]
    failed = False
    for m in measures:
        print(m.line(), file=out)
    for m in measures:
        for problem in m.problems:
            print(f"  {'✗' if m.chapter in ENFORCED else '·'} {m.name}: {problem}", file=out)
        for note in m.notes:
            print(f"  ℹ {m.name}: {note}", file=out)
        failed |= bool(m.problems) and m.chapter in ENFORCED
    known = api_names()
    names = sorted(used_api_names([code for m in measures if m.chapter in API_CHAPTERS for code in m.codes],
                                  known))
    verdict = "OK" if len(names) <= API_NAMES_LIMIT else "FAIL"
    print(f"API names a learner writes in {API_CHAPTERS[0]}–{API_CHAPTERS[-1]}: {len(names)}/{API_NAMES_LIMIT} "
          f"{verdict}: {', '.join(names)}", file=out)
    for m in measures:
        if m.chapter in API_CHAPTERS:
            own = sorted(used_api_names(m.codes, known))
            print(f"  {m.name}: {', '.join(own) or '-'}", file=out)
    failed |= verdict == "FAIL"
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
