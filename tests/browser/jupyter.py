"""Drive a real JupyterLab in headless Chromium: start the server, open a notebook, run it, read what it shows.

Used by the fixtures in ``conftest.py``. JupyterLab runs with the test's own
Python (the venv, whose ``python3`` kernel it starts), on 127.0.0.1 with a
random token, in a root folder that is a copy of what the notebooks need,
and with its own settings, workspace, config and data folders, so nothing
of the user's Jupyter setup leaks in and nothing is written outside the test.

Chromium is Debian's (``apt-get install chromium``), driven by Playwright's
Python package (its wheel carries the driver; Playwright's own browser
download is not used). The flags turn off background networking: without
them, the browser's own connections use up the loopback and requests are
refused many at a time.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]

#: JupyterLab settings for a quiet, predictable test run: no news or update checks (no requests to the
#: internet, no toasts over the screenshots), and every cell attached to the page (no windowing).
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
        {"fetchNews": "false", "checkForUpdates": False, "doNotDisturbMode": True},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def have_playwright() -> bool:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return True


def artifacts_dir() -> Path:
    """Where screenshots go: ``$XMPPLAB_ARTIFACTS/browser``, else ``artifacts/browser`` in the repository."""
    base = os.environ.get("XMPPLAB_ARTIFACTS")
    path = Path(base) / "browser" if base else REPO / "artifacts" / "browser"
    path.mkdir(parents=True, exist_ok=True)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ====================================================================== the server
@dataclass
class LabServer:
    """A running JupyterLab: its base URL, token, root folder, process and log file."""

    url: str
    token: str
    root: Path
    process: subprocess.Popen
    log: Path

    def api(self, path: str, method: str = "GET"):
        req = urllib.request.Request(f"{self.url}{path}", method=method,
                                     headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            body = resp.read()
        return json.loads(body) if body else None

    def notebook_url(self, relpath: str) -> str:
        # reset: a fresh workspace, so the notebooks of earlier tests are not opened again
        return f"{self.url}/lab/tree/{relpath}?token={self.token}&reset"

    def shutdown_kernels(self, relpath: str | None = None) -> None:
        """Stop the kernels of the notebook at ``relpath`` (all kernels when None)."""
        for session in self.api("/api/sessions") or []:
            if relpath is None or session.get("path") == relpath:
                with contextlib.suppress(urllib.error.URLError):
                    self.api(f"/api/sessions/{session['id']}", method="DELETE")

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def prepare_root(root: Path) -> None:
    """Copy what the notebooks need: the widgets demo, the course with its solutions, the sample streams."""
    shutil.copy2(HERE / "widgets_demo.ipynb", root / "widgets_demo.ipynb")
    for folder in ("notebooks", "sample_streams"):
        src = REPO / folder
        if src.is_dir():
            shutil.copytree(src, root / folder, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))


def start_lab(root: Path, home: Path, timeout: float = 60.0) -> LabServer:
    """Start JupyterLab on 127.0.0.1 (a free port, a random token) serving ``root``; wait until it answers."""
    settings = home / "settings"
    for name, values in LAB_SETTINGS.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    dirs = {"JUPYTER_CONFIG_DIR": home / "config", "JUPYTER_DATA_DIR": home / "data",
            "JUPYTER_RUNTIME_DIR": home / "runtime", "JUPYTERLAB_WORKSPACES_DIR": home / "workspaces",
            "JUPYTERLAB_SETTINGS_DIR": settings, "IPYTHONDIR": home / "ipython"}
    for d in dirs.values():
        Path(d).mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, **{k: str(v) for k, v in dirs.items()})
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["PYTHONUNBUFFERED"] = "1"
    env.pop("JUPYTER_PREFER_ENV_PATH", None)
    port, token = free_port(), secrets.token_hex(16)
    log = home / "jupyterlab.log"
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
           f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
           f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=",
           "--ServerApp.terminals_enabled=False"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")   # CI containers run as root
    with open(log, "wb") as out:
        process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                   cwd=root)
    server = LabServer(f"http://127.0.0.1:{port}", token, root, process, log)
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with status {process.returncode}:\n{server.log_tail()}")
        try:
            server.api("/api/status")
            return server
        except (urllib.error.URLError, ConnectionError, OSError):
            if time.monotonic() > deadline:
                stop_lab(server)
                raise RuntimeError(f"JupyterLab did not answer on port {port} within {timeout:g} s:\n"
                                   f"{server.log_tail()}") from None
            time.sleep(0.2)  # another process, with no event to wait on but its HTTP answer: poll it


def stop_lab(server: LabServer) -> None:
    """Stop JupyterLab and its kernels (by process id: the server, then any kernel it left)."""
    try:
        import psutil
        children = psutil.Process(server.process.pid).children(recursive=True)
    except Exception:  # noqa: BLE001 - psutil missing or the process already gone
        children = []
    if server.process.poll() is None:
        server.process.terminate()   # JupyterLab shuts its kernels down on SIGTERM
        try:
            server.process.wait(20)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(5)
    for child in children:   # a kernel the server did not stop
        with contextlib.suppress(Exception):
            if child.is_running():
                child.kill()


# ====================================================================== a notebook in the browser
_STATE_JS = """() => {
  const app = window.jupyterapp;
  const panel = app && app.shell.currentWidget;
  if (!panel || !panel.content || !panel.sessionContext) return null;
  const session = panel.sessionContext.session;
  const kernel = session && session.kernel;
  const cells = panel.content.widgets.filter(c => c.model.type === 'code');
  const prompts = Array.from(panel.node.querySelectorAll('.jp-InputPrompt')).map(n => n.textContent || '');
  return {
    status: kernel ? kernel.status : 'none',
    ready: panel.context.isReady,
    cells: cells.length,
    executed: cells.filter(c => c.model.executionCount !== null).length,
    running: cells.some(c => c.model.executionState === 'running') || prompts.some(t => t.includes('*')),
    last_done: cells.length > 0 && (cells[cells.length - 1].model.executionCount !== null
                                    || cells[cells.length - 1].model.outputs.length > 0),
  };
}"""

_CELLS_JS = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  if (!panel || !panel.content) return [];
  return panel.content.widgets.filter(c => c.model.type === 'code').map(c => {
    const src = c.model.sharedModel.getSource().split('\\n').pop().slice(0, 60);
    const outs = c.model.outputs.toJSON().map(o => o.output_type).join(',');
    return `[${c.model.executionCount === null ? ' ' : c.model.executionCount}] `
         + `${c.model.executionState || '?'} outputs=(${outs}) ...${src}`;
  });
}"""


_ERRORS_JS = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const found = [];
  panel.content.widgets.forEach((c, i) => {
    if (c.model.type !== 'code') return;
    for (const o of c.model.outputs.toJSON()) {
      if (o.output_type === 'error') found.push(`cell ${i}: ${o.ename}: ${o.evalue}`);
    }
  });
  for (const n of panel.node.querySelectorAll('.jp-OutputArea-output')) {
    const t = n.textContent || '';
    if (t.includes('Error displaying widget') || t.includes('Error rendering output')) found.push(t.slice(0, 200));
  }
  return found;
}"""


class NotebookPage:
    """One notebook open in a Chromium tab of a :class:`LabServer`."""

    def __init__(self, page, server: LabServer, relpath: str):
        self.page = page
        self.server = server
        self.relpath = relpath

    def open(self, timeout: float = 60.0) -> NotebookPage:
        self.page.goto(self.server.notebook_url(self.relpath), wait_until="domcontentloaded")
        self.wait(lambda s: s and s["ready"] and s["status"] == "idle", timeout, "the notebook and its kernel")
        self.page.evaluate("() => window.jupyterapp.shell.collapseLeft()")   # room for the notebook
        return self

    def state(self):
        return self.page.evaluate(_STATE_JS)

    def wait(self, predicate, timeout: float, what: str, stable: int = 1):
        deadline = time.monotonic() + timeout
        seen = 0
        state = None
        while time.monotonic() < deadline:
            state = self.state()
            seen = seen + 1 if predicate(state) else 0
            if seen >= stable:
                return state
            self.page.wait_for_timeout(150)
        try:
            cells = "\n".join(self.page.evaluate(_CELLS_JS))
        except Exception as exc:  # noqa: BLE001 - the page itself may be what is stuck
            cells = f"(could not read the cells: {exc})"
        raise TimeoutError(f"waited {timeout:g} s for {what} in {self.relpath}; last state: {state}\n"
                           f"code cells (execution count, state, outputs, last line):\n{cells}\n"
                           f"JupyterLab log:\n{self.server.log_tail()}")

    def run_all(self, timeout: float = 90.0):
        """Run ▸ Run All Cells from the menu bar, then wait until every code cell ran and the kernel is idle.

        The kernel runs cells in order, so the last cell's answer (its execution count or an output) with
        the kernel idle means every cell ran. A prompt that JupyterLab still shows as pending then (seen
        once in CI under load: the kernel idle, one cell's reply never counted) is printed, not failed on:
        what the cells drew is what the tests check next.
        """
        page = self.page
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
        state = self.wait(lambda s: s and s["status"] == "idle" and s["last_done"], timeout, "every cell to run",
                          stable=3)
        if state["running"] or state["executed"] != state["cells"]:
            # give JupyterLab's bookkeeping a moment to catch up before saying anything
            try:
                state = self.wait(lambda s: s and s["executed"] == s["cells"] and not s["running"], 5,
                                  "the prompts to catch up")
            except TimeoutError:
                cells = "\n".join(self.page.evaluate(_CELLS_JS))
                print(f"JupyterLab still shows a cell of {self.relpath} pending although the kernel ran the last one "
                      f"and is idle:\n{cells}")
        return state

    def errors(self) -> list[str]:
        """Error outputs (tracebacks) and outputs that could not be drawn, one line each."""
        return self.page.evaluate(_ERRORS_JS)

    def cell_with(self, selector: str):
        """The notebook cell whose output holds ``selector``."""
        return self.page.locator(".jp-Notebook .jp-Cell").filter(has=self.page.locator(selector)).first

    def shot(self, name: str, target=None) -> Path:
        """Save a screenshot (of ``target``, a locator, else the window) to the artifacts folder."""
        path = artifacts_dir() / name
        if target is None:
            self.page.screenshot(path=str(path))
        else:
            target.scroll_into_view_if_needed()
            target.screenshot(path=str(path))
        return path

    def close(self) -> None:
        try:
            self.server.shutdown_kernels(self.relpath)
        finally:
            self.page.close()


@contextlib.asynccontextmanager
async def self_signed_page():
    """A page in headless Chromium that accepts a test server's self-signed certificate (wss://, https://),
    and ``logs``, what the page said (console and errors), for assertion messages: ``(page, logs)``."""
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium_path(), headless=True,
                                          args=[*CHROMIUM_FLAGS, "--ignore-certificate-errors"])
        try:
            page = await browser.new_page()
            page.set_default_timeout(30_000)
            logs: list[str] = []
            page.on("console", lambda m: logs.append(f"{m.type}: {m.text}"))
            page.on("pageerror", lambda e: logs.append(f"page error: {e}"))
            yield page, logs
        finally:
            await browser.close()
