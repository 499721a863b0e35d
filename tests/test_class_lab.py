"""A chapter's Lab on the class server (issue 12, the students' side): practice accounts in each student's
namespace, the chapter's addresses mapped onto them, the same views, checks reaching the teacher, and pairs."""

import asyncio

import pytest
from lxml import etree

import tests.test_teacher as teacher_tests
from xmpplab import Lab
from xmpplab.classroom import student
from xmpplab.classroom.names import PracticeNames
from xmpplab.classroom.partners import pair
from xmpplab.classroom.remote import ClassLab, ClassModeError
from xmpplab.classroom.student import use_class
from xmpplab.classroom.teacher import Teacher, progress_of
from xmpplab.client import Client, ClientError, IqError
from xmpplab.course import acheck, check
from xmpplab.course.core import unwatch_checks
from xmpplab.jid import JID
from xmpplab.render import routing_graph, stanza_path

DOMAIN = "class.example"
NS = "urn:xmpplab:class:0"


@pytest.fixture
async def school(tmp_path, monkeypatch):
    """The teacher's class server (3 students, tests/test_teacher.py); this kernel works in it as student01,
    its password read from a file."""
    async for server, passwords, connect in teacher_tests.school.__wrapped__(tmp_path):
        secret = tmp_path / "password"
        secret.write_text(passwords[f"student01@{DOMAIN}"] + "\n")
        monkeypatch.setenv("XMPPLAB_PASSWORD_FILE", str(secret))
        monkeypatch.delenv("XMPPLAB_SERVER", raising=False)
        use_class(f"127.0.0.1:{server.port}", f"student01@{DOMAIN}")
        student._passwords.clear()
        try:
            yield server, passwords, connect
        finally:
            use_class(None)


def test_chapter_addresses_map_onto_the_students_namespace():
    names = PracticeNames("student07@class.example", ["example.com", "example.net"])
    assert names.real("romeo@example.net/orchard") == "student07.romeo@class.example/orchard"
    assert names.real("example.com") == "class.example"
    assert names.real("garden@conference.example.com/juliet") == "student07.garden@conference.class.example/juliet"
    assert names.real("class@conference.class.example") == "class@conference.class.example"
    assert names.real("juliet@example.com") == "student07.juliet@class.example"
    assert names.real("juliet@example.net") == "student07.juliet-example-net@class.example"
    assert names.rewrite("<message to='romeo@example.net' type=\"chat\"><body>to='x'</body></message>") == \
        "<message to='student07.romeo@class.example' type=\"chat\"><body>to='x'</body></message>"
    assert names.real("pubsub.example.com") == "pubsub.class.example"  # the class's service, the student's nodes
    assert names.chapter("pubsub.class.example") == "pubsub.example.com"
    assert names.node("greenhouse") == names.node("student07.greenhouse") == "student07.greenhouse"
    iq = etree.fromstring(f"<iq to='pubsub.class.example'><pubsub xmlns='{PUBSUB}'><publish node='greenhouse'><item>"
                          "<link xmlns='urn:example:link' node='orchard'/></item></publish></pubsub></iq>")
    names.rewrite_nodes(iq)  # the node the request names is the student's; an item's payload stays as written
    assert [el.get("node") for el in iq.iter() if el.get("node")] == ["student07.greenhouse", "orchard"]


async def test_a_chapter_runs_on_the_class_server_with_the_same_views(school):
    server, passwords, connect = school
    teacher = await connect(f"teacher@{DOMAIN}/dashboard")
    async with Lab.start() as lab:
        assert isinstance(lab, ClassLab)
        juliet = await lab.connect("juliet@example.com/balcony")
        romeo = await lab.connect("romeo@example.net/orchard")
        assert str(juliet.jid) == f"student01.juliet@{DOMAIN}/balcony"
        sent = await juliet.send_message("romeo@example.net", "Art thou not Romeo?")
        msg = await romeo.next("message", from_="juliet@example.com")
        assert msg["body"] == "Art thou not Romeo?" and str(msg["from"]) == f"student01.juliet@{DOMAIN}/balcony"
        # the server's side of each stream is recorded (by the Lab's proxy): the path shows both hops
        item = lab.transcript.first(kind="message", id=sent["id"])
        hops = stanza_path(lab.transcript, item)
        assert f"student01.romeo@{DOMAIN}" in str(hops._repr_mimebundle_()["text/plain"])
        assert f"student01.juliet@{DOMAIN}" in routing_graph(lab)._repr_mimebundle_()["text/plain"]
        assert any(c.role == "receiving" and c.jid == f"student01.romeo@{DOMAIN}/orchard"
                   for c in lab.transcript.connections.values())
        # rosters as the streams show them
        await juliet.subscribe("romeo@example.net")
        await romeo.next("presence", predicate=lambda p: p["type"] == "subscribe")
        await romeo.approve("juliet@example.com")
        await juliet.next("presence", from_="romeo@example.net/orchard")  # his presence, now that she may see it
        assert lab.server.roster_item("juliet@example.com", "romeo@example.net").subscription == "to"
        with pytest.raises(ClassModeError, match="private"):
            lab.server.storage  # noqa: B018
        # an exercise check reaches the teacher
        check("03.1", "<message to='romeo@example.net' type='chat'><body>hi</body></message>")
        live = await teacher.next("message", predicate=lambda m: progress_of(m) is not None)
        assert progress_of(live)["student"] == f"student01@{DOMAIN}"


async def test_a_student_makes_practice_accounts_only_in_their_own_namespace(school):
    server, passwords, connect = school
    s2 = Teacher(await connect(f"student02@{DOMAIN}/laptop"))
    done = await s2.command(f"{NS}#practice", {"name": "romeo", "password": "pw-123456"})
    assert done.value("accountjid") == f"student02.romeo@{DOMAIN}"
    practice = await Client.connect(f"student02.romeo@{DOMAIN}", "pw-123456", host="127.0.0.1",
                                    port=server.port, verify_tls=False)
    try:
        with pytest.raises(IqError) as refused:  # a practice account makes no more accounts
            await Teacher(practice).command(f"{NS}#practice", {"name": "x", "password": "pw-123456"})
        assert refused.value.condition == "forbidden"
        with pytest.raises(IqError) as refused:  # nor may a student make another's (or any other) account
            await s2.add_user(f"student01.romeo@{DOMAIN}", "pw-123456")
        assert refused.value.condition == "forbidden"
        with pytest.raises(IqError) as refused:  # names cannot climb out of the namespace
            await s2.command(f"{NS}#practice", {"name": "../student01", "password": "pw-123456"})
        assert refused.value.condition == "bad-request"
        mine = await Teacher(practice).command(f"{NS}#transcript", {"accountjid": f"student01@{DOMAIN}"})
        assert mine.value("accountjid") == f"student02.romeo@{DOMAIN}"  # its own streams, never another's
    finally:
        await practice.disconnect()
    assert not server.storage.account_exists(DOMAIN, "student01.romeo")


async def test_two_students_are_paired_and_message_and_subscribe(school):
    server, passwords, connect = school
    a, b = await connect(f"student02@{DOMAIN}/laptop"), await connect(f"student03@{DOMAIN}/laptop")
    got_a, got_b = await asyncio.gather(pair(a, "03"), pair(b, "03"))  # one waits, the other finds it
    assert (str(got_a), str(got_b)) == (f"student03@{DOMAIN}", f"student02@{DOMAIN}")
    await a.send_message(got_a, "Hello, partner")
    assert (await b.next("message", from_=str(got_b)))["body"] == "Hello, partner"
    await b.subscribe(got_b)
    await a.next("presence", predicate=lambda p: p["type"] == "subscribe")
    await a.approve(got_a)
    await b.next("presence", from_=f"student02@{DOMAIN}/laptop")  # now b sees a's presence
    assert server.roster_item(f"student03@{DOMAIN}", f"student02@{DOMAIN}").subscription == "to"


async def test_a_students_practice_rooms_are_theirs_only(school):
    server, passwords, connect = school
    async with Lab.start() as lab:
        juliet = await lab.connect("juliet@example.com/balcony")
        await juliet.send_raw("<presence to='garden@conference.example.com/juliet'>"
                              "<x xmlns='http://jabber.org/protocol/muc'/></presence>")
        joined = await juliet.next("presence", from_="garden@conference.example.com/juliet")
        assert str(joined["from"]) == f"student01.garden@conference.{DOMAIN}/juliet"
        assert lab.server.muc["conference.example.com"]["garden@conference.example.com"].occupants[0].nick == "juliet"
        intruder = await connect(f"student02@{DOMAIN}/laptop")
        await intruder.send_raw(f"<presence to='student01.garden@conference.{DOMAIN}/peeping'>"
                                "<x xmlns='http://jabber.org/protocol/muc'/></presence>")
        refused = await intruder.next("presence", from_=f"student01.garden@conference.{DOMAIN}/peeping")
        assert refused["type"] == "error" and refused["error"]["condition"] == "forbidden"


PUBSUB = "http://jabber.org/protocol/pubsub"


def _pubsub(action: str, to: str = f"pubsub.{DOMAIN}", type_: str = "set", ns: str = PUBSUB) -> str:
    return f"<iq type='{type_}' to='{to}'><pubsub xmlns='{ns}'>{action}</pubsub></iq>"


async def test_a_students_pubsub_nodes_are_theirs_only(school):
    """Chapter 15 on the class server: the chapter's node 'greenhouse' is student01.greenhouse on the class's
    service; the Lab's snapshot follows it from its streams; another student can neither reach it nor list it,
    nor make a node outside their own namespace; the teacher can."""
    server, passwords, connect = school
    async with Lab.start() as lab:
        sensor = await lab.connect("juliet@example.com/sensor")
        romeo = await lab.connect("romeo@example.net/orchard")
        await sensor.iq(_pubsub("<create node='greenhouse'/>", to="pubsub.example.com"))
        await romeo.iq(_pubsub("<subscribe node='greenhouse' jid='romeo@example.net'/>", to="pubsub.example.com"))
        await sensor.iq(_pubsub("<publish node='greenhouse'><item id='r1'><reading xmlns='urn:example:greenhouse' "
                                "celsius='22'/></item></publish>", to="pubsub.example.com"))
        event = await romeo.next("message", from_="pubsub.example.com")
        assert str(event["from"]) == f"pubsub.{DOMAIN}" and "node=\"student01.greenhouse\"" in str(event)
        await lab.settle()
        (service,) = lab.snapshot().servers[0].pubsub
        assert (service.domain, [n.name for n in service.nodes]) == (f"pubsub.{DOMAIN}", ["student01.greenhouse"])
        feed = service.nodes[0]
        assert (feed.publishers, feed.subscribers, feed.items) == \
            ((f"student01.juliet@{DOMAIN}",), (f"student01.romeo@{DOMAIN}",), 1)
        assert "student01.greenhouse" in routing_graph(lab)._repr_mimebundle_()["text/plain"]
        intruder = await connect(f"student02@{DOMAIN}/laptop")
        for request in (_pubsub("<items node='student01.greenhouse'/>", type_="get"),
                        _pubsub(f"<subscribe node='student01.greenhouse' jid='student02@{DOMAIN}'/>"),
                        _pubsub("<publish node='student01.greenhouse'><item><x xmlns='urn:x'/></item></publish>"),
                        _pubsub("<delete node='student01.greenhouse'/>", ns=f"{PUBSUB}#owner"),
                        _pubsub("<create node='greenhouse'/>"), _pubsub("<create/>"),
                        _pubsub("<create node='student01.garden'/>"),
                        f"<iq type='get' to='pubsub.{DOMAIN}'><query xmlns='http://jabber.org/protocol/disco#info' "
                        "node='student01.greenhouse'/></iq>"):
            with pytest.raises(IqError) as refused:
                await intruder.iq(request)
            assert refused.value.condition == "forbidden", request
        await intruder.iq(_pubsub("<create node='student02.greenhouse'/>"))  # in their own namespace
        await intruder.iq(_pubsub("<publish node='student02.greenhouse'><item><link xmlns='urn:example:link' "
                                  "node='student01.greenhouse'/></item></publish>"))  # a payload is no request
        listing = f"<iq type='get' to='pubsub.{DOMAIN}'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>"
        assert "student01.greenhouse" not in str(await intruder.iq(listing))
        assert "student01.greenhouse" in str(await sensor.iq(listing))
        teacher = await connect(f"teacher@{DOMAIN}/dashboard")
        assert "r1" in str(await teacher.iq(_pubsub("<items node='student01.greenhouse'/>", type_="get")))
        # over server-to-server, from a student's own server (student02.class.example), a local part is nobody's
        # namespace: student01@student02.class.example is not student01
        far = f"student01@student02.{DOMAIN}/x"
        server.route(etree.fromstring(f"<iq xmlns='jabber:client' type='set' id='far' from='{far}' "
                                      f"to='pubsub.{DOMAIN}'><pubsub xmlns='{PUBSUB}'><subscribe "
                                      f"node='student01.greenhouse' jid='{far}'/></pubsub></iq>"))
        assert server.pubsub[f"pubsub.{DOMAIN}"]["student01.greenhouse"].subscriptions == \
            {f"student01.romeo@{DOMAIN}": "subscribed"}  # nothing of the refused requests reached the node


async def test_lab_pair_gives_both_notebooks_the_partners_address_and_chapters_do_not_mix(school):
    server, passwords, connect = school
    other = await connect(f"student02@{DOMAIN}/laptop")
    stranger = await connect(f"student03@{DOMAIN}/laptop")
    stranger_waits = asyncio.ensure_future(pair(stranger, "03"))  # another chapter: no partner for 06
    async with Lab.start() as lab:
        mine, theirs = await asyncio.gather(lab.pair("06"), pair(other, "06"))
        assert (str(mine), str(theirs)) == (f"student02@{DOMAIN}", f"student01@{DOMAIN}")
        assert not stranger_waits.done()
    stranger_waits.cancel()


async def test_the_password_is_asked_once_per_kernel_and_never_echoed(school, monkeypatch):
    server, passwords, connect = school
    monkeypatch.delenv("XMPPLAB_PASSWORD_FILE")
    asked = []
    monkeypatch.setattr("getpass.getpass", lambda prompt: asked.append(prompt) or passwords[f"student01@{DOMAIN}"])
    for _ in range(2):  # Run All twice: the second Lab replaces the first, and does not ask again
        lab = await Lab.start()
        await lab.connect("juliet@example.com/balcony")
    assert asked == [f"Password for student01@{DOMAIN}: "]
    await lab.stop()
    assert lab.replaced  # the first Lab was stopped by the second


async def test_the_checks_see_the_chapters_addresses(school):
    server, passwords, connect = school
    async with Lab.start() as lab:
        juliet = await lab.connect("juliet@example.com/balcony")
        romeo = await lab.connect("romeo@example.net/orchard")
        nurse = await lab.connect("nurse@example.com/chamber")
        assert not await acheck("06.1", lab=lab)
        for one, other in ((juliet, "nurse@example.com"), (nurse, "juliet@example.com")):
            await one.subscribe(other)
        for one, other in ((nurse, "juliet@example.com"), (juliet, "nurse@example.com")):
            await one.approve(other)
        assert await acheck("06.1", lab=lab), (await acheck("06.1", lab=lab)).text()
        await romeo.send_message("juliet@example.com", "Thy lips are warm.")
        got = await juliet.next("message")
        sent = romeo.transcript.first(kind="message")  # what crossed the wire: the practice addresses
        assert f"student01.juliet@{DOMAIN}" in sent.text
        assert check("00.1", "<message to='romeo@example.net'><body>Hi</body></message>")
        assert str(got["from"]) == f"student01.romeo@{DOMAIN}/orchard"
        names = lab.server.names
        assert names.chapter(got["from"]) == "romeo@example.net/orchard"
        assert names.unrewrite(str(got)).count("romeo@example.net/orchard") == 1


def _live_exercises():
    from tests.test_course import LIVE  # 09 runs on private servers in a class; the partner ones need two
    return sorted(ex for ex in LIVE if (ex[:2] <= "08" or ex[:2] in ("10", "11", "15", "16", "18"))
                  and "partner" not in ex)


@pytest.mark.parametrize("ex_id", _live_exercises())
async def test_live_exercises_on_the_class_server(ex_id, school):
    """The teachers' solutions pass, and their near misses fail, on the class server as on a private one."""
    from tests.test_course import solve_live

    await solve_live(ex_id, start=lambda: _Started(Lab.start()))


class _Started:
    """``async with`` a Lab.start() that must be a ClassLab."""

    def __init__(self, starting):
        self.starting = starting

    async def __aenter__(self):
        lab = await self.starting.__aenter__()
        assert isinstance(lab, ClassLab)
        return lab

    async def __aexit__(self, *exc):
        await self.starting.__aexit__(*exc)


async def test_add_account_then_connect_uses_the_chosen_password(school):
    server, passwords, connect = school
    async with Lab.start() as lab:
        real = lab.add_account("nurse@example.com", "my-own-pw")
        assert str(real) == "nurse@example.com"  # add_account answers with the chapter's address, as a private Lab
        nurse = await lab.connect("nurse@example.com/kitchen")
        assert str(nurse.jid) == f"student01.nurse@{DOMAIN}/kitchen"
        again = await Client.connect(f"student01.nurse@{DOMAIN}/chamber", "my-own-pw", host=lab.server.address[0],
                                     port=lab.server.port, verify_tls=False)  # a hand-made client, via the proxy
        await again.disconnect()
        with pytest.raises(Exception, match="not-authorized|authentication"):
            await lab.connect("nurse@example.com/garden", "a-wrong-one")


async def test_two_students_do_the_partner_exercises_of_chapters_03_and_06(school):
    server, passwords, connect = school
    where = f"127.0.0.1:{server.port}"
    first = await Lab.start()  # student01, as the environment says
    second = ClassLab(["example.com", "example.net"], where, f"student02@{DOMAIN}",
                      account_password=passwords[f"student02@{DOMAIN}"])  # a classmate's notebook
    await second._start(replace=False)
    try:
        partner, theirs = await asyncio.gather(first.pair("03"), second.pair("03"))
        assert (str(partner), str(theirs)) == (f"student02@{DOMAIN}", f"student01@{DOMAIN}")
        assert not await acheck("03.partner", lab=first)
        juliet = await first.connect("juliet@example.com/balcony")
        await juliet.send_message(partner, "Good morrow, partner!")
        msg = await second.me.next("message", from_=str(juliet.jid))
        await second.me.send_message(msg["from"], "And to you!")
        await juliet.next("message", from_=str(partner))
        assert await acheck("03.partner", lab=first)

        partner, _ = await asyncio.gather(first.pair("06"), second.pair("06"))
        await juliet.subscribe(partner)
        await second.me.next("presence", predicate=lambda p: p["type"] == "subscribe")
        await second.me.approve(juliet.jid)
        await second.me.subscribe(juliet.jid)
        await juliet.next("presence", predicate=lambda p: p["type"] == "subscribe")
        await juliet.approve(partner)
        await second.me.roster()  # a round trip: the server has handled both approvals
        result = await acheck("06.partner", lab=first)
        assert result.ok, result.text()
    finally:
        await second.stop()
        await first.stop()


async def test_a_server_that_is_not_a_class_server_is_named_as_such(tmp_path, monkeypatch):
    from xmpplab.classroom import ClassroomError
    from xmpplab.server import Server

    async with Server(["example.org"]) as plain:
        plain.accounts.add("student01@example.org", "pw-123456")
        secret = tmp_path / "password"
        secret.write_text("pw-123456\n")
        monkeypatch.setenv("XMPPLAB_PASSWORD_FILE", str(secret))
        monkeypatch.setenv("XMPPLAB_SERVER", f"127.0.0.1:{plain.port}")
        monkeypatch.setenv("XMPPLAB_ACCOUNT", "student01@example.org")
        with pytest.raises(ClassroomError, match="not an xmpplab class server"):
            await Lab.start()
        assert not plain.resources(JID("student01@example.org"))  # it logged out again


async def test_a_recording_is_replayed_against_the_class_server_as_the_practice_accounts(school):
    """Chapter 11: redrive(recording, lab=lab) logs in as the recording's person's practice account, through the
    Lab's proxy, and maps the recording's other people; the answers compare as on a private server."""
    from xmpplab.course.files import sample_streams
    from xmpplab.replay import redrive
    from xmpplab.transcript import Transcript

    samples = sample_streams()
    async with Lab.start() as lab:
        assert isinstance(lab, ClassLab)
        report = await redrive(Transcript.load(samples / "juliet-login-starttls-scram.jsonl"), lab=lab)
        assert report.ok, report.text()
        assert report.live_jid == f"student01.juliet@{DOMAIN}/balcony"
        assert report.server == f"127.0.0.1:{lab.server.port}"  # the proxy: the Lab's recording has the replay
        assert any(c.jid == f"student01.juliet@{DOMAIN}/balcony" for c in lab.transcript.connections.values())
        example = Transcript.from_rfc_text((samples / "rfc" / "c2s-negotiation.txt").read_text())
        report = await redrive(example, lab=lab)
        sent = [e.sent for e in report.exchanges if e.sent and "<message" in e.sent]
        assert sent and f"to=\"student01.romeo@{DOMAIN}\"" in sent[0]  # Romeo is the practice account too
        errors = [o for o in report.outcomes if o.got is not None and o.got.get("type") == "error"]
        assert errors and errors[0].got.get("from") == f"student01.romeo@{DOMAIN}"  # no such account yet
        from tests.test_course import SOLUTIONS  # exercise 11.1: the learner's own exchange, replayed
        mine = await redrive(Transcript.from_rfc_text(SOLUTIONS["11.1"]), lab=lab, jid="juliet@example.com/replay")
        assert mine.ok and mine.live_jid == f"student01.juliet@{DOMAIN}/replay", mine.text()


async def test_a_private_part_beside_the_class_lab_says_so_and_checks_still_reach_the_teacher(school, capsys):
    """Chapter 00's federation cell: Lab.start(..., federate=True, replace=False) beside the chapter's class Lab is
    private, says that only this part is, and leaves the reporting to the class Lab's connection."""
    from xmpplab.classroom.remote import PART_NOTE, PRIVATE_NOTE, ReportingLab

    server, passwords, connect = school
    teacher = await connect(f"teacher@{DOMAIN}/dashboard")
    lab = await Lab.start()
    try:
        assert isinstance(lab, ClassLab)
        capsys.readouterr()
        fed = await Lab.start(["example.com", "example.net"], federate=True, replace=False)
        said = capsys.readouterr().out
        assert isinstance(fed, ReportingLab) and PART_NOTE in said and PRIVATE_NOTE not in said
        assert fed.me is None and lab.running and len(fed.servers) == 2
        juliet = await fed.connect("juliet@example.com/balcony")
        romeo = await fed.connect("romeo@example.net/orchard")
        await juliet.send_message("romeo@example.net", "Art thou not Romeo?")
        assert str((await romeo.next("message"))["from"]) == "juliet@example.com/balcony"  # her own servers
        await fed.stop()
        assert lab.me.connected
        check("00.1", "<message to='romeo@example.net'><body>Hi</body></message>")
        live = await teacher.next("message", predicate=lambda m: progress_of(m) is not None)
        assert progress_of(live)["exercise"] == "00.1" and progress_of(live)["student"] == f"student01@{DOMAIN}"
    finally:
        await lab.stop()


async def test_a_chapter_with_no_lab_still_reports_its_checks(school):
    server, passwords, connect = school
    teacher = await connect(f"teacher@{DOMAIN}/dashboard")
    while student._reporter:  # this kernel has no connection to the class yet (chapter 14 starts no Lab)
        unwatch_checks(student._reporter.pop())
    check("14.1", {"id": "?", "to": "?", "why": "?"})  # the first check logs in in the background
    first = progress_of(await teacher.next("message", predicate=lambda m: progress_of(m) is not None, timeout=10))
    assert first["student"] == f"student01@{DOMAIN}" and first["exercise"] == "14.1"
    check("14.1", {"id": "?", "to": "?", "why": "?"})  # the next ones through that connection
    again = progress_of(await teacher.next("message", predicate=lambda m: progress_of(m) is not None, timeout=10))
    assert again["attempts"] == first["attempts"] + 1
    await student._reporter[-1].client.disconnect()


async def test_chapter_10s_wiretap_in_front_of_the_class_lab_sees_only_tls_after_proceed(school, capsys):
    """Chapter 10 on the class server: a Wiretap in front of lab.server (the Lab's recording proxy) sees plain XML up
    to <proceed/> and TLS records after it; the proxy's own leg to the class server is TLS too (the class server says
    the session is secure), and ch10.beyond_the_tap says so in one line. On a private Lab it says nothing."""
    from xmpplab.course import ch10
    from xmpplab.course.wiretap import Wiretap

    server, passwords, connect = school

    async def tapped(lab):
        tap = await Wiretap.start(*lab.server.address)
        login = await lab.login_for("juliet@example.com/balcony")
        juliet = await Client.connect(login.jid, login.password, host="127.0.0.1", port=tap.port, verify_tls=False)
        return tap, juliet

    async with Lab.start() as lab:
        tap, juliet = await tapped(lab)
        pieces = [data for _, data in tap.pieces]
        proceed = next(i for i, data in enumerate(pieces) if b"<proceed" in data)
        assert pieces[proceed + 1:] and all(data[:1] in (b"\x14", b"\x16", b"\x17") for data in pieces[proceed + 1:])
        assert not any(b"n=student01.juliet" in data for data in pieces)  # the login is inside TLS
        here = server.snapshot().account(f"student01.juliet@{DOMAIN}")
        assert [r.secure for r in here.resources] == [True]  # the class server's side of the proxy's leg
        capsys.readouterr()
        line = ch10.beyond_the_tap(lab, juliet)
        assert line and "went through STARTTLS too (TLS" in line and f"127.0.0.1:{server.port}" in line
        assert capsys.readouterr().out == line + "\n"
        await juliet.disconnect()
        await tap.close()
    async with Lab(["example.com"]) as own:  # a private Lab: the tap is right in front of the server
        tap, juliet = await tapped(own)
        assert ch10.beyond_the_tap(own, juliet) is None and capsys.readouterr().out == ""
        await juliet.disconnect()
        await tap.close()


async def test_chapter_18_files_need_the_class_servers_http_port_and_it_says_so(school, capsys):
    """Chapter 18 asks for file upload (``Lab.start(http_port=0)``): on the class server, not a private one; a class
    server started without --http-port shares no files, and the Lab says so in one line when it starts."""
    async with Lab.start(http_port=0) as lab:
        assert isinstance(lab, ClassLab)
        assert "shares no files (XEP-0363): its teacher starts it with --http-port" in capsys.readouterr().out
        juliet = await lab.connect("juliet@example.com/phone")
        with pytest.raises(ClientError, match="offers no file upload"):
            await juliet.upload("moon.png", b"\x89PNG")


async def test_a_practice_phone_cut_in_the_kernel_loses_or_resumes_as_on_a_private_server(school):
    """Chapter 18's tunnel on the class server: the phone's socket to the Lab's proxy is cut in the kernel, and the
    proxy drops its leg without a stream end. Without stream management what was in flight is lost; with it the class
    server keeps the session and the phone resumes it through the proxy (XEP-0198 §5), and gets everything."""
    async with Lab.start() as lab:
        phone = await lab.connect("juliet@example.com/phone")
        romeo = await lab.connect("romeo@example.net/orchard")
        async with phone.cut():
            await romeo.send_message("juliet@example.com/phone", "lost")
        assert phone.resumed is False
        with pytest.raises(TimeoutError):
            await phone.next("message", timeout=1)
        await phone.enable_sm()
        async with phone.cut():
            for line in ("one", "two", "three"):
                await romeo.send_message("juliet@example.com/phone", line)
        assert phone.resumed is True
        assert [(await phone.next("message"))["body"] for _ in range(3)] == ["one", "two", "three"]
        assert any(e.get("type") == "bound" and e.get("resumed") and e.get("jid") == f"student01.juliet@{DOMAIN}/phone"
                   for e in lab.events)


async def test_chapter_16s_exchange_runs_on_the_class_server_as_practice_accounts(school):
    """run_on_lab on a class Lab: Romeo and Juliet are practice accounts, through the Lab's proxy; the xmpplab
    column is the class server's features (no in-band registration: sign-ups are closed in a class)."""
    from xmpplab.testing.exchange import run_on_lab

    async with Lab.start(["example.com"]) as lab:
        assert isinstance(lab, ClassLab)
        slix = await run_on_lab(lab)
        raw = await run_on_lab(lab, "raw XML")
        served = [c.jid for c in lab.transcript.connections.values() if c.role == "receiving"]
    assert slix.ok and raw.ok, (slix.summary(), raw.summary())
    assert slix.server == f"xmpplab ({DOMAIN})"
    assert not any("register" in stage for stage in slix.features())
    assert f"student01.romeo@{DOMAIN}/orchard" in served and f"student01.juliet@{DOMAIN}/balcony" in served


async def test_a_practice_account_changes_its_own_password_and_cancels_itself_but_no_one_elses(school):
    """XEP-0077 after login (chapter 13 on the class server): a practice account may change its password and
    cancel itself; the class server refuses it another student's practice account and its own student's."""
    from xmpplab.rawclient import RawClient

    server, passwords, connect = school
    s2 = Teacher(await connect(f"student02@{DOMAIN}/laptop"))
    await s2.command(f"{NS}#practice", {"name": "romeo", "password": "pw-of-student02"})
    async with Lab.start() as lab:
        assert isinstance(lab, ClassLab)
        romeo = await lab.connect("romeo@example.net/orchard")
        register = "<iq type='set'><query xmlns='jabber:iq:register'><username>{}</username>{}</query></iq>"
        for other in ("student02.romeo", "student01"):
            for what in ("<password>taken-over</password>", "<remove/>"):
                with pytest.raises(IqError) as refused:
                    await romeo.iq(register.format(other, what))
                assert refused.value.condition == "not-allowed", other
        assert server.storage.account_exists(DOMAIN, "student01")
        theirs = await Client.connect(f"student02.romeo@{DOMAIN}", "pw-of-student02", host="127.0.0.1",
                                      port=server.port, verify_tls=False)  # student02's password still works
        await theirs.disconnect()
        await romeo.iq(register.format("student01.romeo", "<password>a-new-one-123</password>"))
        login = await RawClient.connect(*lab.server.address)  # the new password, through the Lab's proxy
        assert await login.login(f"student01.romeo@{DOMAIN}/garden", "a-new-one-123")
        await login.close()
        await romeo.iq("<iq type='set'><query xmlns='jabber:iq:register'><remove/></query></iq>")
        assert not server.storage.account_exists(DOMAIN, "student01.romeo")
        assert not lab.server.accounts.exists("romeo@example.net")  # the Lab knows it is gone, as a private one
        again = await lab.connect("romeo@example.net/orchard")  # a fresh practice account
        assert str(again.jid) == f"student01.romeo@{DOMAIN}/orchard"
        assert server.storage.account_exists(DOMAIN, "student02.romeo")


async def test_sign_ups_are_closed_on_the_class_server(school):
    """Chapter 13's deep dive on the class server: a stream that has not logged in is offered no <register/>,
    and asking for the registration form ends it (the teacher did not pass --register)."""
    from xmpplab.rawclient import RawClient, StreamEnded

    async with Lab.start() as lab:
        raw = await RawClient.connect(*lab.server.address)
        await raw.send(f"<stream:stream to='{DOMAIN}' version='1.0' xmlns='jabber:client' "
                       "xmlns:stream='http://etherx.jabber.org/streams'>")
        features = await raw.recv()
        assert "starttls" in str(etree_tostring(features)) and "iq-register" not in etree_tostring(features)
        await raw.send("<iq type='get' id='reg0'><query xmlns='jabber:iq:register'/></iq>")
        error = await raw.recv()
        assert "not-authorized" in etree_tostring(error)
        with pytest.raises(StreamEnded):
            await raw.recv()
        await raw.close()


def etree_tostring(element) -> str:
    from lxml import etree
    return etree.tostring(element, encoding="unicode")
