"""The same recording Client against servers nobody here wrote: Prosody and ejabberd (Debian's packages).

Each server is started once per module on a loopback port, with its own
config, data and self-signed certificate (xmpplab.testing). Missing programs
skip with a reason; under XMPPLAB_REQUIRE_PEERS=1 (CI, .ci/run) they fail.
Each test registers fresh accounts in-band, so tests do not see each other's
stanzas (Prosody keeps offline messages even without mod_offline enabled).
"""

import contextlib
import os
import secrets
import signal

import pytest

from tests.peers import INSTALL_HINT, need_program
from xmpplab.client import Client, ConnectError, RosterItem
from xmpplab.testing.ejabberd import EjabberdServer, ejabberd_path
from xmpplab.testing.prosody import ProsodyServer, prosody_path

pytestmark = pytest.mark.peer

DOMAIN = "example.com"
PASSWORD = "secret"


@pytest.fixture(scope="module", params=["prosody", "ejabberd"])
def peer(request):
    """A running Prosody or ejabberd for example.com on 127.0.0.1 (STARTTLS, self-signed certificate)."""
    if request.param == "prosody":
        need_program("prosody", prosody_path() is not None, f"apt-get install prosody, or run {INSTALL_HINT}")
        server = ProsodyServer(domains=[DOMAIN])
    else:
        need_program("ejabberd", ejabberd_path() is not None, f"apt-get install ejabberd, or run {INSTALL_HINT}")
        server = EjabberdServer(domains=[DOMAIN])
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def new_accounts(peer, *names):
    """Register fresh accounts (``juliet-3fa2c1@example.com``) in-band and return their bare JIDs."""
    jids = []
    for name in names:
        user = f"{name}-{secrets.token_hex(3)}"
        await peer.aregister(user, DOMAIN, PASSWORD)
        jids.append(f"{user}@{DOMAIN}")
    return jids


async def connect(peer, jid, **kw):
    kw.setdefault("verify_tls", False)
    return await Client.connect(jid, PASSWORD, host=peer.host, port=peer.port, **kw)


def text(events, direction, start=0):
    return "".join(e["data"] for e in events[start:] if e["type"] == "data" and e["dir"] == direction)


async def test_login_verifies_the_certificate_or_not(peer):
    (juliet_jid,) = await new_accounts(peer, "juliet")
    # Verification on, trusting the server's own self-signed certificate.
    juliet = await connect(peer, f"{juliet_jid}/balcony", verify_tls=True, ca_file=peer.cert_file)
    try:
        assert str(juliet.jid) == f"{juliet_jid}/balcony"
        kinds = [e["type"] for e in juliet.events if e["type"] != "data"]
        assert kinds == ["open", "tls", "auth", "bound"]
        assert next(e for e in juliet.events if e["type"] == "tls")["version"].startswith("TLSv1")
        assert next(e for e in juliet.events if e["type"] == "auth")["mechanism"].startswith("SCRAM-")
    finally:
        await juliet.disconnect()
    # Verification on, nothing to trust it with: a clear refusal.
    with pytest.raises(ConnectError, match="TLS certificate verification failed.*verify_tls=False"):
        await connect(peer, f"{juliet_jid}/balcony", verify_tls=True)
    # A wrong password.
    with pytest.raises(ConnectError, match="could not log in.*not-authorized"):
        await Client.connect(f"{juliet_jid}/balcony", "wrong", host=peer.host, port=peer.port, verify_tls=False)


async def test_message_exchange_is_recorded_as_plaintext_both_ways(peer):
    juliet_jid, romeo_jid = await new_accounts(peer, "juliet", "romeo")
    juliet = await connect(peer, f"{juliet_jid}/balcony")
    romeo = await connect(peer, f"{romeo_jid}/orchard")
    try:
        await juliet.send_message(romeo_jid, "Wherefore art thou Romeo? <&>")
        got = await romeo.next("message", from_=juliet_jid)
        assert got["body"] == "Wherefore art thou Romeo? <&>"
        await romeo.send_message(got["from"], "Call me but love ☀")
        reply = await juliet.next("message", from_=romeo_jid)
        assert reply["body"] == "Call me but love ☀"
    finally:
        await juliet.disconnect()
        await romeo.disconnect()
    events = juliet.events
    assert {e["conn"] for e in events} == {juliet.conn}
    tls_at = next(i for i, e in enumerate(events) if e["type"] == "tls")
    # Before TLS: the stream header, features, <starttls/> and <proceed/>, nothing secret.
    assert "<starttls" in text(events[:tls_at], "out") and "<proceed" in text(events[:tls_at], "in")
    assert "<auth" not in text(events[:tls_at], "out")
    # Above TLS, both directions as the plaintext the peers exchanged.
    sent, received = text(events, "out", tls_at), text(events, "in", tls_at)
    assert "<auth " in sent and "<success" in received
    assert "Wherefore art thou Romeo? &lt;&amp;&gt;" in sent
    assert "Call me but love ☀" in received
    assert sent.endswith("</stream:stream>") and "</stream:stream>" in received
    assert events[-1]["type"] == "close" and events[-1]["clean"] is True


async def test_roster_subscribe_and_approve(peer):
    juliet_jid, romeo_jid = await new_accounts(peer, "juliet", "romeo")
    juliet = await connect(peer, f"{juliet_jid}/balcony")
    romeo = await connect(peer, f"{romeo_jid}/orchard")
    try:
        assert await juliet.roster() == []
        await juliet.subscribe(romeo_jid)
        request = await romeo.next("presence", predicate=lambda p: p["type"] == "subscribe")
        assert request["from"].bare == juliet_jid
        await romeo.approve(juliet_jid)
        await juliet.next("presence", predicate=lambda p: p["type"] == "subscribed")
        assert await juliet.roster() == [RosterItem(jid=romeo_jid, subscription="to")]
        assert [(i.jid, i.subscription) for i in await romeo.roster()] == [(juliet_jid, "from")]
    finally:
        await juliet.disconnect()
        await romeo.disconnect()


@pytest.mark.parametrize("kind", ["prosody", "ejabberd"])
def test_a_process_that_ends_without_stop_leaves_no_server_behind(kind, tmp_path):
    """A notebook kernel or script that ends with the server still started (no stop(), no with) takes the
    server down with it: its process and its folder are gone."""
    import subprocess
    import sys

    import psutil
    found = prosody_path() if kind == "prosody" else ejabberd_path()
    need_program(kind, found is not None, f"apt-get install {kind}, or run {INSTALL_HINT}")
    launcher = "ProsodyServer" if kind == "prosody" else "EjabberdServer"
    script = (f"from xmpplab.testing.{kind} import {launcher}\n"
              f"s = {launcher}(domains=['left.example']).start()\n"
              "print(s.pid, s.workdir, flush=True)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    pid, workdir = done.stdout.split()
    try:
        assert not psutil.pid_exists(int(pid)) or psutil.Process(int(pid)).status() == psutil.STATUS_ZOMBIE
        assert not os.path.exists(workdir)
    finally:  # when it failed: do not leave the server to the next tests
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(int(pid), signal.SIGKILL)
