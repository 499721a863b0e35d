"""XEP-0050 ad-hoc commands and XEP-0133 service administration: a teacher runs them, a student may not."""

import pytest

from tests.support import RawClient
from xmpplab.server import Server
from xmpplab.server.core import DEFAULT_MODULES
from xmpplab.xml import serialize

NS_CMD = "http://jabber.org/protocol/commands"
NS_ADMIN = "http://jabber.org/protocol/admin"
NS_DATA = "jabber:x:data"
NS_ITEMS = "http://jabber.org/protocol/disco#items"
NS_INFO = "http://jabber.org/protocol/disco#info"
STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
DOMAIN = "class.example"


@pytest.fixture
async def lab():
    server = await Server([DOMAIN], modules=(*DEFAULT_MODULES, "classwork")).start()
    server.adhoc.admins.add(f"teacher@{DOMAIN}")
    for name in ("teacher", "student01", "student02"):
        server.accounts.add(f"{name}@{DOMAIN}", "secret")
    clients = []

    async def login(jid):
        c = await RawClient.open(server.port)
        clients.append(c)
        await c.login(jid)
        return c

    try:
        yield server, login
    finally:
        for c in clients:
            await c.close()
        await server.stop()


def condition(reply):
    err = reply.find("{jabber:client}error")
    return next(etree_local(c) for c in err if c.tag.startswith(f"{{{STANZAS}}}"))


def etree_local(el):
    return el.tag.rpartition("}")[2]


def field_values(x):
    return {f.get("var"): [v.text for v in f.findall(f"{{{NS_DATA}}}value")] for f in x.findall(f"{{{NS_DATA}}}field")}


async def run(client, name, fields=None, sid=None, action=None):
    """One step of a command: execute (no fields), or submit fields in the session ``sid``."""
    attrs = f" node='{NS_ADMIN}#{name}'" + (f" sessionid='{sid}'" if sid else "") + \
        (f" action='{action}'" if action else "")
    form = ""
    if fields is not None:
        form = f"<x xmlns='{NS_DATA}' type='submit'>" + "".join(
            f"<field var='{k}'>" + "".join(f"<value>{v}</value>" for v in (vs if isinstance(vs, list) else [vs]))
            + "</field>" for k, vs in fields.items()) + "</x>"
    return await client.request(f"<iq type='set' id='c' to='{DOMAIN}'><command xmlns='{NS_CMD}'{attrs}>{form}"
                                "</command></iq>")


async def run_through(client, name, fields):
    """Execute, check the form asks for these fields, submit them: the completed <command/>."""
    first = await run(client, name)
    assert first.get("type") == "result", serialize(first)
    cmd = first.find(f"{{{NS_CMD}}}command")
    assert cmd.get("status") == "executing"
    asked = field_values(cmd.find(f"{{{NS_DATA}}}x"))
    assert set(fields) <= set(asked), asked
    done = await run(client, name, fields, sid=cmd.get("sessionid"))
    assert done.get("type") == "result", serialize(done)
    cmd = done.find(f"{{{NS_CMD}}}command")
    assert cmd.get("status") == "completed"
    return cmd


async def test_the_teacher_lists_the_admin_commands_a_student_only_their_transcript(lab):
    server, login = lab
    teacher, student = await login(f"teacher@{DOMAIN}/desk"), await login(f"student01@{DOMAIN}/laptop")
    ask = f"<iq type='get' id='d' to='{DOMAIN}'><query xmlns='{NS_ITEMS}' node='{NS_CMD}'/></iq>"
    items = (await teacher.request(ask)).find(f"{{{NS_ITEMS}}}query")
    nodes = {i.get("node") for i in items}
    assert {f"{NS_ADMIN}#{n}" for n in ("add-user", "delete-user", "change-user-password", "end-user-session",
                                         "get-registered-users-num", "get-online-users-num",
                                         "get-online-users-list", "announce")} <= nodes
    student_sees = [i.get("node") for i in (await student.request(ask)).find(f"{{{NS_ITEMS}}}query")]
    assert student_sees == ["urn:xmpplab:class:0#transcript"]  # their own streams, nothing to administer
    info = await teacher.request(f"<iq type='get' id='i' to='{DOMAIN}'><query xmlns='{NS_INFO}'/></iq>")
    assert NS_CMD in {f.get("var") for f in info.iter(f"{{{NS_INFO}}}feature")}
    node_info = await teacher.request(f"<iq type='get' id='n' to='{DOMAIN}'><query xmlns='{NS_INFO}' "
                                      f"node='{NS_ADMIN}#announce'/></iq>")
    identity = node_info.find(f"{{{NS_INFO}}}query/{{{NS_INFO}}}identity")
    assert (identity.get("category"), identity.get("type")) == ("automation", "command-node")


@pytest.mark.parametrize("name", ["add-user", "delete-user", "change-user-password", "end-user-session",
                                  "get-registered-users-num", "get-online-users-num", "get-online-users-list",
                                  "announce"])
async def test_a_student_gets_forbidden_for_each(lab, name):
    server, login = lab
    student = await login(f"student01@{DOMAIN}/laptop")
    reply = await run(student, name)
    assert reply.get("type") == "error" and condition(reply) == "forbidden"


async def test_add_user_then_the_new_account_logs_in(lab):
    server, login = lab
    teacher = await login(f"teacher@{DOMAIN}/desk")
    cmd = await run_through(teacher, "add-user", {"accountjid": f"student03@{DOMAIN}", "password": "pw3",
                                                  "password-verify": "pw3"})
    assert f"student03@{DOMAIN} was added" in cmd.findtext(f"{{{NS_CMD}}}note")
    c = await RawClient.open(server.port)
    try:
        assert await c.login(f"student03@{DOMAIN}/laptop", "pw3") == f"student03@{DOMAIN}/laptop"
    finally:
        await c.close()
    again = await run(teacher, "add-user")
    sid = again.find(f"{{{NS_CMD}}}command").get("sessionid")
    taken = await run(teacher, "add-user", {"accountjid": f"student03@{DOMAIN}", "password": "x",
                                            "password-verify": "x"}, sid=sid)
    assert condition(taken) == "conflict"


async def test_change_password_delete_and_end_session(lab):
    server, login = lab
    teacher = await login(f"teacher@{DOMAIN}/desk")
    await run_through(teacher, "change-user-password", {"accountjid": f"student01@{DOMAIN}", "password": "new"})
    c = await RawClient.open(server.port)
    try:
        await c.login(f"student01@{DOMAIN}/laptop", "new")
        await run_through(teacher, "end-user-session", {"accountjids": f"student01@{DOMAIN}"})
        err = await c.recv()
        assert err.tag == "{http://etherx.jabber.org/streams}error"
    finally:
        await c.close()
    student2 = await login(f"student02@{DOMAIN}/laptop")
    await run_through(teacher, "delete-user", {"accountjids": [f"student02@{DOMAIN}"]})
    assert not server.storage.account_exists(DOMAIN, "student02")
    assert (await student2.recv()).tag == "{http://etherx.jabber.org/streams}error"  # its session ended too


async def test_counts_list_and_announcement(lab):
    server, login = lab
    teacher = await login(f"teacher@{DOMAIN}/desk")
    s1 = await login(f"student01@{DOMAIN}/laptop")
    await login(f"student01@{DOMAIN}/phone")
    first = await run(teacher, "get-registered-users-num")
    cmd = first.find(f"{{{NS_CMD}}}command")
    assert cmd.get("status") == "completed"
    assert field_values(cmd.find(f"{{{NS_DATA}}}x"))["registeredusersnum"] == ["3"]
    online = (await run(teacher, "get-online-users-num")).find(f"{{{NS_CMD}}}command/{{{NS_DATA}}}x")
    assert field_values(online)["onlineusersnum"] == ["2"]  # teacher and student01 (two resources)
    listed = await run_through(teacher, "get-online-users-list", {"max_items": "none"})
    assert field_values(listed.find(f"{{{NS_DATA}}}x"))["onlineuserjids"] == [
        f"student01@{DOMAIN}/laptop", f"student01@{DOMAIN}/phone", f"teacher@{DOMAIN}/desk"]
    done = await run_through(teacher, "announce", {"subject": "Break", "announcement": "Back at ten."})
    assert "3 session" in done.findtext(f"{{{NS_CMD}}}note")
    msg = await s1.recv()
    assert msg.get("type") == "headline" and msg.get("from") == DOMAIN
    assert msg.findtext("{jabber:client}body") == "Back at ten."


async def test_cancel_and_unknown_sessions(lab):
    server, login = lab
    teacher = await login(f"teacher@{DOMAIN}/desk")
    first = await run(teacher, "add-user")
    sid = first.find(f"{{{NS_CMD}}}command").get("sessionid")
    canceled = await run(teacher, "add-user", sid=sid, action="cancel")
    assert canceled.find(f"{{{NS_CMD}}}command").get("status") == "canceled"
    late = await run(teacher, "add-user", {"accountjid": f"x@{DOMAIN}", "password": "p"}, sid=sid)
    assert condition(late) == "bad-request"
    unknown = await teacher.request(f"<iq type='set' id='u' to='{DOMAIN}'><command xmlns='{NS_CMD}' "
                                    "node='urn:nothing'/></iq>")
    assert condition(unknown) == "item-not-found"


async def test_a_bad_submission_is_bad_request_with_a_reason(lab):
    server, login = lab
    teacher = await login(f"teacher@{DOMAIN}/desk")
    first = await run(teacher, "add-user")
    sid = first.find(f"{{{NS_CMD}}}command").get("sessionid")
    bad = await run(teacher, "add-user", {"accountjid": "someone@elsewhere.example", "password": "p",
                                          "password-verify": "p"}, sid=sid)
    assert condition(bad) == "bad-request"
    assert "not an account of class.example" in bad.findtext(f".//{{{STANZAS}}}text")


async def test_slixmpp_runs_a_command_with_its_own_xep_0050_plugin():
    """A client nobody here wrote: slixmpp's XEP-0050 and XEP-0004 plugins list and run add-user."""
    import xmpplab
    async with await xmpplab.Lab.start([DOMAIN]) as lab:
        lab.servers[0].adhoc.admins.add(f"teacher@{DOMAIN}")
        teacher = await lab.connect(f"teacher@{DOMAIN}/gajim")
        xmpp = teacher.xmpp
        xmpp.register_plugin("xep_0004")
        xmpp.register_plugin("xep_0050")
        items = await xmpp.plugin["xep_0050"].get_commands(DOMAIN, timeout=5)
        nodes = [i[1] for i in items["disco_items"]["items"]]
        assert f"{NS_ADMIN}#add-user" in nodes
        first = await xmpp.plugin["xep_0050"].send_command(DOMAIN, f"{NS_ADMIN}#add-user", timeout=5)
        assert first["command"]["status"] == "executing"
        form = xmpp.plugin["xep_0004"].make_form(ftype="submit")
        form.add_field(var="FORM_TYPE", ftype="hidden", value=NS_ADMIN)
        form.add_field(var="accountjid", value=f"student09@{DOMAIN}")
        form.add_field(var="password", value="from-slixmpp")
        form.add_field(var="password-verify", value="from-slixmpp")
        done = await xmpp.plugin["xep_0050"].send_command(DOMAIN, f"{NS_ADMIN}#add-user", action="complete",
                                                    sessionid=first["command"]["sessionid"], payload=form,
                                                    timeout=5)
        assert done["command"]["status"] == "completed"
        student = await lab.connect(f"student09@{DOMAIN}/laptop", "from-slixmpp", create=False)
        assert str(student.jid) == f"student09@{DOMAIN}/laptop"


# class progress (urn:xmpplab:class:0) ------------------------------------------------------------
NS_CLASS = "urn:xmpplab:class:0"


def progress(exercise, passed, attempts, chapter="01"):
    return (f"<iq type='set' id='p{exercise}{attempts}' to='{DOMAIN}'><progress xmlns='{NS_CLASS}' "
            f"chapter='{chapter}' exercise='{exercise}' passed='{passed}' attempts='{attempts}'/></iq>")


async def test_progress_reaches_the_teacher_live_and_the_grid_keeps_the_latest(lab):
    server, login = lab
    teacher = await login(f"teacher@{DOMAIN}/dashboard")
    student = await login(f"student01@{DOMAIN}/laptop")
    assert (await student.request(progress("01.2", "false", 1))).get("type") == "result"
    live = await teacher.recv()
    assert live.get("type") == "headline" and live.get("from") == DOMAIN
    p = live.find(f"{{{NS_CLASS}}}progress")
    assert (p.get("student"), p.get("exercise"), p.get("passed"), p.get("attempts")) == \
        (f"student01@{DOMAIN}", "01.2", "false", "1")
    await student.request(progress("01.2", "true", 2))
    await teacher.recv()
    reply = await teacher.request(f"<iq type='set' id='g' to='{DOMAIN}'><command xmlns='{NS_CMD}' "
                                  f"node='{NS_CLASS}#progress'/></iq>")
    x = reply.find(f"{{{NS_CMD}}}command/{{{NS_DATA}}}x")
    assert [f.get("var") for f in x.find(f"{{{NS_DATA}}}reported")] == \
        ["student", "exercise", "chapter", "passed", "attempts"]
    items = [field_values(i) for i in x.findall(f"{{{NS_DATA}}}item")]
    assert items == [{"student": [f"student01@{DOMAIN}"], "exercise": ["01.2"], "chapter": ["01"],
                      "passed": ["true"], "attempts": ["2"]}]
    refused = await student.request(f"<iq type='set' id='g2' to='{DOMAIN}'><command xmlns='{NS_CMD}' "
                                    f"node='{NS_CLASS}#progress'/></iq>")
    assert condition(refused) == "forbidden"


@pytest.mark.parametrize("exercise, passed, attempts", [("", "true", "1"), ("01.2", "maybe", "1"),
                                                        ("01.2", "true", "-3"), ("x" * 40, "true", "1")])
async def test_a_malformed_progress_report_is_bad_request(lab, exercise, passed, attempts):
    server, login = lab
    student = await login(f"student01@{DOMAIN}/laptop")
    reply = await student.request(progress(exercise, passed, attempts))
    assert condition(reply) == "bad-request"
    assert server.class_progress.results == {}


async def test_a_student_fetches_their_own_transcript_not_anothers(lab):
    server, login = lab
    teacher = await login(f"teacher@{DOMAIN}/dashboard")
    s1, s2 = await login(f"student01@{DOMAIN}/laptop"), await login(f"student02@{DOMAIN}/laptop")
    await s1.send(f"<message to='student02@{DOMAIN}/laptop' id='hi'><body>psst</body></message>")
    assert (await s2.recv()).findtext("{jabber:client}body") == "psst"
    import json
    mine = await s1.request(f"<iq type='set' id='t' to='{DOMAIN}'><command xmlns='{NS_CMD}' "
                            f"node='{NS_CLASS}#transcript'/></iq>")
    x = mine.find(f"{{{NS_CMD}}}command/{{{NS_DATA}}}x")
    events = [json.loads(v) for v in field_values(x)["events"]]
    assert any(e["type"] == "data" and e["dir"] == "in" and "psst" in e["data"] for e in events)
    assert {e["type"] for e in events} >= {"bound", "data"}
    assert not any("student02" in e.get("jid", "") for e in events)  # only student01's own connection
    first = await s1.request(f"<iq type='set' id='t2' to='{DOMAIN}'><command xmlns='{NS_CMD}' "
                             f"node='{NS_CLASS}#transcript' action='execute'/></iq>")
    assert first.find(f"{{{NS_CMD}}}command").get("status") == "completed"  # a student: one step, their own
    # the teacher asks for student02's: a form first, then the events
    ask = await run_class(teacher, "transcript")
    sid = ask.find(f"{{{NS_CMD}}}command").get("sessionid")
    got = await run_class(teacher, "transcript", {"accountjid": f"student02@{DOMAIN}"}, sid=sid)
    events = [json.loads(v) for v in field_values(got.find(f"{{{NS_CMD}}}command/{{{NS_DATA}}}x"))["events"]]
    assert any(e["type"] == "data" and e["dir"] == "out" and "psst" in e["data"] for e in events)
    assert any(e["type"] == "bound" and e["jid"] == f"student02@{DOMAIN}/laptop" for e in events)


async def test_routing_shows_who_wrote_to_whom(lab):
    server, login = lab
    teacher = await login(f"teacher@{DOMAIN}/dashboard")
    s1, s2 = await login(f"student01@{DOMAIN}/laptop"), await login(f"student02@{DOMAIN}/laptop")
    for i in range(3):
        await s1.send(f"<message to='student02@{DOMAIN}/laptop' id='m{i}'><body>{i}</body></message>")
    for _ in range(3):
        await s2.recv()
    reply = await run_class(teacher, "routing")
    rows = [field_values(i) for i in reply.iter(f"{{{NS_DATA}}}item")]
    messages = [{k: v for k, v in r.items() if k != "last"} for r in rows if r["kind"] == ["message"]]
    assert messages == [{"from": [f"student01@{DOMAIN}/laptop"], "to": [f"student02@{DOMAIN}/laptop"],
                         "kind": ["message"], "count": ["3"]}]
    refused = await run_class(s1, "routing")
    assert condition(refused) == "forbidden"


async def run_class(client, name, fields=None, sid=None):
    attrs = f" node='{NS_CLASS}#{name}'" + (f" sessionid='{sid}'" if sid else "")
    form = ""
    if fields:
        form = f"<x xmlns='{NS_DATA}' type='submit'>" + "".join(
            f"<field var='{k}'><value>{v}</value></field>" for k, v in fields.items()) + "</x>"
    return await client.request(f"<iq type='set' id='rc' to='{DOMAIN}'><command xmlns='{NS_CMD}'{attrs}>{form}"
                                "</command></iq>")


async def test_routing_answers_with_the_most_recent_rows_only(lab):
    """A class of chatterers makes thousands of pairs; the dashboard gets the most recent hundred."""
    from xmpplab.server.modules.classwork import CLASS_COMMANDS, ROUTING_ROWS
    server, login = lab
    teacher = await login(f"teacher@{DOMAIN}/dashboard")
    commands = CLASS_COMMANDS.of(server)
    for i in range(300):  # as if 300 different pairs had written lately, the newest last
        commands.routes.append((1000.0 + i, f"s{i}@{DOMAIN}/r", f"t{i}@{DOMAIN}/r", "message"))
    reply = await run_class(teacher, "routing")
    rows = [field_values(i) for i in reply.iter(f"{{{NS_DATA}}}item")]
    assert len(rows) == ROUTING_ROWS
    assert rows[0]["from"] == [f"s299@{DOMAIN}/r"] and rows[-1]["from"] == [f"s{300 - ROUTING_ROWS}@{DOMAIN}/r"]
