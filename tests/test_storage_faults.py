"""Storage faults (issue 10, item 5): a write the database refuses is answered, not dropped.

RFC 6120 8.3.3: a full disk is ``resource-constraint`` (type wait: try again
later); a database that cannot be written at all (read-only file or mount,
damaged file) is ``internal-server-error``. The connection and the server stay
up, everyone else is unaffected, the fault is logged in one line (a traceback
in the log means a bug), and what was stored before is intact.

How the faults are made:

* **Full disk**: SQLite's ``PRAGMA max_page_count`` on the server's own
  connection; a write that needs a new page then fails with SQLITE_FULL,
  "database or disk is full", the very error a full file system gives
  (``test_a_real_full_file_system`` checks that on a small tmpfs).
* **Read-only at run time**: ``PRAGMA query_only`` on the server's connection
  gives SQLITE_READONLY, as a disk remounted read-only under a running server does.
* **Read-only at start**: a database file the server process cannot write
  (``chattr +i`` as root, where permissions do not stop writes; mode 0444
  otherwise), and a folder mounted read-only (a bind mount in ``unshare -m``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from contextlib import contextmanager

import pytest

from tests.support import RawClient
from xmpplab.server import Server
from xmpplab.server.core import DEFAULT_MODULES
from xmpplab.server.modules.mam import ARCHIVE

STANZAS = "{urn:ietf:params:xml:ns:xmpp-stanzas}"
ROSTER = "jabber:iq:roster"
REGISTER = "jabber:iq:register"
MUC_OWNER, MUC_ADMIN = "http://jabber.org/protocol/muc#owner", "http://jabber.org/protocol/muc#admin"
ROOM = "garden@conference.example.com"
USERS = ("juliet@example.com", "romeo@example.com", "nurse@example.com")
PING = "<iq type='get' id='{id}' to='example.com'><ping xmlns='urn:xmpp:ping'/></iq>"


# making faults ----------------------------------------------------------------------------------
def fill_disk(server) -> None:
    """Fill the database file to its last page and forbid it to grow.

    A row bigger than a page (4 KB) then always needs a new page and fails with SQLITE_FULL;
    small rows still fit in the free space left in their table's pages, as on a real full disk.
    """
    filler = sqlite3.connect(server.db_path, isolation_level=None)
    try:
        filler.execute("CREATE TABLE IF NOT EXISTS filler (x BLOB)")
        pages = filler.execute("PRAGMA page_count").fetchone()[0]
        filler.execute(f"PRAGMA max_page_count={pages + 4}")
        for size in (2048, 256, 32, 1):
            while True:
                try:
                    filler.execute("INSERT INTO filler VALUES (randomblob(?))", (size,))
                except sqlite3.OperationalError:
                    break
        pages = filler.execute("PRAGMA page_count").fetchone()[0]
    finally:
        filler.close()
    server.storage._exec(f"PRAGMA max_page_count={pages}")


def free_disk(server) -> None:
    server.storage._exec("PRAGMA max_page_count=1073741823")


@contextmanager
def read_only(server):
    """The database refuses every write (SQLITE_READONLY), as on a disk remounted read-only."""
    server.storage._exec("PRAGMA query_only=ON")
    try:
        yield
    finally:
        server.storage._exec("PRAGMA query_only=OFF")


# checking ----------------------------------------------------------------------------------------
def condition(el) -> tuple[str, str]:
    """(error type, defined condition) of a stanza error."""
    err = el.find("{jabber:client}error")
    assert err is not None and el.get("type") == "error", el
    names = [c.tag[len(STANZAS):] for c in err if c.tag.startswith(STANZAS) and not c.tag.endswith("}text")]
    return err.get("type"), names[0]


async def still_up(client, n: int = 0) -> None:
    """A ping round trip on the same stream: it was not dropped."""
    pong = await client.request(PING.format(id=f"alive{n}"))
    assert pong.get("type") == "result"


def no_traceback(caplog) -> None:
    bad = [r for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]
    assert not bad, [r.getMessage() for r in bad]


def one_line_about(caplog, *words) -> None:
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert any(all(w in line for w in words) for line in lines), lines
    assert all("\n" not in line for line in lines), lines


@pytest.fixture
async def server(tmp_path, caplog):
    caplog.set_level(logging.INFO)
    srv = Server(["example.com"], db=str(tmp_path / "lab.sqlite"), register=True)
    await srv.start()
    for user in USERS:
        srv.accounts.add(user, "secret")
    try:
        yield srv
    finally:
        await srv.stop()


@pytest.fixture
async def clients(server):
    opened = []

    async def make(jid=None):
        c = await RawClient.open(server.port)
        opened.append(c)
        if jid:
            await c.login(jid)
        return c

    yield make
    for c in opened:
        await c.close()


def restart(server) -> Server:
    return Server(["example.com"], db=server.db_path, register=True)


# full disk ------------------------------------------------------------------------------------------
async def test_registration_on_a_full_disk_is_answered_and_the_stream_stays(server, clients, caplog):
    c = await clients()
    await c.open_stream()
    fill_disk(server)
    register = "<iq type='set' id='{id}'><query xmlns='jabber:iq:register'>" \
               "<username>{user}</username><password>pw</password></query></iq>"
    registered = []
    for n in range(200):  # new accounts fill the free space of the accounts' pages, then the disk is full
        reply = await c.request(register.format(id=f"r{n}", user=f"{'t' * 1000}{n}"))
        if reply.get("type") == "error":
            break
        registered.append(f"{'t' * 1000}{n}@example.com")
    assert condition(reply) == ("wait", "resource-constraint")
    assert not server.accounts.exists(f"{'t' * 1000}{n}@example.com")
    # The stream is still open: the registration form is served on it, and others log in meanwhile.
    form = await c.request("<iq type='get' id='form'><query xmlns='jabber:iq:register'/></iq>")
    assert form.get("type") == "result"
    other = await clients("juliet@example.com/balcony")
    await still_up(other)
    no_traceback(caplog)
    one_line_about(caplog, "full")
    # Space again: the same stream registers, and the account survives a restart.
    free_disk(server)
    assert (await c.request(register.format(id="r2", user="tybalt"))).get("type") == "result"
    await server.stop()
    async with restart(server) as again:
        assert again.accounts.check("tybalt@example.com", "pw")
        assert again.accounts.list() == sorted([*USERS, *registered, "tybalt@example.com"])


async def test_roster_set_on_a_full_disk_gets_an_error_not_a_result(server, clients, caplog):
    juliet = await clients("juliet@example.com/balcony")
    nurse = await clients("nurse@example.com/desk")
    add = "<iq type='set' id='{id}'><query xmlns='jabber:iq:roster'><item jid='{jid}' name='{name}'>{groups}" \
          "</item></query></iq>"
    reply = await juliet.request(add.format(id="a1", jid="romeo@example.com", name="Romeo", groups=""))
    assert reply.get("type") == "result"
    fill_disk(server)
    big = "".join(f"<group>{g * 1000}</group>" for g in "ABCDEF")  # a row bigger than a page
    reply = await juliet.request(add.format(id="a2", jid="tybalt@example.com", name="Tybalt", groups=big))
    assert condition(reply) == ("wait", "resource-constraint")
    await still_up(juliet)
    await still_up(nurse)
    no_traceback(caplog)
    one_line_about(caplog, "full")
    free_disk(server)
    reply = await juliet.request(add.format(id="a3", jid="tybalt@example.com", name="Tybalt", groups=big))
    assert reply.get("type") == "result"
    await server.stop()
    async with restart(server) as again:
        assert [(i.contact, i.name) for i in again.roster.items("juliet@example.com")] == \
            [("romeo@example.com", "Romeo"), ("tybalt@example.com", "Tybalt")]


async def test_a_subscription_request_on_a_full_disk_is_bounced_with_an_error(server, clients, caplog):
    juliet = await clients("juliet@example.com/balcony")
    await juliet.send("<presence/>")
    assert (await juliet.recv()).tag == "{jabber:client}presence"  # her own, reflected (RFC 6121 4.2.2)
    fill_disk(server)
    # RFC 6121 3.1.3: the request is stored whole for romeo; this one is bigger than a page.
    await juliet.send("<presence to='romeo@example.com' type='subscribe' id='s1'>"
                      f"<nick xmlns='http://jabber.org/protocol/nick'>{'n' * 6000}</nick></presence>")
    bounced = await juliet.recv()
    if bounced.get("type") == "unavailable":  # romeo's server may answer a request with it first (RFC 6121 3.1.3)
        bounced = await juliet.recv()
    assert bounced.tag == "{jabber:client}presence" and bounced.get("id") == "s1"
    assert condition(bounced) == ("wait", "resource-constraint")
    await still_up(juliet)
    no_traceback(caplog)


async def test_an_offline_message_on_a_full_disk_is_bounced_and_nothing_stored_is_lost(server, clients, caplog):
    juliet = await clients("juliet@example.com/balcony")
    await juliet.send("<message to='romeo@example.com' type='chat' id='m1'><body>first</body></message>")
    await still_up(juliet, 1)
    fill_disk(server)
    await juliet.send(f"<message to='romeo@example.com' type='chat' id='m2'><body>{'x' * 6000}</body></message>")
    bounced = await juliet.recv()
    assert bounced.tag == "{jabber:client}message" and bounced.get("id") == "m2"
    assert condition(bounced) == ("wait", "resource-constraint")
    await still_up(juliet, 2)
    no_traceback(caplog)
    free_disk(server)
    await server.stop()
    async with restart(server) as again:
        romeo = await RawClient.open(again.port)
        await romeo.login("romeo@example.com/orchard")
        await romeo.send("<presence/>")
        bodies = []
        while True:
            el = await romeo.recv()
            if el.tag == "{jabber:client}message":
                bodies.append(el.findtext("{jabber:client}body"))
                await romeo.send(PING.format(id="after"))
            elif el.get("id") == "after":
                break
        assert bodies == ["first"]
        await romeo.close()


async def test_a_persistent_room_keeps_its_stored_members_when_a_change_cannot_be_stored(
        tmp_path, caplog):
    caplog.set_level(logging.INFO)
    db = str(tmp_path / "lab.sqlite")
    modules = DEFAULT_MODULES if "muc" in DEFAULT_MODULES else (*DEFAULT_MODULES, "muc")
    async with Server(["example.com"], db=db, modules=modules) as srv:
        for user in USERS:
            srv.accounts.add(user, "secret")
        juliet = await RawClient.open(srv.port)
        await juliet.login("juliet@example.com/balcony")
        await juliet.send(f"<presence to='{ROOM}/juliet'><x xmlns='http://jabber.org/protocol/muc'/></presence>")
        config = (f"<iq type='set' id='cfg' to='{ROOM}'><query xmlns='{MUC_OWNER}'><x xmlns='jabber:x:data' "
                  "type='submit'><field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig</value>"
                  "</field><field var='muc#roomconfig_persistentroom'><value>1</value></field></x></query></iq>")
        assert (await juliet.request(config)).get("type") == "result"
        member = ("<iq type='set' id='{id}' to='" + ROOM + "'><query xmlns='" + MUC_ADMIN + "'>"
                  "<item affiliation='member' jid='{jid}'><reason>{reason}</reason></item></query></iq>")
        assert (await juliet.request(member.format(id="m1", jid="romeo@example.com", reason="r"))).get("type") \
            == "result"
        fill_disk(srv)
        reply = await juliet.request(member.format(id="m2", jid="nurse@example.com", reason="n" * 6000))
        assert condition(reply) == ("wait", "resource-constraint")
        await still_up(juliet)
        no_traceback(caplog)
        free_disk(srv)
        await juliet.close()
    async with Server(["example.com"], db=db, modules=modules) as again:
        room = again.muc["conference.example.com"][ROOM]
        affiliations = {j: a.affiliation for j, a in room.affiliations.items()}
        assert affiliations["juliet@example.com"] == "owner"
        assert affiliations["romeo@example.com"] == "member"


# read-only at run time ------------------------------------------------------------------------------
async def test_password_change_on_a_read_only_database_is_an_internal_server_error(server, clients, caplog):
    juliet = await clients("juliet@example.com/balcony")
    with read_only(server):
        reply = await juliet.request("<iq type='set' id='pw' to='example.com'><query xmlns='jabber:iq:register'>"
                                     "<username>juliet</username><password>new</password></query></iq>")
        assert condition(reply) == ("cancel", "internal-server-error")
        await still_up(juliet)
    assert server.accounts.check("juliet@example.com", "secret")
    no_traceback(caplog)
    one_line_about(caplog, "read")


async def test_account_removal_on_a_read_only_database_keeps_the_account_and_the_stream(server, clients, caplog):
    juliet = await clients("juliet@example.com/balcony")
    with read_only(server):
        reply = await juliet.request("<iq type='set' id='rm' to='example.com'>"
                                     "<query xmlns='jabber:iq:register'><remove/></query></iq>")
        assert condition(reply) == ("cancel", "internal-server-error")
        await still_up(juliet)
    assert server.accounts.exists("juliet@example.com")
    no_traceback(caplog)
    # Writable again: the removal works as XEP-0077 3.2 says (result, then the stream is closed).
    reply = await juliet.request("<iq type='set' id='rm2' to='example.com'>"
                                 "<query xmlns='jabber:iq:register'><remove/></query></iq>")
    assert reply.get("type") == "result"
    assert not server.accounts.exists("juliet@example.com")


async def test_roster_remove_on_a_read_only_database(server, clients, caplog):
    juliet = await clients("juliet@example.com/balcony")
    add = "<iq type='set' id='a1'><query xmlns='jabber:iq:roster'><item jid='romeo@example.com'/></query></iq>"
    assert (await juliet.request(add)).get("type") == "result"
    with read_only(server):
        reply = await juliet.request("<iq type='set' id='rm'><query xmlns='jabber:iq:roster'>"
                                     "<item jid='romeo@example.com' subscription='remove'/></query></iq>")
        assert condition(reply) == ("cancel", "internal-server-error")
        await still_up(juliet)
    assert [i.contact for i in server.roster.items("juliet@example.com")] == ["romeo@example.com"]
    no_traceback(caplog)



async def test_offline_delivery_on_a_read_only_database_keeps_the_messages_and_the_stream(server, clients, caplog):
    juliet = await clients("juliet@example.com/balcony")
    for n in range(3):
        await juliet.send(f"<message to='romeo@example.com' type='chat'><body>m{n}</body></message>")
    await still_up(juliet)
    romeo = await clients("romeo@example.com/orchard")
    with read_only(server):
        await romeo.send("<presence/>")  # delivery would delete the stored messages: refused
        await still_up(romeo)
    assert server.storage.count_offline("romeo@example.com") == 3
    no_traceback(caplog)
    one_line_about(caplog, "read")
    again = await clients("romeo@example.com/garden")
    await again.send("<presence/>")
    await again.send(PING.format(id="after"))
    bodies = []
    while (el := await again.recv()).get("id") != "after":
        if el.tag == "{jabber:client}message":
            bodies.append(el.findtext("{jabber:client}body"))
    assert bodies == ["m0", "m1", "m2"]

# a bug while reading one connection's input ------------------------------------------------------
async def test_a_bug_closes_only_that_connection_with_internal_server_error(server, clients, caplog):
    other = await clients("nurse@example.com/desk")
    c = await clients()
    await c.open_stream()

    def broken(event):
        raise ZeroDivisionError("a bug")

    server.hook("pre-auth/iq/jabber:iq:register:query", broken, priority=10)  # before the registration module
    await c.send("<iq type='get' id='r'><query xmlns='jabber:iq:register'/></iq>")
    err = await c.recv()
    assert err.tag == "{http://etherx.jabber.org/streams}error"
    assert err.find("{urn:ietf:params:xml:ns:xmpp-streams}internal-server-error") is not None
    assert await c.recv() in ("</stream:stream>", "EOF")
    await still_up(other)
    logged = [r for r in caplog.records if r.exc_info]
    assert len(logged) == 1 and "ZeroDivisionError" in logged[0].exc_text
    assert logged[0].name == "xmpplab.server"



@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-1"])
async def test_a_storage_fault_during_login_is_a_temporary_auth_failure_in_one_line(
        server, clients, caplog, monkeypatch, mechanism):
    """A read the database refuses during login (a damaged file, say): RFC 6120 6.5.12 temporary-auth-failure,
    and the stream stays open for another try."""
    other = await clients("nurse@example.com/desk")

    def damaged(domain, username):  # as the storage reports a damaged file: one line, then the fault
        raise server.storage._db._failed(sqlite3.DatabaseError("database disk image is malformed"), "SELECT")

    monkeypatch.setattr(server.storage, "get_account", damaged)
    c = await clients()
    await c.open_stream()
    first = {"PLAIN": "AGp1bGlldABzZWNyZXQ=", "SCRAM-SHA-1": "biwsbj1qdWxpZXQscj1hYmNkZWZnaGlqa2xtbm9w"}[mechanism]
    await c.send(f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='{mechanism}'>{first}</auth>")
    failure = await c.recv()
    assert failure.tag == "{urn:ietf:params:xml:ns:xmpp-sasl}failure", failure
    assert failure.find("{urn:ietf:params:xml:ns:xmpp-sasl}temporary-auth-failure") is not None
    monkeypatch.undo()  # the database is back: the same stream logs in
    await c.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGp1bGlldABzZWNyZXQ=</auth>")
    assert (await c.recv()).tag == "{urn:ietf:params:xml:ns:xmpp-sasl}success"
    await still_up(other)
    no_traceback(caplog)
    one_line_about(caplog, "malformed")

# read-only at start ------------------------------------------------------------------------------
@contextmanager
def unwritable_file(path):
    """A database file this process cannot write: immutable as root (permissions do not stop root)."""
    made = Server(["example.com"], db=str(path))  # a valid database, with its schema and one account
    made.accounts.add("juliet@example.com", "secret")
    made.storage.close()
    for extra in ("-wal", "-shm"):
        if os.path.exists(f"{path}{extra}"):
            os.remove(f"{path}{extra}")
    if os.geteuid() == 0:
        if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(path)]).returncode:
            pytest.skip("as root only an immutable file (chattr +i) is unwritable, and chattr is unavailable here")
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", str(path)])
    else:
        os.chmod(path, 0o444)
        try:
            yield
        finally:
            os.chmod(path, 0o644)


def test_a_server_on_an_unwritable_database_refuses_to_start_in_one_sentence(tmp_path):
    db = tmp_path / "lab.sqlite"
    with unwritable_file(db), pytest.raises(OSError) as refused:
        Server(["example.com"], db=str(db))
    message = str(refused.value)
    assert str(db) in message and "cannot be written" in message and "\n" not in message


def test_serve_on_an_unwritable_database_prints_one_sentence_and_exits_2(tmp_path):
    db = tmp_path / "lab.sqlite"
    with unwritable_file(db):
        run = subprocess.run([sys.executable, "-m", "xmpplab", "serve", "--port", "0", "--db", str(db)],
                             capture_output=True, text=True, timeout=20)
    assert run.returncode == 2, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("xmpplab: ") and "cannot be written" in lines[0], run.stderr


def _unshare_ok() -> bool:
    return os.geteuid() == 0 and shutil.which("unshare") is not None and \
        subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode == 0


needs_mount_namespace = pytest.mark.skipif(not _unshare_ok(), reason="needs root and unshare -m "
                                           "(a private mount namespace) to mount a read-only folder or a tmpfs")


@needs_mount_namespace
def test_serve_in_a_read_only_folder_prints_one_sentence_and_exits_2(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    Server(["example.com"], db=str(folder / "lab.sqlite")).storage.close()
    script = (f"mount --bind {folder} {folder} && mount -o remount,bind,ro {folder} && "
              f"exec {sys.executable} -m xmpplab serve --port 0 --db {folder}/lab.sqlite")
    run = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script],
                         capture_output=True, text=True, timeout=60, cwd=os.getcwd())
    assert run.returncode == 2, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("xmpplab: "), run.stderr


@needs_mount_namespace
async def test_a_real_full_file_system(tmp_path):
    """``xmpplab serve`` with its database on a small tmpfs (in a private mount namespace, gone with it): room for
    the empty database the server makes (its size grows with the modules' tables) and 320 KB more."""
    empty = tmp_path / "empty.sqlite"
    Server(["example.com"], db=str(empty)).storage.close()
    size_k = empty.stat().st_size // 1024 + 320
    folder = tmp_path / "small"
    folder.mkdir()
    script = (f"mount -t tmpfs -o size={size_k}k tmpfs {folder} && "
              f"exec {sys.executable} -m xmpplab serve --port 0 --register --no-tls --db {folder}/lab.sqlite")
    proc = await asyncio.create_subprocess_exec(
        "unshare", "-m", "--propagation", "private", "sh", "-c", script, cwd=os.getcwd(),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    clients = []
    try:
        first = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        assert " serving " in first, first + (await proc.stderr.read()).decode()
        port = int(first.rsplit(":", 1)[1])
        c = await RawClient.open(port)
        clients.append(c)
        await c.open_stream()
        for n in range(400):
            reply = await c.request(f"<iq type='set' id='r{n}'><query xmlns='jabber:iq:register'><username>"
                                    f"{'u' * 1000}{n}</username><password>pw</password></query></iq>")
            if reply.get("type") == "error":
                break
        assert n > 0 and condition(reply) == ("wait", "resource-constraint")  # accepted until the disk was full
        form = await c.request("<iq type='get' id='form'><query xmlns='jabber:iq:register'/></iq>")
        assert form.get("type") == "result"  # the stream is still up
        other = await RawClient.open(port)  # and the server accepts others
        clients.append(other)
        assert (await other.open_stream()).tag == "{http://etherx.jabber.org/streams}features"
    finally:
        for c in clients:
            await c.close()
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(proc.wait(), 15)
        except TimeoutError:
            proc.kill()
            await proc.wait()
    log = (await proc.stderr.read()).decode()
    assert "Traceback" not in log, log
    assert "database or disk is full" in log, log


def test_accounts_add_on_an_unwritable_database_prints_one_sentence_and_exits_2(tmp_path):
    db = tmp_path / "lab.sqlite"
    with unwritable_file(db):
        run = subprocess.run([sys.executable, "-m", "xmpplab", "accounts", "add", "tybalt@example.com",
                              "--db", str(db), "--password", "pw"], capture_output=True, text=True, timeout=20)
        listed = subprocess.run([sys.executable, "-m", "xmpplab", "accounts", "list", "--db", str(db)],
                                capture_output=True, text=True, timeout=20)
    assert run.returncode == 2, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("xmpplab: ") and "cannot be written" in lines[0], run.stderr
    assert listed.returncode == 0 and listed.stdout.split() == ["juliet@example.com"], listed.stderr


async def test_a_full_disk_loses_only_the_archive_copy_and_says_so_in_one_line(server, clients, caplog):
    """XEP-0313: the message is delivered; its history copy cannot be written, which one log line says."""
    juliet = await clients("juliet@example.com/balcony")
    romeo = await clients("romeo@example.com/orchard")
    for who in ("juliet@example.com", "romeo@example.com"):
        ARCHIVE.of(server).use(who)  # their clients use the archive (they asked for it once)
    await romeo.send("<presence/>")
    await still_up(romeo, 1)
    fill_disk(server)
    await juliet.send(f"<message to='romeo@example.com/orchard' type='chat' id='m1'><body>{'x' * 6000}</body>"
                      "</message>")
    got = await romeo.recv()
    while got.tag != "{jabber:client}message":  # his own presence, echoed back, may come first
        got = await romeo.recv()
    assert got.get("id") == "m1"  # delivered all the same
    ARCHIVE.of(server).flush()  # what the batch timer does a few milliseconds later
    one_line_about(caplog, "2 messages were not archived", "full")
    no_traceback(caplog)
    await still_up(juliet, 2)
