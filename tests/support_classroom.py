"""Helpers for tests of the classroom: run ``xmpplab classroom`` as a teacher would, read its class list and the
lines printed on a student's card of the handout."""

import asyncio
import csv
import html
import re
import signal

from tests.support_cli import start_command

DOMAIN = "class.example"


async def start_classroom(tmp_path, *args, domain: str = DOMAIN):
    """Start ``xmpplab classroom`` (port 0, a database and a class list in ``tmp_path``) and read what it prints
    up to "press Ctrl-C to stop": ``(process, printed text)``."""
    return await start_command("classroom", "--port", "0", "--domain", domain, "--db", str(tmp_path / "class.sqlite"),
                               "--accounts", str(tmp_path / "class.csv"), *args, cwd=tmp_path)


async def stop_classroom(proc) -> None:
    """Ctrl-C, as the teacher stops the class: it must end cleanly, without a traceback."""
    proc.send_signal(signal.SIGINT)
    await asyncio.wait_for(proc.stdout.read(), 30)
    assert await asyncio.wait_for(proc.wait(), 30) == 0
    assert b"Traceback" not in await proc.stderr.read()


def rows(path) -> list[dict]:
    """The class list (CSV) as dicts: jid, password, role."""
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def card_lines(page: str, jid: str) -> list[str]:
    """The code lines on one student's card, as the student reads them."""
    card = page[page.index(f"<div class='who'>{jid}</div>"):]
    card = card[:card.index("</section>")]
    return [html.unescape(c) for c in re.findall(r"<code>(.*?)</code>", card)]
