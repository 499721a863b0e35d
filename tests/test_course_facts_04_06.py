"""The facts of chapters 04-06 that issue 13 corrected or asked for stay right in their ten-minute shape: roster
pushes reach only the sessions that asked for the roster (RFC 6121 §2.1.6), exercise 06.2 follows the lab's state,
the receipt after a subscribe is no probe answer, and presence is not only for subscribers (directed presence)."""

from pathlib import Path

import nbformat

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def _cells(name: str, *, core: bool = False, kind: str = "markdown") -> list[str]:
    """The cells of one kind in a chapter (only its core path with ``core``), each on one line."""
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    return [" ".join(cell.source.split()) for cell in nb.cells
            if cell.cell_type == kind and not (core and "deep-dive" in cell.metadata.get("tags", []))]


def _text(name: str, **options) -> str:
    return "\n".join(_cells(name, **options))


def test_chapter_06_says_a_roster_push_goes_only_to_the_sessions_that_asked_for_the_roster():
    core = _text("06-subscriptions.ipynb", core=True)
    assert "pushed only to the sessions that asked for the roster" in core
    assert "every session" not in core and "each of the account's clients" not in core
    predictions = _text("06-subscriptions.ipynb", core=True, kind="code")
    assert '"Only the balcony, which asked for the roster")' in predictions    # the prediction's answer
    phone = [c for c in _cells("06-subscriptions.ipynb", kind="code") if 'connect("juliet@example.com/phone")' in c]
    assert phone and "juliet.roster()" in phone[0] and "phone.roster()" not in phone[0]


def test_exercise_06_2_follows_06_1_and_not_romeos_unsubscribe():
    text = _text("06-subscriptions.ipynb")
    before = text.split("Exercise 06.2")[1]
    assert "After 06.1 the Nurse sees Juliet's presence" in before
    assert "Romeo" not in before.split("Write the stanza")[0]


def test_chapter_06_calls_the_unavailable_after_a_subscribe_a_receipt_not_a_probe_answer():
    core = _text("06-subscriptions.ipynb", core=True)
    assert "a receipt for his request" in core and "saying nothing about Juliet" in core
    assert "probe" not in core


def test_chapter_04_keeps_directed_presence_and_says_presence_is_not_stored():
    core = _text("04-presence.ipynb", core=True)
    assert "directed presence" in core and "without a subscription" in core
    assert "Presence is not stored" in core
    assert "nobody sees your presence without a subscription" not in _text("04-presence.ipynb").lower()


def test_chapters_04_to_06_cite_sections_only_in_deep_dives_as_links():
    for name in ("04-presence.ipynb", "05-iq.ipynb", "06-subscriptions.ipynb"):
        deep = [c for c in _cells(name) if c not in _cells(name, core=True)]
        cited = [c for c in deep if "§" in c]
        assert cited, f"{name}: the sections are gone from the deep dives"
        for cell in cited:
            for part in cell.split("§")[1:]:
                assert "](https://" in part.split(")")[0], f"{name}: a section that is no link: §{part[:30]}"
