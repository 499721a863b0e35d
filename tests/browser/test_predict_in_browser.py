"""Chapter 00 in a real JupyterLab, in headless Chromium: a prediction is answered and checked by clicking, and
the deep dives open folded (issue 13). Screenshots in artifacts/browser/."""

import pytest

pytestmark = pytest.mark.peer


def test_a_prediction_is_checked_by_clicking_and_deep_dives_open_folded(open_notebook):
    from playwright.sync_api import expect

    nb = open_notebook("notebooks/00-welcome.ipynb")
    page = nb.page
    # Folded on opening: a deep dive's heading shows, the cells under it do not; the core path does.
    notebook = page.locator(".jp-Notebook")
    hidden = notebook.locator(".jp-Cell", has_text="Servers find each other through DNS")
    expect(notebook.get_by_role("heading", name="Deep dive: waiting, leftovers and timeouts")).to_be_visible()
    expect(hidden).to_be_hidden()
    expect(notebook.locator(".jp-Cell", has_text="How waiting works.")).to_be_visible()
    nb.run_all(timeout=120)
    assert nb.errors() == []

    first = page.locator(".xmpplab-predict").first
    first.scroll_into_view_if_needed()
    expect(first).to_contain_text("Predict: Juliet sends two messages")
    first.get_by_text("B. The second message twice", exact=False).click()
    first.locator(".xmpplab-check").click()
    feedback = first.locator(".xmpplab-predict-feedback")
    expect(feedback).to_contain_text("Not quite. next() is a queue")
    first.get_by_text("A. The first message, then the second", exact=False).click()
    expect(feedback).not_to_contain_text("Not quite")     # a new choice clears the old feedback
    first.locator(".xmpplab-check").click()
    expect(feedback).to_contain_text("Right. Each call takes the oldest message not taken yet.")
    nb.shot("course-00-predict.png", nb.cell_with(".xmpplab-predict"))
    # Running every cell did not unfold the deep dives.
    expect(hidden).to_be_hidden()
