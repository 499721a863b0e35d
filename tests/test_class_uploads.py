"""File sharing on a class server (chapter 18 in a class, XEP-0363): with --http-port the class server hands out
upload slots under a class's limits, a student's practice accounts share the student's quota, and a student's
kernel sends its files only to the class server's own certificate."""

import pytest

from tests.support import RawClient
from tests.support_classroom import start_classroom, stop_classroom
from tests.support_stanzas import condition
from tests.support_upload import slot_request
from xmpplab import Lab
from xmpplab.classroom.command import class_upload
from xmpplab.classroom.handout import certificate_fingerprint
from xmpplab.client import ClientError
from xmpplab.pinning import pin
from xmpplab.server import Server
from xmpplab.server.core import DEFAULT_MODULES
from xmpplab.server.limits import MiB
from xmpplab.xml import NS_DISCO_INFO

DOMAIN = "class.example"
UPLOAD = f"upload.{DOMAIN}"


@pytest.fixture
async def school():
    """A class server with an HTTP port and the class's upload limits; two students with practice accounts."""
    srv = Server([DOMAIN], tls=False, http_port=0, modules=(class_upload(), *DEFAULT_MODULES, "classmates"))
    await srv.start()
    for user in ("student01", "student01.romeo", "student01.juliet", "student02", "student02.romeo"):
        srv.accounts.add(f"{user}@{DOMAIN}", "secret")
    opened = []

    async def login(user):
        c = await RawClient.open(srv.port)
        opened.append(c)
        await c.login(f"{user}@{DOMAIN}")
        return c

    try:
        yield srv, login
    finally:
        for c in opened:
            await c.close()
        await srv.stop()


def _slot(size: int, n: int) -> str:
    return slot_request(f"photo{n}.png", size, "image/png", to=UPLOAD, id=f"u{n}")


async def test_a_students_practice_accounts_share_the_students_quota(school):
    server, login = school
    romeo = await login("student01.romeo")
    for n in range(5):  # 5 x 2 MiB: the whole 10 MiB of student01 (a slot counts from the moment it is given)
        assert (await romeo.request(_slot(2 * MiB, n))).get("type") == "result"
    for user in ("student01.juliet", "student01"):  # another practice account, the student: the same quota
        refused = await (await login(user)).request(_slot(1, 9))
        assert condition(refused) == "resource-constraint"
        assert f"student01@{DOMAIN} and the accounts counted with it" in refused.findtext(
            ".//{urn:ietf:params:xml:ns:xmpp-stanzas}text")
    other = await login("student02.romeo")  # another student's quota is their own
    assert (await other.request(_slot(2 * MiB, 1))).get("type") == "result"


async def test_a_file_over_the_class_limit_is_refused_before_it_is_sent(school):
    server, login = school
    romeo = await login("student02.romeo")
    too_big = await romeo.request(_slot(2 * MiB + 1, 1))
    assert condition(too_big) == "not-acceptable"
    assert too_big.findtext(".//{urn:xmpp:http:upload:0}max-file-size") == str(2 * MiB)


async def test_the_classroom_command_serves_files_on_its_http_port_with_the_class_limits(tmp_path):
    proc, said = await start_classroom(tmp_path, "--students", "1", "--http-port", "0", "--no-federation")
    try:
        assert "file upload (XEP-0363: 2 MiB a file, 10 MiB a student with their practice accounts)" in said
        port = int(said.split("on 127.0.0.1:")[1].split()[0])
        password = next(line.split(",")[1] for line in (tmp_path / "class.csv").read_text().splitlines()
                        if line.startswith(f"student01@{DOMAIN},"))
        c = await RawClient.open(port)
        try:
            await c.login(f"student01@{DOMAIN}/laptop", password, tls=True)
            info = await c.request(f"<iq type='get' id='i' to='{UPLOAD}'><query xmlns='{NS_DISCO_INFO}'/></iq>")
            sizes = [v.text for v in info.iter("{jabber:x:data}value")]
            assert str(2 * MiB) in sizes
        finally:
            await c.close()
    finally:
        await stop_classroom(proc)


async def test_a_pinned_client_sends_its_file_only_to_the_pinned_certificate():
    """In a class each practice client pins the class server's HTTPS (the certificate of its XMPP port): another
    certificate is refused in one sentence before the file is sent; the right one passes."""
    async with Lab.start(http_port=0, private=True) as lab:
        juliet = await lab.connect("juliet@example.com/phone")
        wrong = "sha256:" + ":".join(["AB"] * 32)
        juliet.https_pin = (lab.server.address[0], pin(wrong, "the class server"))
        with pytest.raises(ClientError, match="fingerprint"):
            await juliet.upload("moon.png", b"\x89PNG moon")
        assert lab.server.uploads.files() == []  # nothing was PUT
        right = "sha256:" + certificate_fingerprint(lab.server)
        juliet.https_pin = (lab.server.address[0], pin(right, "the class server"))
        url = await juliet.upload("moon.png", b"\x89PNG moon")
        assert (await juliet.download(url)).data == b"\x89PNG moon"
