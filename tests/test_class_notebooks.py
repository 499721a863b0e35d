"""Every chapter runs against a class server (issue 12, the students' side): the notebooks are the committed
ones, untouched; the kernel has XMPPLAB_SERVER, XMPPLAB_ACCOUNT, XMPPLAB_FINGERPRINT (the handout's line) and
XMPPLAB_PASSWORD_FILE in its environment. Each chapter runs top to bottom with no error; its people are the
student's practice accounts on the class server, or it says it runs on a server of its own; and the
exercises' checks reach the teacher."""

import asyncio
import os
import re
import threading
from pathlib import Path

import nbformat
import pytest

from xmpplab.classroom import certificate_fingerprint, prepare_class, read_csv
from xmpplab.classroom.command import class_upload
from xmpplab.classroom.remote import PART_NOTE, PRIVATE_NOTE
from xmpplab.server import Server
from xmpplab.server.core import DEFAULT_MODULES

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
CHAPTERS = sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))
#: Chapters that need a server of their own and say so: 09 federates servers of its own (one folded part
#: federates the student's own server with the class server).
PRIVATE = {"09"}
#: Chapters that start no Lab: 12 (the teacher's) starts a class server of its own, 14 reads recordings.
NO_LAB = {"12", "14"}
DOMAIN = "class.example"


class ClassServerThread:
    """A class server in a thread of its own (the notebook kernels are other processes; the test blocks on them)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(30)
        return self

    async def _start(self):
        self.s2s_events = []  # what crossed the class server's server-to-server streams (chapter 09's own server)
        self.server = await Server([DOMAIN], modules=(class_upload(), *DEFAULT_MODULES, "classwork", "classmates",
                                                      "classfederation"),
                                   s2s_port=0, http_port=0, recorder=self._record).start()  # files: chapter 18
        prepare_class(self.server, DOMAIN, 2, self.folder / "class.csv")

    def _record(self, event: dict) -> None:
        if event["conn"].startswith("s2s"):
            self.s2s_events.append(event)

    def run(self, coro, timeout: float = 30):
        """Run a coroutine on the server's loop and return its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def call(self, fn, *args):
        """Run ``fn(*args)`` on the server's loop and return its result."""
        async def run():
            return fn(*args)
        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(10)

    def __exit__(self, *exc):
        asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture(scope="module")
def school(tmp_path_factory):
    folder = tmp_path_factory.mktemp("class")
    with ClassServerThread(folder) as school:
        accounts = {str(a.jid): a.password for a in read_csv(folder / "class.csv")}
        secret = folder / "password"
        secret.write_text(accounts[f"student01@{DOMAIN}"] + "\n")
        secret.chmod(0o600)
        school.env = {"XMPPLAB_SERVER": f"127.0.0.1:{school.server.port}", "XMPPLAB_ACCOUNT": f"student01@{DOMAIN}",
                      "XMPPLAB_PASSWORD_FILE": str(secret),
                      "XMPPLAB_FINGERPRINT": f"sha256:{certificate_fingerprint(school.server)}",
                      "XMPPLAB_PARTNER_WAIT": "1"}  # alone in the class: a practice partner after 1 s
        school.password = accounts[f"student01@{DOMAIN}"]
        school.accounts, school.folder = accounts, folder
        yield school


#: chapters whose exercise needs a partner (a classmate, or after a bounded wait a practice account)
PARTNER_CHAPTERS = ("03", "06")
#: chapters on the class server but for one part (a private Lab beside the class Lab, replace=False):
#: (what the private part's code holds, or None for no private Lab,
#:  [(what a cell that ran on the class server holds, what it printed)])
PARTLY_PRIVATE = {
    "00": ("federate=True", [
        ('"says:"', f"student01.juliet@{DOMAIN}/balcony says: Art thou not Romeo"),
        ("romeo@example.net/phone", "phone got:   This is for thy phone."),
        ("disco#items", f"conference.{DOMAIN}"),
        ("type='groupchat'", f"student01.garden@conference.{DOMAIN}/romeo says: Good morrow"),
        ("he is back in the orchard", f"student01.juliet@{DOMAIN}/balcony"),  # the offline message
    ]),
    "11": ("private=True", [  # the scansion scripts bring their own accounts and passwords
        ("redrive(recording, lab=lab)", f"as student01.juliet@{DOMAIN}/balcony: 3 exchanges, all the same"),
        ("redrive(rfc_example, lab=lab)", f"<item jid=\"student01.romeo@{DOMAIN}\" name=\"Romeo\""),
        ("report.transcript", f"student01.juliet@{DOMAIN}/balcony"),
    ]),
    "10": ("private=True", [  # PLAIN without TLS, and the stored SCRAM keys: on a server of one's own
        ("Wiretap.start(*lab.server.address)", f"this tap sits in your kernel between student01.juliet@{DOMAIN}"),
        ("Wiretap.start(*lab.server.address)", "went through STARTTLS too (TLS"),  # the proxy's leg to the class
        ("Wiretap.start(*lab.server.address)", "<proceed xmlns="),  # the tap's real bytes: plain up to here
        ("decoded(item)", "<auth>  y,,n=student01.juliet,r="),  # the SCRAM login to the class server
        ("Meet me at the chapel", f"student01.nurse@{DOMAIN}/kitchen"),  # the spoofed from...
        ("Meet me at the chapel", "invalid-from"),  # ...refused by the class server
        ("<!DOCTYPE", f"student01.tybalt@{DOMAIN}/street"),
        ("<!DOCTYPE", "restricted-xml"),
    ]),
    "13": ("db=str(DB)", [  # sign-ups and `xmpplab accounts` on a server of one's own; logged in, on the class's
        ("romeo.iq(", f"student01.romeo@{DOMAIN}/orchard"),  # Romeo's practice account changes its password
        ("romeo.jid.domain", f"to {DOMAIN} · version 1.0"),  # sign-ups closed on the class server...
        ("romeo.jid.domain", "stream error  not-authorized"),  # ...asking for the form ends the stream
        ("check(\"13.2\", remove)", "romeo still has an account: True"),  # (the blank answer sends nothing)
        ("tybalt.iq(", "<username>student01.tybalt</username>"),  # am I registered? on the class server
    ]),
    "16": (None, [  # no private Lab: Prosody and ejabberd are started in the kernel, beside the class server's column
        ("run_on_lab(lab)", f"slixmpp on xmpplab ({DOMAIN}): message delivered"),
        ('run_on("prosody")', "slixmpp on Prosody:"),
        ('run_on_lab(lab, "xmpp.js")', "auth "),  # the libraries' steps, logged in through the Lab's proxy
        ("login_for", f"Juliet is online as student01.juliet@{DOMAIN}/balcony"),  # exercise 16.1
    ]),
}


def _printed(cell) -> str:
    return "".join(out.get("text", "") + out.get("data", {}).get("text/plain", "") for out in cell.get("outputs", []))


def _ran_on_the_class_server_but_one_part(nb, private_code: str, on_class: list[tuple[str, str]]) -> None:
    """The part that needs a server of one's own ran privately and said so in one line; the cells named ran on
    the class server, as the practice accounts (not on the fallback private server)."""
    code = [c for c in nb.cells if c.cell_type == "code"]
    private = [c for c in code if private_code is not None and private_code in c.source]
    assert private or private_code is None, f"no cell holds {private_code}"
    for cell in code:
        said = _printed(cell)
        if cell in private:
            assert PART_NOTE in said and said.count("Working in the class") == 1, said
        else:
            assert PART_NOTE not in said, f"only the private part says it is private:\n{cell.source}"
    for source, printed in on_class:
        cells = [c for c in code if source in c.source]
        assert cells, f"no cell holds {source}"
        assert any(printed in _printed(c) for c in cells), \
            f"the cell with {source} did not run on the class server: {[_printed(c)[:800] for c in cells]}"


def _federated_with_the_class_server(nb, school) -> None:
    """Chapter 09's class deep dive: the student's own server (student01.class.example, in the kernel) reached
    the class server over one s2s stream of its own, proved its domain by certificate, and got the answer back
    on that stream (XEP-0288); the class server opened none."""
    said = "".join(_printed(c) for c in nb.cells if "federate_with_class()" in c.source)
    assert f"Your own server student01.{DOMAIN} runs in this kernel" in said, said
    assert "juliet got: Hello back, on your server's own stream!" in said, said
    events = school.call(lambda: list(school.s2s_events))
    assert {e.get("role") for e in events if e["type"] == "open"} == {"receiving"}  # the class server opened none
    came = "".join(e.get("data", "") for e in events if e.get("dir") == "in")
    went = "".join(e.get("data", "") for e in events if e.get("dir") == "out")
    assert f"from='student01.{DOMAIN}'" in came and "mechanism='EXTERNAL'" in came and "<bidi" in came
    assert "<success" in went and "Hello back, on your server's own stream!" in went


class ProfanityAccount:
    """Chapter 17's profanity cell, seen while the kernel still runs: the folder it printed holds the practice
    Romeo's account for profanity (the password is read there, to check the notebook never shows it)."""

    def __init__(self):
        self.printed = self.password = None

    def __call__(self, cell, **_):
        if cell.cell_type == "code" and "profanity_for(" in cell.source:
            self.printed = _printed(cell)
            folder = re.search(r"XDG_DATA_HOME=(\S+) profanity -a romeo", self.printed)
            assert folder, self.printed
            self.password = re.search(r"^password=(.+)$", (Path(folder[1]) / "profanity" / "accounts").read_text(),
                                      re.MULTILINE)[1]

    def check(self, text: str) -> None:
        """profanity logs in as the practice Romeo through the Lab's proxy, and its password is nowhere shown."""
        assert f"it logs in as student01.romeo@{DOMAIN} through your Lab's proxy on 127.0.0.1:" in self.printed
        assert f"/msg student01.nurse@{DOMAIN} Good morrow, Nurse" in self.printed, self.printed
        assert len(self.password) >= 10 and self.password not in text


def _resumed_and_shared_on_the_class_server(nb, school) -> None:
    """Chapter 18 on the class server: the tunnel lost the message without stream management and the class server
    resumed the phone's session through the Lab's proxy with it; the picture went up to the class server's HTTP port."""
    said = "".join(_printed(c) for c in nb.cells if "phone.cut()" in c.source)
    assert "Lost: the server wrote it into the dead connection." in said and "resumed: True ['Juliet?'," in said, said
    owners = school.call(lambda: [f.owner for f in school.server.uploads.files()])
    assert f"student01.juliet@{DOMAIN}" in owners, owners


def _fed_on_the_class_server(nb, school) -> None:
    """Chapter 15's node is the student's on the class's pubsub service: the practice accounts subscribed and got
    the reading, its owner read the subscriptions from the service, and the class server holds the node."""
    said = {source: "".join(_printed(c) for c in nb.cells if c.cell_type == "code" and source in c.source)
            for source in ("disco#items", "namespace=PUBSUB", "ask.format", "max_items='2'")}
    assert f"pubsub.{DOMAIN}" in said["disco#items"], said
    assert f"pubsub.{DOMAIN}" in said["namespace=PUBSUB"] and "'student01.greenhouse'" in said["namespace=PUBSUB"]
    assert f"'student01.nurse@{DOMAIN}', 'student01.romeo@{DOMAIN}'" in said["ask.format"], said
    assert "r3 23.0 °C" in said["max_items='2'"], said
    node = school.call(lambda: school.server.pubsub[f"pubsub.{DOMAIN}"]["student01.greenhouse"])
    assert node.owners == [f"student01.juliet@{DOMAIN}"]


def _errors(nb) -> list[str]:
    return [f"{out.get('ename')}: {out.get('evalue')} in cell:\n{cell.source[:300]}"
            for cell in nb.cells for out in cell.get("outputs", []) if out.get("output_type") == "error"]


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_the_chapter_runs_against_the_class_server(path, school, monkeypatch):
    from nbclient import NotebookClient

    for name, value in school.env.items():
        monkeypatch.setenv(name, value)
    nb = nbformat.read(path, as_version=4)
    profanity = ProfanityAccount()
    client = NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True, on_cell_executed=profanity,
                            resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute()
    errors = _errors(nb)
    assert not errors, "\n\n".join(errors)
    text = nbformat.writes(nb)
    assert school.password not in text  # the password is never in the notebook
    chapter = path.name[:2]
    assert (PRIVATE_NOTE in text) == (chapter in PRIVATE), f"chapter {chapter}: {PRIVATE_NOTE!r} said or not"
    if chapter not in PRIVATE | NO_LAB:
        assert re.search(rf"student01\.(juliet|user1|romeo|nurse)@{re.escape(DOMAIN)}", text), \
            "the chapter's people should be the student's practice accounts"  # 13 has no Juliet; 17 shows its Nurse
    if chapter in PARTLY_PRIVATE:
        _ran_on_the_class_server_but_one_part(nb, *PARTLY_PRIVATE[chapter])
    if chapter == "10":  # the password shown in clear is the private server's "secret", never a class account's
        plain = [_printed(c) for c in nb.cells if "private=True" in c.source]
        assert "\\x00romeo\\x00secret" in plain[0] and f"student01.romeo@{DOMAIN}" not in plain[0], plain
    if chapter == "09":
        _federated_with_the_class_server(nb, school)
    if chapter == "17":
        profanity.check(text)
    if chapter == "18":
        _resumed_and_shared_on_the_class_server(nb, school)
    if chapter == "15":
        _fed_on_the_class_server(nb, school)
    if chapter in PARTNER_CHAPTERS:  # nobody else asked: after the bounded wait, a practice account plays the partner
        assert f"No classmate asked for chapter {chapter} within 1 s: Benvolio (student01.benvolio" in text
    results = school.call(lambda: dict(school.server.class_progress.results.get(f"student01@{DOMAIN}", {})))
    if any(f'check("{chapter}.' in c.source or f"acheck(\"{chapter}." in c.source for c in nb.cells):
        assert any(ex.startswith(f"{chapter}.") for ex in results), f"no check of chapter {chapter} reached the class"
    if chapter == "10":
        assert {"10.1", "10.2"} <= set(results), results


def _student_env(school, student: str) -> dict:
    """The kernel environment of ``student``'s notebook: the handout's line and their password in a file."""
    secret = school.folder / f"{student}.password"
    secret.write_text(school.accounts[f"{student}@{DOMAIN}"] + "\n")
    secret.chmod(0o600)
    return {**os.environ, **school.env, "XMPPLAB_ACCOUNT": f"{student}@{DOMAIN}", "XMPPLAB_PASSWORD_FILE": str(secret),
            "XMPPLAB_PARTNER_WAIT": "120"}  # both notebooks reach the partner cell well within it


class Dashboard:
    """The teacher, logged in on the class server's loop: the progress headlines the dashboard shows."""

    def __init__(self, school):
        self.school = school

    def __enter__(self):
        from xmpplab.client import Client

        self.client = self.school.run(Client.connect(f"teacher@{DOMAIN}/dashboard",
                                                     self.school.accounts[f"teacher@{DOMAIN}"], host="127.0.0.1",
                                                     port=self.school.server.port, verify_tls=False))
        return self

    def passed(self, student: str, exercise: str) -> dict:
        """The progress headline saying ``student`` passed ``exercise`` (waits up to 10 s for it)."""
        from xmpplab.classroom.teacher import progress_of

        def wanted(m):
            p = progress_of(m) or {}
            return p.get("student") == f"{student}@{DOMAIN}" and p.get("exercise") == exercise and p.get("passed")
        return progress_of(self.school.run(self.client.next("message", predicate=wanted, timeout=10)))

    def __exit__(self, *exc):
        self.school.run(self.client.disconnect())


@pytest.mark.parametrize("chapter", PARTNER_CHAPTERS)
def test_two_students_notebooks_pair_with_each_other_and_both_checks_reach_the_teacher(chapter, school):
    """Two kernels run the chapter top to bottom at the same time, as student01 and student02: at the partner
    cell each is paired with the other through the class room (no practice partner), each does both sides, and
    the teacher's dashboard gets both students' partner exercise, passed."""
    from nbclient import NotebookClient

    path = next(NOTEBOOKS.glob(f"{chapter}-*.ipynb"))
    students = ("student01", "student02")
    books = {s: nbformat.read(path, as_version=4) for s in students}

    async def both():
        await asyncio.gather(*(NotebookClient(books[s], timeout=180, kernel_name="python3", allow_errors=True,
                                              resources={"metadata": {"path": str(NOTEBOOKS)}})
                               .async_execute(env=_student_env(school, s)) for s in students))

    with Dashboard(school) as teacher:
        asyncio.run(both())
        for student, other in zip(students, reversed(students), strict=True):
            nb = books[student]
            errors = _errors(nb)
            assert not errors, f"{student}: " + "\n\n".join(errors)
            cell = next(c for c in nb.cells if c.cell_type == "code" and f'lab.pair("{chapter}")' in c.source)
            said = _printed(cell)
            assert f"Your partner for chapter {chapter} is {other}@{DOMAIN}: you are both in the class room" in said
            assert "plays your partner" not in said and "well done" in said, said
            side = {"03": f"{student}@{DOMAIN} got 'Good morrow, partner!' from {other}.juliet@{DOMAIN}/balcony",
                    "06": f"{student}@{DOMAIN} approved {other}.juliet@{DOMAIN}'s request"}[chapter]
            assert side in said, said  # their own account did the partner's side for the other's Juliet
            assert teacher.passed(student, f"{chapter}.partner")["chapter"] == chapter
