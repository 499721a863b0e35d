"""Every view and widget in a real JupyterLab, in headless Chromium: drawn, live, and Send shows the answer.

The notebook is tests/browser/widgets_demo.ipynb. Screenshots go to
artifacts/browser/ (or $XMPPLAB_ARTIFACTS/browser): the whole window and
one per view or widget.
"""

import re

import pytest

pytestmark = pytest.mark.peer


def test_views_and_widgets_render_and_send_shows_the_answer(open_notebook):
    from playwright.sync_api import expect

    nb = open_notebook("widgets_demo.ipynb")
    page = nb.page
    nb.run_all()
    assert nb.errors() == []
    nb.shot("widgets-window.png")

    # The two-column stream view, with its two column labels.
    view = page.locator(".xmpplab-stream-view:not(.xmpplab-console-stream)").first
    expect(view).to_be_visible()
    expect(view.get_by_text("client → server").first).to_be_visible()
    expect(view.get_by_text("server → client").first).to_be_visible()
    nb.shot("widgets-stream-view.png", nb.cell_with(".xmpplab-stream-view:not(.xmpplab-console-stream)"))

    # The routing graph: an SVG naming both servers.
    graph = page.locator(".jp-OutputArea-output .xmpplab-figure svg").first
    expect(graph).to_be_visible()
    expect(graph).to_contain_text("example.com")
    expect(graph).to_contain_text("example.net")
    nb.shot("widgets-routing-graph.png", nb.cell_with(".xmpplab-figure svg"))

    # Each widget is drawn (ipywidgets views in the page, not "Loading widget..." or an error).
    composer = page.locator(".xmpplab-composer")
    console = page.locator(".xmpplab-console")
    stepper = page.locator(".xmpplab-stepper")
    board = page.locator(".xmpplab-board")
    for widget in (composer, console, stepper, board):
        expect(widget).to_be_visible()
    expect(composer).to_contain_text("Stanza composer")
    expect(composer).to_contain_text("ready to send")
    expect(stepper.locator(".xmpplab-current")).to_contain_text("message chat")
    expect(stepper.locator(".xmpplab-stepper-graph svg")).to_be_visible()
    expect(stepper).to_contain_text("1 balcony → 2 example.com → 3 example.net → 4 orchard")

    # The board followed the last cell by itself: romeo subscribed, juliet approved and went away.
    expect(board).to_contain_text("romeo sees juliet's presence", timeout=10_000)
    expect(board).to_contain_text("In the garden")
    nb.shot("widgets-board.png", nb.cell_with(".xmpplab-board"))

    # Clicking Send writes the ping on juliet's stream; the server's answer appears under the button,
    # and the live console shows the ping go by.
    assert "ping" not in console.inner_text()
    composer.locator(".xmpplab-send").click()
    answer = composer.locator(".xmpplab-answer")
    expect(answer).to_contain_text("received (the answer, S→C)", timeout=15_000)
    expect(answer).to_contain_text("result")
    expect(composer).to_contain_text("last answer: iq result from example.com")
    nb.shot("widgets-composer-answer.png", nb.cell_with(".xmpplab-composer"))
    expect(console).to_contain_text("ping", timeout=10_000)
    nb.shot("widgets-console.png", nb.cell_with(".xmpplab-console"))

    # Typed XML is checked as you type: a bad one is explained in words and cannot be sent.
    composer.get_by_text("edit the XML by hand", exact=True).click()
    composer.locator(".xmpplab-mono textarea").fill("<message to='juliet@@example.com'><body>hi</message>")
    expect(composer).to_contain_text("<body> is still open when </message> comes")
    expect(composer.locator(".xmpplab-send")).to_be_disabled()
    composer.locator(".xmpplab-mono textarea").fill("<message to='juliet@@example.com'><body>hi</body></message>")
    expect(composer).to_contain_text("'to' is not a valid address: the domain part contains '@'")
    expect(composer.locator(".xmpplab-send")).to_be_enabled()
    nb.shot("widgets-composer-typed-xml.png", nb.cell_with(".xmpplab-composer"))

    # The stepper's buttons work from the page too.
    before = stepper.locator(".xmpplab-current").inner_text()
    stepper.locator(".xmpplab-next").click()
    expect(stepper.locator(".xmpplab-current")).not_to_have_text(before)
    expect(stepper).to_contain_text(re.compile(r"stanza \d+ of \d+: S→C message chat"))
    nb.shot("widgets-stepper.png", nb.cell_with(".xmpplab-stepper"))
    assert nb.errors() == []
