"""The teacher's tools over XMPP only (xmpplab.classroom.Teacher): against a class server, and the
XEP-0133 parts against a real Prosody (mod_admin_adhoc)."""

import pytest

from tests.peers import INSTALL_HINT, need_program
from xmpplab.classroom import prepare_class, read_csv
from xmpplab.classroom.teacher import Teacher, progress_of
from xmpplab.client import Client, IqError
from xmpplab.server import Server
from xmpplab.server.core import DEFAULT_MODULES
from xmpplab.testing.prosody import ProsodyServer, prosody_path

DOMAIN = "class.example"


@pytest.fixture
async def school(tmp_path):
    """A class server with 3 students; yields (server, passwords by bare JID, connect(jid))."""
    server = await Server([DOMAIN], modules=(*DEFAULT_MODULES, "classwork", "classmates")).start()
    prepare_class(server, DOMAIN, 3, tmp_path / "class.csv")
    passwords = {str(a.jid): a.password for a in read_csv(tmp_path / "class.csv")}
    clients = []

    async def connect(jid):
        c = await Client.connect(jid, passwords[jid.partition("/")[0]], host="127.0.0.1", port=server.port,
                                 verify_tls=False)
        clients.append(c)
        return c

    try:
        yield server, passwords, connect
    finally:
        for c in clients:
            await c.disconnect()
        await server.stop()


async def test_the_teacher_sees_who_is_online_and_announces(school):
    server, passwords, connect = school
    teacher = Teacher(await connect(f"teacher@{DOMAIN}/dashboard"))
    s1 = await connect(f"student01@{DOMAIN}/laptop")
    await connect(f"student02@{DOMAIN}/phone")
    assert await teacher.online() == [f"student01@{DOMAIN}/laptop", f"student02@{DOMAIN}/phone",
                                      f"teacher@{DOMAIN}/dashboard"]
    assert await teacher.online_count() == 3 and await teacher.registered_count() == 4
    done = await teacher.announce("Back at ten.", subject="Break")
    assert done.status == "completed"
    msg = await s1.next("message", predicate=lambda m: m["type"] == "headline")
    assert msg["body"] == "Back at ten." and msg["subject"] == "Break"


async def test_the_teacher_resets_a_password_and_a_student_may_not(school):
    server, passwords, connect = school
    teacher = Teacher(await connect(f"teacher@{DOMAIN}/dashboard"))
    await teacher.reset_password(f"student03@{DOMAIN}", "lost-and-found")
    c = await Client.connect(f"student03@{DOMAIN}/laptop", "lost-and-found", host="127.0.0.1", port=server.port,
                             verify_tls=False)
    await c.disconnect()
    student = Teacher(await connect(f"student01@{DOMAIN}/laptop"))
    with pytest.raises(IqError) as refused:
        await student.reset_password(f"student02@{DOMAIN}", "mine-now")
    assert refused.value.condition == "forbidden"


async def test_progress_routing_and_a_transcript_reach_the_teacher(school):
    server, passwords, connect = school
    teacher_client = await connect(f"teacher@{DOMAIN}/dashboard")
    teacher = Teacher(teacher_client)
    s1, s2 = await connect(f"student01@{DOMAIN}/laptop"), await connect(f"student02@{DOMAIN}/laptop")
    await s1.iq(f"<iq type='set' to='{DOMAIN}'><progress xmlns='urn:xmpplab:class:0' chapter='01' "
                "exercise='01.2' passed='true' attempts='2'/></iq>")
    live = await teacher_client.next("message", predicate=lambda m: progress_of(m) is not None)
    assert progress_of(live) == {"student": f"student01@{DOMAIN}", "exercise": "01.2", "chapter": "01",
                                 "passed": True, "attempts": 2}
    assert await teacher.progress() == [progress_of(live)]
    await s1.send_message(f"student02@{DOMAIN}/laptop", "psst")
    await s2.next("message")
    assert {"from": f"student01@{DOMAIN}/laptop", "to": f"student02@{DOMAIN}/laptop", "kind": "message",
            "count": 1} in await teacher.routing()
    transcript = await teacher.transcript(f"student01@{DOMAIN}")
    assert any("psst" in (s.element.findtext("{jabber:client}body") or "")
               for s in transcript.stanzas(kind="message"))


@pytest.mark.peer
async def test_the_xep_0133_commands_work_against_prosody():
    need_program("prosody", prosody_path() is not None, f"apt-get install prosody, or run {INSTALL_HINT}")
    prosody = ProsodyServer(domains=["example.com"], extra_modules=("adhoc", "admin_adhoc", "announce"),
                            extra_config='admins = { "teacher@example.com" }')
    prosody.start()
    try:
        for user in ("teacher", "student01"):
            await prosody.aregister(user, "example.com", "secret")
        client = await Client.connect("teacher@example.com/dashboard", "secret", host=prosody.host,
                                      port=prosody.port, verify_tls=False)
        student = await Client.connect("student01@example.com/laptop", "secret", host=prosody.host,
                                       port=prosody.port, verify_tls=False)
        try:
            teacher = Teacher(client)
            nodes = {node for node, _ in await teacher.commands()}
            assert "http://jabber.org/protocol/admin#add-user" in nodes
            online = await teacher.online()
            assert any(j.startswith("student01@example.com") for j in online), online
            await teacher.add_user("student02@example.com", "pw2")
            c = await Client.connect("student02@example.com/laptop", "pw2", host=prosody.host, port=prosody.port,
                                     verify_tls=False)
            await c.disconnect()
            await teacher.reset_password("student02@example.com", "pw3")
            done = await teacher.announce("Back at ten.")
            assert done.status == "completed"
            msg = await student.next("message")
            assert msg["body"] == "Back at ten."
        finally:
            await client.disconnect()
            await student.disconnect()
    finally:
        prosody.stop()


async def test_the_dashboard_shows_the_class_and_acts_through_xmpp(school):
    from xmpplab.widgets import Dashboard
    server, passwords, connect = school
    teacher = Teacher(await connect(f"teacher@{DOMAIN}/dashboard"))
    s1, s2 = await connect(f"student01@{DOMAIN}/laptop"), await connect(f"student02@{DOMAIN}/phone")
    dash = Dashboard(teacher, interval=3600)  # refreshed by hand below, not by the clock
    try:
        await s1.send_message(f"student02@{DOMAIN}/phone", "psst")
        await s2.next("message")
        await dash.refresh()
        assert "student01@class.example" in dash.online_html.value and "laptop" in dash.online_html.value
        assert list(dash.student.options) == [f"student01@{DOMAIN}", f"student02@{DOMAIN}"]
        assert "student02@class.example/phone" in dash.routing_html.value
        # which client and transport each resource uses (the class's #online; XEP-0133 lists JIDs only)
        await s2.send_raw("<presence><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' "
                          "node='https://client.example/app' ver='QgayPKawpkPSDYmwT/WM94uAlu0='/></presence>")
        await s2.iq(f"<iq type='get' to='{DOMAIN}'><ping xmlns='urn:xmpp:ping'/></iq>")  # the presence is in
        await dash.refresh()
        phone = dash.clients[f"student02@{DOMAIN}/phone"]
        assert (phone["client"], phone["transport"], phone["secure"]) == ("https://client.example/app", "tcp", True)
        assert "client.example/app, TCP" in dash.online_html.value
        assert dash.clients[f"student01@{DOMAIN}/laptop"]["client"] == ""  # its presence named no client
        with pytest.raises(IqError) as refused:
            await Teacher(s2).clients()
        assert refused.value.condition == "forbidden"
        # a check reported by a student appears in the grid without a refresh (live headline)
        await s1.iq(f"<iq type='set' to='{DOMAIN}'><progress xmlns='urn:xmpplab:class:0' chapter='01' "
                    "exercise='01.2' passed='true' attempts='2'/></iq>")
        await teacher.client.next("message", predicate=lambda m: progress_of(m) is not None)
        assert dash.progress[(f"student01@{DOMAIN}", "01.2")]["passed"] is True
        assert "01.2" in dash.progress_html.value and "✓" in dash.progress_html.value
        # actions
        dash.student.value = f"student01@{DOMAIN}"
        await dash.load_transcript()
        assert "psst" in dash.transcript_html.value
        dash.announcement.value = "Back at ten."
        await dash.announce()
        assert (await s2.next("message", predicate=lambda m: m["type"] == "headline"))["body"] == "Back at ten."
        dash.student.value = f"student02@{DOMAIN}"
        dash.new_password.value = "fresh-one"
        await dash.reset_password()
        c = await Client.connect(f"student02@{DOMAIN}/again", "fresh-one", host="127.0.0.1", port=server.port,
                                 verify_tls=False)
        await c.disconnect()
    finally:
        dash.close()
    assert dash.closed


async def test_a_notebook_joins_the_class_and_its_checks_reach_the_teacher(school, monkeypatch):
    from xmpplab.classroom import join_class
    from xmpplab.course import check
    server, passwords, connect = school
    teacher = await connect(f"teacher@{DOMAIN}/dashboard")
    monkeypatch.setenv("XMPPLAB_SERVER", f"127.0.0.1:{server.port}")
    monkeypatch.setenv("XMPPLAB_ACCOUNT", f"student03@{DOMAIN}")
    asked = []
    monkeypatch.setattr("getpass.getpass", lambda prompt: asked.append(prompt) or passwords[f"student03@{DOMAIN}"])
    me = await join_class()
    again = await join_class()  # the password is asked once per kernel
    assert asked == [f"Password for student03@{DOMAIN}: "]
    try:
        assert not check("06.2", "<presence to='nurse@example.com' type='unsubscribe'/>")
        first = progress_of(await teacher.next("message", predicate=lambda m: progress_of(m) is not None))
        assert check("06.2", "<presence to='nurse@example.com' type='unsubscribed'/>")
        second = progress_of(await teacher.next("message", predicate=lambda m: progress_of(m) is not None))
        assert first["student"] == second["student"] == f"student03@{DOMAIN}"
        assert (first["exercise"], first["chapter"], first["passed"]) == ("06.2", "06", False)
        assert second["passed"] is True and second["attempts"] == first["attempts"] + 1
        # only the verdict travels: never the answer
        sent = "".join(e["data"] for c in (me, again) for e in c.events if e["type"] == "data" and e["dir"] == "out")
        assert "<progress" in sent and "nurse@example.com" not in sent
    finally:
        await me.disconnect()
        await again.disconnect()


async def test_join_class_without_a_server_says_how_in_one_sentence(monkeypatch):
    from xmpplab.classroom import ClassroomError, join_class
    monkeypatch.delenv("XMPPLAB_SERVER", raising=False)
    monkeypatch.delenv("XMPPLAB_ACCOUNT", raising=False)
    with pytest.raises(ClassroomError, match="set XMPPLAB_SERVER and XMPPLAB_ACCOUNT"):
        await join_class()


async def test_a_student_cannot_cancel_their_class_account_but_the_teacher_can_delete_it(school):
    """XEP-0077 <remove/> from a class account is refused (the class list, room and grid are made of them);
    the teacher's delete-user (XEP-0133) still works."""
    server, passwords, connect = school
    student = await connect(f"student01@{DOMAIN}/laptop")
    for to in ("", f" to='{DOMAIN}'"):
        with pytest.raises(IqError) as refused:
            await student.iq(f"<iq type='set'{to}><query xmlns='jabber:iq:register'><remove/></query></iq>")
        assert refused.value.condition == "not-allowed" and "teacher deletes it" in refused.value.text
    assert server.storage.account_exists(DOMAIN, "student01")
    await student.iq("<iq type='set'><query xmlns='jabber:iq:register'><password>mine-now-123</password>"
                     "</query></iq>")  # a password change stays the student's own business
    teacher = Teacher(await connect(f"teacher@{DOMAIN}/dashboard"))
    await teacher.delete_user(f"student01@{DOMAIN}")
    assert not server.storage.account_exists(DOMAIN, "student01")
