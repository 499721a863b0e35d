"""The core path of chapters 00-03 stays a short read (issue 13), measured by xmpplab.course.corepath."""

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from xmpplab.course import corepath
from xmpplab.course.corepath import (
    API_CHAPTERS,
    API_NAMES_LIMIT,
    ENFORCED,
    api_names,
    check_chapter,
    measure,
    used_api_names,
)

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
PREDICTION = ('xmpplab.predict("Where does a message to a bare JID go?",\n'
              '                {"One session": "Right.", "No session": "Wrong."}, answer="One session")')


def md(text, deep=False, folded=False):
    meta = {"tags": ["deep-dive"]} if deep else {}
    if folded:
        meta["jp-MarkdownHeadingCollapsed"] = True
    return {"cell_type": "markdown", "metadata": meta, "source": text}


def code(text, deep=False):
    return {"cell_type": "code", "metadata": {"tags": ["deep-dive"]} if deep else {}, "source": text,
            "outputs": [], "execution_count": None}


def notebook(folder, name, cells):
    path = Path(folder) / name
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def good_cells():
    return [md("# 01 · Addresses\n\nA JID has three parts: `local@domain/resource`."),
            code(PREDICTION), code(PREDICTION),
            code("import xmpplab\nlab = await xmpplab.Lab.start()"),
            md("## Deep dive: PRECIS\n\nRFC 7622 §3.2 and §3.3 say much more.", deep=True, folded=True),
            code("x = 1\n" * 20, deep=True),
            md("### what the sections say", deep=True),
            md("## Next\n\nChapter 02.")]


# ------------------------------------------------------------------------------- the measures
def test_a_good_chapter_passes_and_deep_dives_do_not_count(tmp_path):
    m = check_chapter(measure(notebook(tmp_path, "01-addressing.ipynb", good_cells())))
    assert m.problems == []
    assert (m.words, m.longest, m.citations, m.predictions, m.code_cells) == (11, 2, 0, 2, 1)
    assert m.minutes == pytest.approx(11 / 200 + 0.4 + 2 * 0.5)


def test_a_prediction_whose_source_shows_the_answer_is_noted_not_failed(tmp_path):
    cells = good_cells()
    cells[2]["metadata"]["jupyter"] = {"source_hidden": True}
    m = check_chapter(measure(notebook(tmp_path, "01-addressing.ipynb", cells)))
    assert m.problems == [] and len(m.notes) == 1 and m.notes[0].startswith("cell 1: the prediction's source")


def test_prose_words_count_code_spans_but_not_link_targets_or_markup():
    assert corepath.prose_words("## Hello, `lab.connect(jid)` [the RFC](https://x.y/z) <b>bold</b> — ok") == 6


def test_a_core_code_cell_over_the_limit_fails(tmp_path):
    cells = good_cells()
    cells.insert(3, code("\n".join(f"a{i} = {i}" for i in range(9)) + "\n\n"))
    m = check_chapter(measure(notebook(tmp_path, "02-streams.ipynb", cells)))
    assert m.longest == 9 and m.problems == ["cell 3: a core code cell of 9 lines (at most 8)"]


@pytest.mark.parametrize(("change", "words"), [
    (lambda cells: cells[4]["metadata"].pop("jp-MarkdownHeadingCollapsed"), "is not folded"),
    (lambda cells: cells.__setitem__(4, md("## PRECIS", deep=True, folded=True)), "must start with a markdown heading"),
    (lambda cells: cells.__setitem__(6, md("## More", deep=True)), "ends its fold early"),
    (lambda cells: cells.__setitem__(7, md("Chapter 02 is next.")), "would stay folded under it"),
    (lambda cells: cells.__setitem__(7, md("### Next")), "would stay folded under it"),
    (lambda cells: cells.append(md("## Deep dive: untagged")), "a 'Deep dive:' heading on the core path"),
])
def test_a_deep_dive_that_is_not_folded_under_its_own_heading_fails(tmp_path, change, words):
    cells = good_cells()
    change(cells)
    m = check_chapter(measure(notebook(tmp_path, "03-message.ipynb", cells)))
    assert any(words in problem for problem in m.problems), m.problems


def test_too_many_words_citations_too_few_predictions_fail(tmp_path):
    cells = [md("word " * 601 + "\n\nRFC 6120 §4, XEP-0045 §7 and section 8.2"), code("lab")]
    m = check_chapter(measure(notebook(tmp_path, "03-message.ipynb", cells)))
    assert m.citations == 3
    assert [p.split(" (")[0] for p in m.problems] == [
        "609 words of core prose", "3 section citations in core text", "0 predictions in core cells"]


def test_chapter_00_allows_no_citation_and_other_chapters_are_not_enforced(tmp_path):
    cells = [md("XMPP (RFC 6120 §4)"), code(PREDICTION), code(PREDICTION)]
    assert check_chapter(measure(notebook(tmp_path, "00-welcome.ipynb", cells))).problems == [
        "1 section citations in core text (at most 0)"]
    late = check_chapter(measure(notebook(tmp_path, "99-later.ipynb", [md("word " * 5000)])))
    assert late.problems == []


def test_api_names_are_the_packages_own_and_learner_variables_do_not_count():
    known = api_names()
    assert {"Lab", "connect", "send_message", "JID", "bare", "check", "routing_graph", "predict"} <= known
    used = used_api_names(["import xmpplab\nlab = await xmpplab.Lab.start()\nstart = 1\nprint(start)",
                           "from xmpplab.course import check\ncheck('00.1', answer)\njuliet.jid.bare"], known)
    assert used == {"Lab", "start", "check", "jid", "bare"}


def test_the_script_prints_one_line_per_chapter_and_fails_on_a_broken_limit(tmp_path):
    notebook(tmp_path, "01-addressing.ipynb", good_cells())
    notebook(tmp_path, "99-later.ipynb", [md("word " * 3000)])
    out = io.StringIO()
    assert corepath.main([str(tmp_path)], out=out) == 0
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("01-addressing") and lines[0].endswith("OK")
    assert lines[1].startswith("99-later") and "(not enforced)" in lines[1]
    assert "API names a learner writes in 00–03: 2/10 OK: Lab, start" in out.getvalue()
    cells = good_cells()
    cells[3] = code("x = 1\n" * 9)
    notebook(tmp_path, "01-addressing.ipynb", cells)
    run = subprocess.run([sys.executable, "-m", "xmpplab.course.corepath", str(tmp_path)],
                         capture_output=True, text=True)
    assert run.returncode == 1 and "✗ 01-addressing: cell 3: a core code cell of 9 lines" in run.stdout


# ------------------------------------------------------------------------------- the course itself
@pytest.mark.parametrize("chapter", ENFORCED)
def test_the_core_path_of_the_course_meets_its_limits(chapter):
    (path,) = NOTEBOOKS.glob(f"{chapter}-*.ipynb")
    m = check_chapter(measure(path))
    assert not m.problems, f"{path.name}: {m.line()}\n" + "\n".join(m.problems)


def test_a_learner_meets_at_most_ten_api_names_in_the_first_chapters():
    known = api_names()
    codes = [c for chapter in API_CHAPTERS for path in NOTEBOOKS.glob(f"{chapter}-*.ipynb")
             for c in measure(path).codes]
    names = sorted(used_api_names(codes, known))
    assert len(names) <= API_NAMES_LIMIT, f"{len(names)} names: {', '.join(names)}"
