"""The class server's certificate is pinned (issue 12, the students' side): the handout's SHA-256 fingerprint is
checked by every TLS connection a student's kernel makes to the class server (the student's login, the Lab's
recording proxy), and by the teacher's; a man in the middle (here a recording proxy, which shows a certificate
of its own) is refused with one sentence naming both fingerprints, before any password crosses."""

import ast
import html
import json
import os
import re
import subprocess
import sys

import pytest

import tests.test_teacher as teacher_tests
from tests.test_off_loopback import ROOT, need_namespaces
from xmpplab import Lab
from xmpplab.certs import certificate_file
from xmpplab.classroom import (
    ClassroomError,
    certificate_fingerprint,
    join_class,
    read_csv,
    render_handout,
    student,
    trust,
)
from xmpplab.classroom.remote import ClassLab
from xmpplab.classroom.student import use_class
from xmpplab.classroom.teacher import Teacher
from xmpplab.classroom.trust import ClassCertificate
from xmpplab.client import Client, ConnectError
from xmpplab.pinning import normalise, of_pem
from xmpplab.proxy import RecordingProxy
from xmpplab.server import Server

DOMAIN = "class.example"
ME = f"student01@{DOMAIN}"


@pytest.fixture
async def school(tmp_path, monkeypatch):
    """A class server with one certificate; this kernel's password for student01 comes from a file."""
    async for server, passwords, _connect in teacher_tests.school.__wrapped__(tmp_path):
        secret = tmp_path / "password"
        secret.write_text(passwords[ME] + "\n")
        monkeypatch.setenv("XMPPLAB_PASSWORD_FILE", str(secret))
        for name in ("XMPPLAB_SERVER", "XMPPLAB_ACCOUNT", "XMPPLAB_FINGERPRINT"):
            monkeypatch.delenv(name, raising=False)
        student._passwords.clear()
        trust._first_seen.clear()
        try:
            yield server, passwords, certificate_fingerprint(server)
        finally:
            use_class(None)
            trust._first_seen.clear()


@pytest.fixture
async def mitm(school, tmp_path):
    """A man in the middle in front of the class server: it forwards everything, with a certificate of its own
    for the class's domain (a second one, made with cryptography)."""
    server = school[0]
    events = []
    theirs = certificate_file([DOMAIN], directory=tmp_path / "mitm")
    proxy = await RecordingProxy("127.0.0.1", 0, "127.0.0.1", server.port, recorder=events.append,
                                 cert=str(theirs)).start()
    proxy.events = events
    try:
        yield proxy
    finally:
        await proxy.stop()


async def _its_certificate(proxy) -> str:
    return (await proxy.server_context(DOMAIN))[1]


def _no_password_crossed(proxy) -> bool:
    return not any("<auth" in e.get("data", "") for e in proxy.events)


async def test_a_student_pinning_the_handouts_fingerprint_works_through_the_labs_proxy(school):
    server, passwords, fingerprint = school
    use_class(f"127.0.0.1:{server.port}", ME, fingerprint=f"sha256:{fingerprint.lower()}")
    async with Lab.start() as lab:
        assert isinstance(lab, ClassLab) and lab.me.fingerprint == fingerprint
        juliet = await lab.connect("juliet@example.com/balcony")
        romeo = await lab.connect("romeo@example.net/orchard")
        await juliet.send_message("romeo@example.net", "Art thou not Romeo?")
        assert (await romeo.next("message"))["body"] == "Art thou not Romeo?"
        assert lab.server.certificate.fingerprint == fingerprint and lab.server.certificate.refused is None


async def test_a_man_in_the_middle_is_refused_with_both_fingerprints_before_the_password(school, mitm):
    server, passwords, fingerprint = school
    use_class(f"127.0.0.1:{mitm.port}", ME, fingerprint=f"sha256:{fingerprint}")
    with pytest.raises(ConnectError) as refused:
        await Lab.start()
    theirs = await _its_certificate(mitm)
    said = str(refused.value)
    assert theirs != fingerprint and theirs in said and fingerprint in said
    assert said.startswith(f"Refused the class server at 127.0.0.1:{mitm.port}: ") and said.count(". ") == 0
    assert _no_password_crossed(mitm)


async def test_the_labs_proxy_refuses_a_man_in_the_middle_on_its_leg_to_the_class_server(school, mitm):
    server, passwords, fingerprint = school
    use_class(f"127.0.0.1:{server.port}", ME, fingerprint=f"sha256:{fingerprint}")
    async with Lab.start() as lab:
        await lab.connect("juliet@example.com/balcony")
        lab.server.proxy.upstream_port = mitm.port  # from now on someone sits between the kernel and the class
        with pytest.raises(ConnectError) as refused:
            await lab.connect("romeo@example.net/orchard")
        theirs = await _its_certificate(mitm)
        assert theirs in str(refused.value) and fingerprint in str(refused.value)
        assert _no_password_crossed(mitm)


async def test_a_fingerprint_of_another_certificate_is_refused(school, tmp_path):
    server, passwords, fingerprint = school
    other = of_pem(certificate_file(["other.example"], directory=tmp_path).read_text())  # made with cryptography
    with pytest.raises(ConnectError, match=re.escape(other)) as refused:
        await join_class(f"127.0.0.1:{server.port}", ME, fingerprint=f"sha256:{other}", report=False)
    assert fingerprint in str(refused.value)


async def test_the_fingerprint_from_the_environment_is_checked(school, mitm, monkeypatch):
    server, passwords, fingerprint = school
    monkeypatch.setenv("XMPPLAB_SERVER", f"127.0.0.1:{mitm.port}")
    monkeypatch.setenv("XMPPLAB_ACCOUNT", ME)
    monkeypatch.setenv("XMPPLAB_FINGERPRINT", f"sha256:{fingerprint}")
    with pytest.raises(ConnectError, match=fingerprint):
        await join_class(report=False)
    monkeypatch.setenv("XMPPLAB_FINGERPRINT", "sha256:12:34")
    with pytest.raises(ClassroomError, match="XMPPLAB_FINGERPRINT: '.*' is not a SHA-256 fingerprint"):
        await join_class(report=False)


async def test_without_a_fingerprint_a_loopback_class_server_is_trusted_on_first_use_for_the_kernel(school, mitm):
    server, passwords, fingerprint = school
    use_class(f"127.0.0.1:{server.port}", ME)
    async with Lab.start() as lab:  # the first certificate this kernel sees there is remembered
        await lab.connect("juliet@example.com/balcony")
        lab.server.proxy.upstream_port = mitm.port
        with pytest.raises(ConnectError, match=f"this kernel saw {fingerprint} there first"):
            await lab.connect("romeo@example.net/orchard")


def test_off_loopback_a_class_server_is_pinned_and_refused_without_a_fingerprint():
    """Through the wire, in a private network namespace: a class server on 10.99.0.1 (tests/netns_class_pin.py)."""
    need_namespaces()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    run = subprocess.run(["unshare", "-n", "--", sys.executable, "-m", "tests.netns_class_pin"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    fingerprint = seen["fingerprint"]
    assert "it is not on this machine" in seen["without"]
    assert f"XMPPLAB_FINGERPRINT=sha256:{fingerprint}" in seen["without"]
    assert fingerprint in seen["wrong"] and "AB:AB:AB" in seen["wrong"]
    assert seen["pinned"] == "ok" and seen["lab"] == f"student01.juliet@{DOMAIN}/balcony"


def test_without_a_fingerprint_a_class_server_off_loopback_is_refused_with_the_one_it_shows():
    seen = normalise("ab" * 32)
    said = ClassCertificate("10.99.0.1:5222")(seen)
    assert said.startswith("Refused the class server at 10.99.0.1:5222: it is not on this machine")
    assert f"XMPPLAB_FINGERPRINT=sha256:{seen}" in said
    assert ClassCertificate("10.99.0.1:5222", f"sha256:{seen}")(seen) is None
    assert ClassCertificate("10.99.0.1:5222", "cd" * 32)(seen).startswith("Refused")


async def test_a_pinned_client_refuses_a_server_without_tls():
    server = await Server([DOMAIN], tls=False).start()
    try:
        server.accounts.add(f"juliet@{DOMAIN}", "secret")
        with pytest.raises(ConnectError, match="offered no TLS"):
            await Client.connect(f"juliet@{DOMAIN}", "secret", host="127.0.0.1", port=server.port,
                                 fingerprint="sha256:" + "ab" * 32)
    finally:
        await server.stop()


async def test_the_teachers_dashboard_connection_pins_too(school, mitm):
    server, passwords, fingerprint = school
    me = await Client.connect(f"teacher@{DOMAIN}/dashboard", passwords[f"teacher@{DOMAIN}"], host="127.0.0.1",
                              port=server.port, fingerprint=f"sha256:{fingerprint}")
    try:
        assert await Teacher(me).online() == [f"teacher@{DOMAIN}/dashboard"]
    finally:
        await me.disconnect()
    with pytest.raises(ConnectError, match=fingerprint):
        await Client.connect(f"teacher@{DOMAIN}/dashboard", passwords[f"teacher@{DOMAIN}"], host="127.0.0.1",
                             port=mitm.port, fingerprint=f"sha256:{fingerprint}")
    assert _no_password_crossed(mitm)


async def test_the_handouts_notebook_lines_carry_the_fingerprint_and_work(school, tmp_path, monkeypatch):
    server, passwords, fingerprint = school
    page = render_handout(read_csv(tmp_path / "class.csv"), host="127.0.0.1", port=server.port, domain=DOMAIN,
                          fingerprint=fingerprint)
    card = page[page.index(f"<div class='who'>{ME}</div>"):]
    lines = [html.unescape(c) for c in re.findall(r"<code>(.*?)</code>", card[:card.index("</section>")])]
    course = next(c for c in lines if c.startswith("XMPPLAB_SERVER="))
    assert f"XMPPLAB_FINGERPRINT=sha256:{fingerprint} " in course
    for setting in course.split()[:3]:  # the course's line, as JupyterLab's kernel would get it
        monkeypatch.setenv(*setting.split("=", 1))
    me = await join_class(report=False)
    assert me.fingerprint == fingerprint
    await me.disconnect()
    line = next(c for c in lines if c.startswith("me = await xmpplab.Client.connect("))
    assert f'fingerprint="sha256:{fingerprint}"' in line
    import xmpplab
    scope = {"xmpplab": xmpplab, "getpass": lambda: passwords[ME]}
    await eval(compile(line, "<the card>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT), scope)
    assert scope["me"].fingerprint == fingerprint
    await scope["me"].disconnect()
