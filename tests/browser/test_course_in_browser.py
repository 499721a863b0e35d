"""Course notebooks 00, 02 and 06 in a real JupyterLab, in headless Chromium: every cell runs, no error
output, and the views each chapter is about are drawn. One screenshot each, in artifacts/browser/."""

from pathlib import Path

import pytest

pytestmark = pytest.mark.peer

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"

#: chapter -> what must be drawn: (what, CSS selector, must it be visible on the page)
EXPECTED = {
    "00": [("the stream view", ".xmpplab-stream-view", False),
           ("a routing graph drawn as SVG", ".jp-OutputArea-output .xmpplab-figure svg", True)],
    "02": [("the two-column stream view", ".xmpplab-stream-view", True)],
    "06": [("the graph of who sees whom, drawn as SVG", ".jp-OutputArea-output .xmpplab-figure svg", True)],
}


def _notebook(chapter: str) -> Path | None:
    found = sorted(NOTEBOOKS.glob(f"{chapter}-*.ipynb"))
    return found[0] if found else None


@pytest.mark.parametrize("chapter", sorted(EXPECTED))
def test_course_notebook_runs_in_jupyterlab(chapter, request):
    path = _notebook(chapter)
    if path is None:
        pytest.skip(f"notebooks/{chapter}-*.ipynb does not exist yet (the chapter is still being written)")
    from playwright.sync_api import expect

    nb = request.getfixturevalue("open_notebook")(f"notebooks/{path.name}")
    nb.run_all(timeout=120)
    assert nb.errors() == [], f"{path.name} shows errors"
    shown = None
    for what, selector, visible in EXPECTED[chapter]:
        found = nb.page.locator(selector)
        assert found.count() > 0, f"{path.name} does not show {what} ({selector})"
        if visible:  # on the core path: views in folded deep dives stay hidden, one outside them is drawn
            on_screen = nb.page.locator(f"{selector} >> visible=true")
            expect(on_screen.first).to_be_visible()
            shown = on_screen.last
    shown.scroll_into_view_if_needed()   # the screenshot shows the chapter's last main view (the fullest)
    nb.shot(f"course-{path.stem}.png")
