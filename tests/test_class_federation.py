"""A student's own server federates with the class server (docs/classroom.md, ``#federate``): XEP-0288 and
certificate pinning, so the class server never has to reach the student's machine.

The class server has no address for any student domain and offers no dialback; the student's server
registers its certificate with ``#federate`` over the student's class login, then connects out, shows that
certificate (SASL EXTERNAL) and asks for a bidirectional stream. On loopback here, as in a class.
"""

from pathlib import Path

import pytest

from tests.support_wait import until
from xmpplab.classroom import Teacher, certificate_fingerprint, federate_with_class, prepare_class, read_csv, student
from xmpplab.classroom.student import use_class
from xmpplab.client import Client, IqError
from xmpplab.lab import running_labs
from xmpplab.render import routing_graph
from xmpplab.server import Server
from xmpplab.server.core import DEFAULT_MODULES
from xmpplab.server.tls import certificate_file

DOMAIN = "class.example"
FEDERATE = "urn:xmpplab:class:0#federate"


def pem_of(domain: str) -> list[str]:
    """The certificate (no key) of a server for ``domain``, as the form's lines."""
    text = Path(certificate_file([domain])).read_text()
    return text[text.index("-----BEGIN CERTIFICATE-----"):].strip().splitlines()


@pytest.fixture
async def school(tmp_path):
    server = await Server([DOMAIN], s2s_port=0, recorder=(events := []).append, conn_prefix="class:",
                          modules=(*DEFAULT_MODULES, "classwork", "classmates", "classfederation")).start()
    prepare_class(server, DOMAIN, 2, tmp_path / "class.csv")
    passwords = {str(a.jid): a.password for a in read_csv(tmp_path / "class.csv")}
    started = []

    async def login(jid, srv=server, password=None):
        c = await Client.connect(jid, password or passwords[jid.split("/")[0]], host="127.0.0.1", port=srv.port,
                                 verify_tls=False)
        started.append(c)
        return c

    async def own_server(domain, cert_of=None):
        """A student's server for ``domain`` (showing the certificate made for ``cert_of``), one account."""
        srv = Server([domain], tls_cert=str(certificate_file([cert_of or domain])), recorder=events.append,
                     conn_prefix=f"{domain}:")
        await srv.start()
        srv.accounts.add(f"juliet@{domain}", "pw")
        started.append(srv)
        return srv

    server.events = events
    yield server, login, own_server
    for thing in reversed(started):
        await (thing.disconnect() if isinstance(thing, Client) else thing.stop())
    await server.stop()


async def federate(client, lines):
    return await Teacher(client, DOMAIN).command(FEDERATE, {"certificate": lines})


async def test_a_students_server_and_the_class_server_exchange_a_message_over_one_stream(school):
    server, login, own_server = school
    me = await login(f"student01@{DOMAIN}/laptop")
    answer = await federate(me, pem_of(f"student01.{DOMAIN}"))
    assert answer.status == "completed" and answer.value("domain") == f"student01.{DOMAIN}"
    assert answer.value("host") == "127.0.0.1" and answer.value("port") == str(server.s2s_port)
    mine = await own_server(f"student01.{DOMAIN}")
    mine.s2s.add_peer(DOMAIN, answer.value("host"), int(answer.value("port")),
                      fingerprint=certificate_fingerprint(server))
    juliet = await login(f"juliet@student01.{DOMAIN}/balcony", mine, "pw")
    await juliet.send_message(f"student01@{DOMAIN}/laptop", "Hello from my own server")
    got = await me.next("message", timeout=10)
    assert got["from"] == f"juliet@student01.{DOMAIN}/balcony"
    await me.send_message(got["from"], "Hello back, over your own stream")
    assert (await juliet.next("message", timeout=10))["body"] == "Hello back, over your own stream"
    # the class server opened nothing: it answered on the student's stream, authenticated by certificate
    assert not server.s2s.outgoing and list(server.s2s.bidi) == [(DOMAIN, f"student01.{DOMAIN}")]
    inc = "".join(e.get("data", "") for e in server.events
                  if e["conn"].startswith("class:s2s") and e.get("dir") == "in")
    out = "".join(e.get("data", "") for e in server.events
                  if e["conn"].startswith("class:s2s") and e.get("dir") == "out")
    assert "<bidi xmlns='urn:xmpp:bidi'/>" in inc and "mechanism='EXTERNAL'" in inc and "<db:result" not in inc
    assert "<dialback" not in out and "<success" in out and "Hello back" in out
    # the teacher's routing table has both ways, the student's server's message included
    teacher = Teacher(await login(f"teacher@{DOMAIN}/dashboard"), DOMAIN)
    rows = {(r["from"], r["to"], r["kind"]) for r in await teacher.routing()}
    assert (f"juliet@student01.{DOMAIN}/balcony", f"student01@{DOMAIN}/laptop", "message") in rows, rows
    assert (f"student01@{DOMAIN}/laptop", f"juliet@student01.{DOMAIN}/balcony", "message") in rows, rows


async def test_a_students_own_server_cannot_reach_another_students_practice_room(school):
    """The class's room rules hold for stanzas from students' own servers too: student02's server, even with an
    account named student01, cannot enter student01's practice room; its own room is open to it only through the
    student's class accounts, which are not on that server."""
    server, login, own_server = school
    one = await login(f"student01@{DOMAIN}/laptop")
    room = f"student01.garden@conference.{DOMAIN}"
    await one.send_raw(f"<presence to='{room}/juliet'><x xmlns='http://jabber.org/protocol/muc'/></presence>")
    await one.next("presence", timeout=10, from_=f"{room}/juliet")  # student01 made the room, and opens it:
    await one.iq(f"<iq type='set' to='{room}'><query xmlns='http://jabber.org/protocol/muc#owner'>"
                 "<x xmlns='jabber:x:data' type='submit'/></query></iq>")  # an instant room (XEP-0045 10.1.2)
    two = await login(f"student02@{DOMAIN}/laptop")
    answer = await federate(two, pem_of(f"student02.{DOMAIN}"))
    theirs = await own_server(f"student02.{DOMAIN}")
    theirs.s2s.add_peer(DOMAIN, answer.value("host"), int(answer.value("port")),
                        fingerprint=certificate_fingerprint(server))
    theirs.accounts.add(f"student01@student02.{DOMAIN}", "pw")  # a name that is not student01
    for who in ("juliet", "student01"):
        c = await login(f"{who}@student02.{DOMAIN}/balcony", theirs, "pw")
        await c.send_raw(f"<presence to='{room}/from-{who}'><x xmlns='http://jabber.org/protocol/muc'/></presence>")
        refused = await c.next("presence", timeout=10, predicate=lambda p: p["type"] == "error")
        assert refused["error"]["condition"] == "forbidden", who
    assert list(server.muc[f"conference.{DOMAIN}"][room].occupants) == ["juliet"]  # student01's own Juliet alone


async def test_unregistered_another_students_and_unknown_certificates_are_refused(school):
    server, login, own_server = school
    one = await login(f"student01@{DOMAIN}/laptop")
    two = await login(f"student02@{DOMAIN}/laptop")
    await federate(two, pem_of(f"student02.{DOMAIN}"))
    fingerprint = certificate_fingerprint(server)
    # student01 never registered; a server showing student02's certificate claims student01's domain;
    # one showing a certificate the class does not know claims student02's
    cases = [(f"student01.{DOMAIN}", None), (f"student01.{DOMAIN}", f"student02.{DOMAIN}"),
             (f"student02.{DOMAIN}", f"stranger.{DOMAIN}")]
    for domain, cert_of in cases:
        srv = await own_server(domain, cert_of)
        srv.s2s.add_peer(DOMAIN, "127.0.0.1", server.s2s_port, fingerprint=fingerprint)
        juliet = await login(f"juliet@{domain}/balcony", srv, "pw")
        await juliet.send_raw(f"<message to='student01@{DOMAIN}/laptop' id='x' type='chat'><body>let me in</body>"
                              "</message>")
        bounce = await juliet.next("message", timeout=10, predicate=lambda m: m["type"] == "error")
        assert bounce["error"]["condition"] in ("remote-server-not-found", "remote-server-timeout"), (domain, cert_of)
        assert "certificate" in bounce["error"]["text"]  # why, in one sentence
    assert not [m for m in one.pending if m.name == "message"] and not server.s2s.bidi
    out = "".join(e.get("data", "") for e in server.events
                  if e["conn"].startswith("class:s2s") and e.get("dir") == "out")
    assert "<success" not in out and "<dialback" not in out


async def test_the_students_server_refuses_a_class_server_with_another_certificate(school):
    """The student's server pins the class server's fingerprint: another certificate ends the stream before the
    student's server says anything on it, and what waited bounces with one sentence naming both fingerprints."""
    server, login, own_server = school
    me = await login(f"student01@{DOMAIN}/laptop")
    answer = await federate(me, pem_of(f"student01.{DOMAIN}"))
    mine = await own_server(f"student01.{DOMAIN}")
    mine.s2s.add_peer(DOMAIN, answer.value("host"), int(answer.value("port")), fingerprint="AB" * 32)
    juliet = await login(f"juliet@student01.{DOMAIN}/balcony", mine, "pw")
    await juliet.send_raw(f"<message to='student01@{DOMAIN}/laptop' id='y' type='chat'><body>hi</body></message>")
    bounce = await juliet.next("message", timeout=10, predicate=lambda m: m["type"] == "error")
    assert bounce["error"]["condition"] == "remote-server-not-found"
    why = bounce["error"]["text"]
    assert f"Refused the server of {DOMAIN}" in why and certificate_fingerprint(server) in why
    came = "".join(e.get("data", "") for e in server.events
                   if e["conn"].startswith("class:s2s") and e.get("dir") == "in")
    assert "<bidi" not in came and "<auth" not in came


async def test_only_class_accounts_may_federate_and_only_their_own_domain(school):
    server, login, _ = school
    me = await login(f"student01@{DOMAIN}/laptop")
    await Teacher(me, DOMAIN).command("urn:xmpplab:class:0#practice", {"name": "romeo", "password": "pw"})
    romeo = await login(f"student01.romeo@{DOMAIN}/orchard", password="pw")
    with pytest.raises(IqError) as refused:
        await federate(romeo, pem_of(f"student01.{DOMAIN}"))
    assert refused.value.condition == "forbidden"
    with pytest.raises(IqError) as bad:
        await federate(me, ["-----BEGIN CERTIFICATE-----", "bm90IGEgY2VydGlmaWNhdGU=", "-----END CERTIFICATE-----"])
    assert bad.value.condition == "bad-request"
    first = await federate(me, pem_of(f"student01.{DOMAIN}"))
    again = await federate(me, pem_of(f"other.{DOMAIN}"))  # one domain per student: the new certificate replaces
    assert first.value("domain") == again.value("domain") and first.value("fingerprint") != again.value("fingerprint")
    assert list(server.s2s.known.certificates) == [f"student01.{DOMAIN}"]
    assert "no longer" in (await federate(me, [])).note and not server.s2s.known.certificates


async def test_outside_a_class_the_students_side_says_so_and_starts_nothing(capsys):
    from xmpplab.classroom.federation import NEEDS_A_CLASS

    before = running_labs()
    assert await federate_with_class() is None
    assert capsys.readouterr().out.strip() == NEEDS_A_CLASS and running_labs() == before


async def test_one_call_from_a_class_kernel_federates_the_students_own_server(school, tmp_path, monkeypatch):
    server, _, _ = school
    secret = tmp_path / "password"
    secret.write_text({str(a.jid): a.password for a in read_csv(tmp_path / "class.csv")}[f"student01@{DOMAIN}"])
    monkeypatch.setenv("XMPPLAB_PASSWORD_FILE", str(secret))
    use_class(f"127.0.0.1:{server.port}", f"student01@{DOMAIN}")
    student._passwords.clear()
    try:
        first = await federate_with_class()
        own = await federate_with_class()  # a cell run again: one server of one's own, the first one stopped
        assert not first.running and own.domain == f"student01.{DOMAIN}"
        juliet = await own.connect(f"juliet@{own.domain}/balcony")
        await juliet.send_message(own.me.jid, "Hello from my own server!")
        got = await own.me.next("message", timeout=10)
        assert got["from"] == f"juliet@student01.{DOMAIN}/balcony"
        await own.me.send_message(got["from"], "Hello back, over your stream!")
        assert (await juliet.next("message", timeout=10))["body"] == "Hello back, over your stream!"
        # the Lab's recording holds the s2s stream the student's server opened; the graph, both servers
        s2s = [c for c in own.transcript.connections.values() if c.kind == "s2s"]
        assert [(c.role, c.id) for c in s2s] == [("initiating", "s2sout-1")]
        assert "Hello back, over your stream!" in "".join(e.get("data", "") for e in own.events
                                                          if e["conn"] == s2s[0].id)
        text = routing_graph(own)._repr_mimebundle_()["text/plain"]
        assert f"{own.domain} ⇄ {DOMAIN}" in text, text
        assert not server.s2s.outgoing and (DOMAIN, own.domain) in server.s2s.bidi
        await own.stop()
        await until(lambda: not server.s2s.bidi, server)
    finally:
        use_class(None)
