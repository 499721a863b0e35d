"""The facts issue 13 corrected in chapters 01-03 stay corrected when the chapters are rewritten: what a learner
reads on the core path before an exercise, and the details kept in the deep dives."""

from pathlib import Path

import nbformat

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def _text(name: str, *, core: bool = False, before: str | None = None) -> str:
    """The markdown of a chapter (only its core path with ``core``), up to the cell that contains ``before``."""
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    parts = []
    for cell in nb.cells:
        if before is not None and before in cell.source:
            break
        if cell.cell_type == "markdown" and not (core and "deep-dive" in cell.metadata.get("tags", [])):
            parts.append(" ".join(cell.source.split()))
    return "\n".join(parts)


def test_chapter_01_says_a_resource_may_hold_spaces_on_the_core_path_before_exercise_01_2():
    core = _text("01-addressing.ipynb", core=True, before="Exercise 01.2")
    assert "spaces" in core and "resource" in core


def test_chapter_01_introduces_user1_and_gives_the_malformed_address_error_from_the_server():
    assert "Meet `user1`" in _text("01-addressing.ipynb", core=True)
    text = _text("01-addressing.ipynb")
    assert "`<jid-malformed/>`" in text and "That is not a JID at all" in text
    assert "comes `from` the server itself, `example.com`" in text
    assert "leaves `from` out" not in text


def test_chapter_02_does_not_claim_tls_is_required_on_the_loopback_lab():
    text = _text("02-streams.ipynb")
    assert "lets a client log in without TLS" in text and "<starttls><required/></starttls>" in text
    assert "closed with `</stream:stream>`" in _text("02-streams.ipynb", core=True)
    assert "never closed" not in text


def test_chapter_03_keeps_normal_apart_from_chat_and_opt_in_for_all_sessions():
    text = _text("03-message.ipynb")
    assert "all sessions that opted in" in text
    assert "same as chat" not in text and "all with a non-negative priority (no opt-in needed)" in text
    assert "RECOMMENDED" in text and "optional" not in text.split("`id`")[1][:200]
    assert "is a person" in text  # a groupchat to romeo@example.net: he is no room
