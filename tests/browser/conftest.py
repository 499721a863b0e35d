"""Fixtures for the browser tests: one JupyterLab and one headless Chromium for all of them, a tab per test.

They skip with the reason when Chromium (Debian's ``chromium``) or the
``playwright`` Python package is missing, and fail instead under
``XMPPLAB_REQUIRE_PEERS=1`` (CI, after ``.ci/install-peers``).
"""

import contextlib

import pytest

from tests.browser.jupyter import (
    CHROMIUM_FLAGS,
    NotebookPage,
    chromium_path,
    have_playwright,
    prepare_root,
    start_lab,
    stop_lab,
)
from tests.peers import need_program


@pytest.fixture(scope="package")
def browser_available():
    need_program("chromium", chromium_path() is not None, "apt-get install chromium (or .ci/install-peers)")
    need_program("playwright (the Python package)", have_playwright(), "pip install -e '.[test]'")


@pytest.fixture(scope="package")
def jupyter_lab(browser_available, tmp_path_factory):
    """JupyterLab on 127.0.0.1, serving a copy of the widgets demo, the course and the sample streams."""
    root = tmp_path_factory.mktemp("lab-root")
    prepare_root(root)
    server = start_lab(root, tmp_path_factory.mktemp("lab-home"))
    try:
        yield server
    finally:
        stop_lab(server)


@pytest.fixture(scope="package")
def chromium(browser_available, tmp_path_factory):
    """A headless Chromium (Debian's) with a fresh profile, driven by Playwright."""
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=20_000)   # a loaded CI machine: the kernel may take seconds to redraw

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile), executable_path=chromium_path(), headless=True, args=CHROMIUM_FLAGS,
            viewport={"width": 1360, "height": 1000}, device_scale_factor=1)
        context.set_default_timeout(30_000)
        try:
            yield context
        finally:
            context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call" and report.failed:
        item.browser_failed = True
    return report


@pytest.fixture
def open_notebook(request, jupyter_lab, chromium):
    """``nb = open_notebook("widgets_demo.ipynb")``: a new tab on that notebook, its kernel started;
    the tab is closed and the kernel stopped after the test. When the test fails, the window is
    saved as ``FAILED-<test>.png`` next to the other screenshots."""
    opened = []

    def open_(relpath: str) -> NotebookPage:
        nb = NotebookPage(chromium.new_page(), jupyter_lab, relpath)
        opened.append(nb)
        return nb.open()

    yield open_
    for nb in opened:
        if getattr(request.node, "browser_failed", False):
            name = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in request.node.name)
            with contextlib.suppress(Exception):
                nb.shot(f"FAILED-{name}.png")
        nb.close()
