"""The classroom end to end, as issue 12's "done when" puts it: one command serves the class; the handout's lines
bring in one student from a notebook, one from a terminal and one from a browser; the teacher, over XMPP only,
watches them on the dashboard, sees the notebook's check arrive in the progress grid, runs the admin commands and
announces; a student asking the same commands is refused."""

import asyncio
import os
import re
import shlex
import shutil
import subprocess

import nbformat
import pytest

from tests.browser.jupyter import chromium_path, have_playwright, self_signed_page
from tests.peers import PEERS_DIR, need_node_package, need_program
from tests.support_classroom import DOMAIN, card_lines, rows, start_classroom, stop_classroom
from xmpplab.classroom.teacher import Teacher, progress_of
from xmpplab.client import Client, IqError

pytestmark = [pytest.mark.peer, pytest.mark.timeout(300)]
ROOM = f"class@conference.{DOMAIN}"
#: what the notebook student runs: the course's Lab on the class server, one exercise's check, and then the
#: student waits for the teacher's announcement
NOTEBOOK = [
    "import xmpplab\nfrom xmpplab.course import check\nlab = await xmpplab.Lab.start()",
    "check('06.2', \"<presence to='nurse@example.com' type='unsubscribed'/>\")",
    "said = await lab.me.next('message', timeout=120, predicate=lambda m: m['type'] == 'headline')\n"
    "print('the teacher says:', said['body'])",
]


def printed(cell) -> str:
    return "".join(out.get("text", "") + out.get("data", {}).get("text/plain", "") for out in cell.get("outputs", []))


def run_notebook(env: dict, folder) -> nbformat.NotebookNode:
    """Run NOTEBOOK in a fresh kernel whose environment holds the handout's variables (blocking: call in a thread)."""
    from nbclient import NotebookClient
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(src) for src in NOTEBOOK])
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # the kernel inherits the environment of the process that starts it
    try:
        NotebookClient(nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return nb


async def test_a_class_from_one_command_to_the_dashboard(tmp_path):
    need_program("go-sendxmpp", shutil.which("go-sendxmpp") is not None, "apt-get install go-sendxmpp")
    need_program("chromium", chromium_path() is not None, "apt-get install chromium (or .ci/install-peers)")
    need_program("playwright (the Python package)", have_playwright(), "pip install -e '.[test]'")
    need_node_package("converse.js")
    from xmpplab.widgets import Dashboard

    # the teacher: one command
    proc, said = await start_classroom(tmp_path, "--students", "3", "--http-port", "0",
                                       "--converse", str(PEERS_DIR / "node_modules" / "converse.js" / "dist"))
    clients = []
    try:
        port = int(re.search(r"on 127\.0\.0\.1:(\d+)", said)[1])
        browser_url = re.search(r"browsers: (https://127\.0\.0\.1:\d+/)", said)[1]
        fingerprint = re.search(r"XMPPLAB_FINGERPRINT=(sha256:[0-9A-F:]+)", said)[1]
        passwords = {r["jid"]: r["password"] for r in rows(tmp_path / "class.csv")}
        page = (tmp_path / "class-handout.html").read_text()

        async def connect(jid):
            c = await Client.connect(jid, passwords[jid.partition("/")[0]], host="127.0.0.1", port=port,
                                     fingerprint=fingerprint)
            clients.append(c)
            return c

        teacher = Teacher(await connect(f"teacher@{DOMAIN}/dashboard"))
        dash = Dashboard(teacher, interval=3600)  # refreshed by hand below, not by the clock
        await teacher.client.send_raw(f"<presence to='{ROOM}/teacher'><x xmlns='http://jabber.org/protocol/muc'/>"
                                      "</presence>")
        await teacher.client.next("presence", timeout=30, from_=f"{ROOM}/teacher")

        # student03 in a browser: the card's address, the chat page, the class room
        async with self_signed_page() as (browser, logs):
            assert f"<code>{browser_url}</code>" in page
            await browser.goto(browser_url)
            await browser.locator("#converse-login-jid").fill("student03")
            await browser.locator("#converse-login-password").fill(passwords[f"student03@{DOMAIN}"])
            await browser.locator("button[type=submit]", has_text="Log in").click()
            await teacher.client.next("presence", timeout=60, from_=f"{ROOM}/student03")  # the page joins the room

            # student02 in a terminal: the card's go-sendxmpp line, to the next student on the list
            line = next(c for c in card_lines(page, f"student02@{DOMAIN}") if c.startswith("echo hello | go-sendxmpp"))
            assert f"student03@{DOMAIN}" in line
            done = await asyncio.to_thread(subprocess.run, ["bash", "-c", line], capture_output=True, text=True,
                                           timeout=60, env=dict(os.environ, HOME=str(tmp_path)))
            assert done.returncode == 0, done.stderr
            # a classmate who is not in the roster: listed under "New messages"; a click opens the chat
            await browser.locator("converse-roster-contact", has_text=f"student02@{DOMAIN}").first.click()
            await browser.locator(".chat-msg__text", has_text="hello").first.wait_for()
            assert not [m for m in logs if "Error while trying to update bookmarks" in m], logs

            # student01 in a notebook: the card's course line gives the kernel its environment
            course = next(c for c in card_lines(page, f"student01@{DOMAIN}") if c.startswith("XMPPLAB_SERVER="))
            env = dict(word.split("=", 1) for word in shlex.split(course) if "=" in word)
            assert env["XMPPLAB_FINGERPRINT"] == fingerprint
            secret = tmp_path / "password"
            secret.write_text(passwords[f"student01@{DOMAIN}"] + "\n")
            env["XMPPLAB_PASSWORD_FILE"] = str(secret)
            notebook = asyncio.create_task(asyncio.to_thread(run_notebook, env, tmp_path))

            # the teacher: the check arrives live, then the dashboard shows all three kinds of student
            report = await teacher.client.next("message", timeout=120, predicate=lambda m: progress_of(m) is not None)
            assert progress_of(report)["student"] == f"student01@{DOMAIN}"
            assert dash.progress[(f"student01@{DOMAIN}", "06.2")]["passed"] is True
            await dash.refresh()
            online = await teacher.online()
            for student in ("student01", "student03"):
                assert any(j.startswith(f"{student}@{DOMAIN}/") for j in online), online
                assert f"{student}@{DOMAIN}" in dash.online_html.value
            browser_row = next(r for r in dash.clients.values() if r["jid"].startswith(f"student03@{DOMAIN}/"))
            assert (browser_row["client"], browser_row["transport"], browser_row["secure"]) == \
                ("https://conversejs.org", "websocket", True)
            assert "conversejs.org, WebSocket" in dash.online_html.value
            assert "06.2" in dash.progress_html.value and "✓" in dash.progress_html.value
            assert await teacher.registered_count() == 4

            # a student may not administer the class
            student = Teacher(await connect(f"student02@{DOMAIN}/laptop"))
            with pytest.raises(IqError) as refused:
                await student.online_count()
            assert refused.value.condition == "forbidden"

            # the announcement reaches the notebook, which then ends
            assert (await teacher.announce("Back at ten.")).status == "completed"
            nb = await asyncio.wait_for(notebook, 120)
            assert "the teacher says: Back at ten." in printed(nb.cells[2])
            assert passwords[f"student01@{DOMAIN}"] not in nbformat.writes(nb)
        dash.close()
    finally:
        for c in clients:
            await c.disconnect()
        if proc.returncode is None:
            await stop_classroom(proc)
