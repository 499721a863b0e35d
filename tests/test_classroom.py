"""The classroom (issue 12): a class's accounts, its list, its room and its handout, on a real server."""

import asyncio
import html
import os
import stat
import subprocess

import pytest

from tests.support import RawClient
from tests.support_classroom import rows, start_classroom
from tests.support_classroom import stop_classroom as stop
from tests.support_cli import XMPPLAB
from xmpplab.classroom import ClassroomError, certificate_fingerprint, prepare_class, read_csv, write_handout
from xmpplab.classroom.accounts import ALPHABET
from xmpplab.server import Server

DOMAIN = "class.example"
NS_MUC_USER = "http://jabber.org/protocol/muc#user"


@pytest.fixture
async def server(tmp_path):
    srv = await Server([DOMAIN], db=str(tmp_path / "class.sqlite")).start()
    try:
        yield srv
    finally:
        await srv.stop()


async def test_a_class_gets_a_teacher_and_numbered_students_with_typable_passwords(server, tmp_path):
    path = tmp_path / "accounts.csv"
    setup = prepare_class(server, DOMAIN, 12, path)
    listed = rows(path)
    assert [r["jid"] for r in listed] == [f"teacher@{DOMAIN}"] + [f"student{i:02d}@{DOMAIN}" for i in range(1, 13)]
    assert [r["role"] for r in listed] == ["teacher"] + ["student"] * 12
    for r in listed:
        assert len(r["password"]) >= 10 and set(r["password"]) <= set(ALPHABET)
    assert len({r["password"] for r in listed}) == 13
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert setup.created == 13 and len(server.accounts) == 13
    # a student logs in with the password from the list
    c = await RawClient.open(server.port)
    try:
        await c.login(f"student07@{DOMAIN}/laptop", listed[7]["password"])
    finally:
        await c.close()


def test_more_than_99_students_get_three_digits():
    from xmpplab.classroom import student_names
    names = student_names(120)
    assert names[0] == "student001" and names[98] == "student099" and names[-1] == "student120"


async def test_a_restart_with_the_same_database_and_list_keeps_every_password(tmp_path):
    db, path = str(tmp_path / "class.sqlite"), tmp_path / "accounts.csv"
    async with Server([DOMAIN], db=db) as first:
        prepare_class(first, DOMAIN, 3, path)
    before = rows(path)
    async with Server([DOMAIN], db=db) as again:
        setup = prepare_class(again, DOMAIN, 3, path)
        assert setup.reused_list and setup.created == 0
        assert rows(path) == before
        c = await RawClient.open(again.port)
        try:
            await c.login(f"student03@{DOMAIN}/laptop", before[3]["password"])
        finally:
            await c.close()


async def test_another_class_list_is_not_overwritten_without_force(server, tmp_path):
    path = tmp_path / "accounts.csv"
    prepare_class(server, DOMAIN, 3, path)
    before = path.read_text()
    with pytest.raises(ClassroomError, match="holds another class's accounts.*--force"):
        prepare_class(server, DOMAIN, 5, path)
    assert path.read_text() == before
    setup = prepare_class(server, DOMAIN, 5, path, force=True)
    assert len(read_csv(path)) == 6 and setup.created == 2


async def test_a_missing_list_for_a_class_already_in_the_database_is_refused(server, tmp_path):
    prepare_class(server, DOMAIN, 2, tmp_path / "accounts.csv")
    with pytest.raises(ClassroomError, match="passwords are unknown"):
        prepare_class(server, DOMAIN, 2, tmp_path / "other.csv")
    assert not (tmp_path / "other.csv").exists()


@pytest.mark.parametrize("students, domain, words", [
    (0, DOMAIN, "between 1 and 10,000 students, not 0"),
    (10_001, DOMAIN, "not 10001"),
    (3, "not a domain!", "is not a domain a class can use"),
    (3, "teacher@class.example", "is an address, not a domain"),
    (3, "other.example", "does not serve other.example"),
])
async def test_bad_arguments_get_one_sentence_and_touch_nothing(server, tmp_path, students, domain, words):
    path = tmp_path / "accounts.csv"
    with pytest.raises(ClassroomError, match=words):
        prepare_class(server, domain, students, path)
    assert not path.exists() and len(server.accounts) == 0


async def test_an_unwritable_list_is_refused_before_any_account(server, tmp_path):
    with pytest.raises(ClassroomError, match="folder .* does not exist"):
        prepare_class(server, DOMAIN, 2, tmp_path / "nowhere" / "accounts.csv")
    assert len(server.accounts) == 0


async def test_the_class_room_is_members_only_with_the_teacher_owner(server, tmp_path):
    setup = prepare_class(server, DOMAIN, 2, tmp_path / "accounts.csv")
    assert str(setup.room) == f"class@conference.{DOMAIN}"
    listed = rows(tmp_path / "accounts.csv")
    server.accounts.add(f"visitor@{DOMAIN}", "secret")
    student, outsider = await RawClient.open(server.port), await RawClient.open(server.port)
    try:
        await student.login(f"student01@{DOMAIN}/laptop", listed[1]["password"])
        await student.send(f"<presence to='class@conference.{DOMAIN}/student01'>"
                           "<x xmlns='http://jabber.org/protocol/muc'/></presence>")
        joined = await student.recv()
        assert joined.get("from") == f"class@conference.{DOMAIN}/student01" and joined.get("type") is None
        item = joined.find(f"{{{NS_MUC_USER}}}x/{{{NS_MUC_USER}}}item")
        assert item.get("affiliation") == "member"
        await outsider.login(f"visitor@{DOMAIN}/laptop", "secret")
        await outsider.send(f"<presence to='class@conference.{DOMAIN}/visitor'>"
                            "<x xmlns='http://jabber.org/protocol/muc'/></presence>")
        refused = await outsider.recv()
        assert refused.get("type") == "error"
        assert refused.find(".//{urn:ietf:params:xml:ns:xmpp-stanzas}registration-required") is not None
    finally:
        await student.close()
        await outsider.close()
    room = server.muc[f"conference.{DOMAIN}"].get(setup.room)
    assert room.affiliations[f"teacher@{DOMAIN}"].affiliation == "owner"


async def test_roster_all_puts_students_in_each_others_roster(server, tmp_path):
    prepare_class(server, DOMAIN, 3, tmp_path / "accounts.csv", roster_all=True)
    roster = server.storage.get_roster(f"student02@{DOMAIN}")
    assert sorted(roster) == [f"student01@{DOMAIN}", f"student03@{DOMAIN}"]
    assert {i.subscription for i in roster.values()} == {"both"}
    assert server.storage.get_roster(f"teacher@{DOMAIN}") == {}


async def test_without_roster_all_students_have_empty_rosters(server, tmp_path):
    prepare_class(server, DOMAIN, 3, tmp_path / "accounts.csv")
    assert server.storage.get_roster(f"student02@{DOMAIN}") == {}


async def test_the_handout_has_a_card_per_student_with_qr_and_the_certificate_fingerprint(server, tmp_path):
    setup = prepare_class(server, DOMAIN, 3, tmp_path / "accounts.csv")
    fingerprint = certificate_fingerprint(server)  # checked against a real handshake below
    page = write_handout(tmp_path / "handout.html", setup.accounts, host="10.0.0.5", port=5222, domain=DOMAIN,
                         fingerprint=fingerprint)
    text = page.read_text()
    assert stat.S_IMODE(os.stat(page).st_mode) == 0o600
    for account in setup.students:
        assert str(account.jid) in text and account.password in text
        assert f"xmpp:{account.jid}" in text
    assert setup.teacher.password not in text  # the teacher's card is not handed out
    assert text.count("<svg") == 3  # one QR code per card
    assert fingerprint in text
    assert f'xmpplab.Client.connect("student01@{DOMAIN}", getpass(), host="10.0.0.5", port=5222, ' \
           f'fingerprint="sha256:{fingerprint}")' in html.unescape(text)
    assert (f"XMPPLAB_SERVER=10.0.0.5:5222 XMPPLAB_ACCOUNT=student01@{DOMAIN} XMPPLAB_FINGERPRINT=sha256:{fingerprint} "
            "xmpplab lab") in text
    assert f"/connect student01@{DOMAIN} server 10.0.0.5 port 5222" in text


async def test_the_fingerprint_matches_the_certificate_seen_after_starttls(server):
    c = await RawClient.open(server.port)
    try:
        await c.open_stream(DOMAIN)
        await c.starttls(DOMAIN)
        der = c.writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
    finally:
        await c.close()
    import hashlib
    seen = hashlib.sha256(der).hexdigest().upper()
    assert certificate_fingerprint(server).replace(":", "") == seen


# the command ------------------------------------------------------------------------------------
async def test_one_command_serves_a_class_and_a_restart_keeps_it(tmp_path):
    proc, said = await start_classroom(tmp_path, "--students", "4")
    try:
        assert f"4 students of {DOMAIN} on 127.0.0.1:" in said
        port = int(said.split("on 127.0.0.1:")[1].split()[0])
        assert "certificate SHA-256 fingerprint: " in said and "class-handout.html" in said
        assert f"class@conference.{DOMAIN}" in said
        listed = rows(tmp_path / "class.csv")
        assert len(listed) == 5 and (tmp_path / "class-handout.html").exists()
        c = await RawClient.open(port)
        await c.login(f"student04@{DOMAIN}/laptop", listed[4]["password"])
        await c.close()
        # students' own servers (#federate) find a server-to-server port, TLS first and no dialback
        s2s = int(said.split("(chapter 09, #federate) connect to 127.0.0.1 port ")[1].split()[0])
        reader, writer = await asyncio.open_connection("127.0.0.1", s2s)
        writer.write(f"<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' "
                     f"from='student04.{DOMAIN}' to='{DOMAIN}' version='1.0'>".encode())
        features = b""
        while b"</stream:features>" not in features:
            features += await asyncio.wait_for(reader.read(4096), 10)
        assert b"<starttls" in features and b"dialback" not in features.split(b"<stream:features")[1]
        writer.close()
    finally:
        if proc.returncode is None:
            await stop(proc)
    proc, said = await start_classroom(tmp_path, "--students", "4", "--no-federation")
    try:
        assert "kept from the class list" in said and "0 account(s) created now" in said
        assert "#federate" not in said
        assert rows(tmp_path / "class.csv") == listed
    finally:
        if proc.returncode is None:
            await stop(proc)


@pytest.mark.parametrize("args, words", [
    (["--students", "0"], "between 1 and 10,000 students"),
    (["--students", "10001"], "between 1 and 10,000 students"),
    (["--students", "3", "--domain", "bad domain"], "is not a domain a class can use"),
    (["--students", "3", "--accounts", "/nonexistent/folder/c.csv"], "does not exist"),
    (["--students", "3", "--db", "/nonexistent/folder/c.sqlite"], "does not exist"),
    (["--students", "3", "--host", "10.1.2.3", "--no-tls"], "--no-tls works only with a loopback"),
])
def test_wrong_classroom_arguments_get_one_sentence(tmp_path, args, words):
    base = ["classroom", "--port", "0", "--domain", DOMAIN, "--db", str(tmp_path / "c.sqlite"),
            "--accounts", str(tmp_path / "c.csv")]
    result = subprocess.run(XMPPLAB + base + args, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 2, result.stdout
    assert words in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not (tmp_path / "c.csv").exists()


async def test_the_teacher_and_admins_administer_the_class_and_students_may_not(server, tmp_path):
    prepare_class(server, DOMAIN, 2, tmp_path / "accounts.csv", admins=[f"helper@{DOMAIN}"])
    listed = rows(tmp_path / "accounts.csv")
    count = (f"<iq type='set' id='n' to='{DOMAIN}'><command xmlns='http://jabber.org/protocol/commands' "
             "node='http://jabber.org/protocol/admin#get-registered-users-num'/></iq>")
    teacher, student = await RawClient.open(server.port), await RawClient.open(server.port)
    try:
        await teacher.login(f"teacher@{DOMAIN}/desk", listed[0]["password"])
        done = await teacher.request(count)
        assert done.get("type") == "result"
        assert done.find(".//{jabber:x:data}field[@var='registeredusersnum']/{jabber:x:data}value").text == "3"
        await student.login(f"student01@{DOMAIN}/laptop", listed[1]["password"])
        refused = await student.request(count)
        assert refused.find(".//{urn:ietf:params:xml:ns:xmpp-stanzas}forbidden") is not None
    finally:
        await teacher.close()
        await student.close()
    assert server.adhoc.admins == {f"teacher@{DOMAIN}", f"helper@{DOMAIN}"}


async def test_a_class_behind_one_address_is_not_refused_by_the_connection_limit(tmp_path):
    """A whole class (and its teacher) from one address, as behind a school's NAT: with the per-address
    limits applied (--limit-loopback), the classroom raises the connection limit to fit the class."""
    proc, said = await start_classroom(tmp_path, "--students", "110", "--limit-loopback")
    try:
        port = int(said.split("on 127.0.0.1:")[1].split()[0])
        listed = rows(tmp_path / "class.csv")
        clients = []
        try:
            for row in listed[:106]:  # more than the default of 100 per address
                c = await RawClient.open(port)
                clients.append(c)
                await c.login(f"{row['jid']}/laptop", row["password"], tls=True)
            assert len(clients) == 106
        finally:
            for c in clients:
                await c.close()
    finally:
        if proc.returncode is None:
            await stop(proc)
