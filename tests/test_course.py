"""The course's exercise checks, driven by the teachers' solutions in notebooks/solutions/chNN.py:
every solution passes its check, right answers written differently (attribute order, namespace
prefixes, whitespace) pass, and each near miss is told what is missing, in words. Live exercises
are solved against a real Lab, and a near miss there is told what is missing too."""

import importlib.util
from pathlib import Path

import pytest

from xmpplab.course import acheck, check, exercises, hint
from xmpplab.lab import Lab

SOLUTIONS_DIR = Path(__file__).resolve().parents[1] / "notebooks" / "solutions"


def _load() -> dict:
    merged = {"SOLUTIONS": {}, "REWRITTEN": {}, "NEAR_MISSES": {}, "LIVE": {}}
    for path in sorted(SOLUTIONS_DIR.glob("ch*.py")):
        spec = importlib.util.spec_from_file_location(f"solutions_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for name, table in merged.items():
            table.update(getattr(module, name, {}))
    return merged


TABLES = _load()
SOLUTIONS, REWRITTEN, NEAR_MISSES, LIVE = (TABLES[k] for k in ("SOLUTIONS", "REWRITTEN", "NEAR_MISSES", "LIVE"))


@pytest.mark.parametrize("ex_id", sorted(SOLUTIONS))
def test_solution_passes(ex_id):
    result = check(ex_id, SOLUTIONS[ex_id])
    assert result.ok, result.text()


@pytest.mark.parametrize("ex_id", sorted(REWRITTEN))
def test_right_answers_written_differently_pass(ex_id):
    for answer in REWRITTEN[ex_id]:
        result = check(ex_id, answer)
        assert result.ok, f"{answer!r}\n{result.text()}"


@pytest.mark.parametrize("ex_id", sorted(NEAR_MISSES))
def test_near_misses_name_what_is_missing(ex_id):
    for answer, words in NEAR_MISSES[ex_id]:
        result = check(ex_id, answer)
        assert not result.ok, f"{answer!r} passed"
        assert any(words in text for text in result.missing), f"{answer!r}: {result.text()}"


async def solve_live(ex_id: str, start=Lab.start) -> None:
    """The near miss of a live exercise fails with its words, and the solution passes, each in a fresh Lab."""
    solve, near_miss, words = LIVE[ex_id]
    async with start() as lab:
        await near_miss(lab)
        result = await acheck(ex_id, lab=lab)
        assert not result.ok and any(words in t for t in result.missing), result.text()
    async with start() as lab:
        await solve(lab)
        result = await acheck(ex_id, lab=lab)
        assert result.ok, result.text()


@pytest.mark.parametrize("ex_id", sorted(LIVE))
async def test_live_exercises(ex_id):
    await solve_live(ex_id)


def test_every_exercise_is_covered():
    for ex_id, ex in exercises().items():
        if ex.func.live:
            assert ex_id in LIVE, f"live exercise {ex_id} has no entry in LIVE in notebooks/solutions/"
        else:
            for name, table in (("SOLUTIONS", SOLUTIONS), ("REWRITTEN", REWRITTEN), ("NEAR_MISSES", NEAR_MISSES)):
                assert ex_id in table, f"exercise {ex_id} has no entry in {name} in notebooks/solutions/"
        assert len(ex.hints) >= 1, f"exercise {ex_id} has no hint"


def test_hints_and_unknown_exercises():
    assert hint("00.1").startswith("Hint 1 of 2 for exercise 00.1")
    assert hint("00.1", 2).startswith("Hint 2 of 2")
    with pytest.raises(ValueError, match="there is no exercise '99.9'"):
        check("99.9", "<message/>")
    bad = check("00.1", "<message")
    assert not bad.ok and "could not be read" in bad.missing[0] and "column" not in bad.missing[0]
