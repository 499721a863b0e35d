"""Password hashing (PBKDF2) runs off the event loop: others are served while a hash is under way.

No clock: the hashing function is wrapped in a :class:`Gate` that holds each call (in whatever thread runs
it) until the test lets it go. While a registration, a password change or a PLAIN login is held mid-hash,
another client's ping must be answered; and the thread that hashed must not be the event loop's (a hash on the
loop would hold every client, and the test with them).
"""

import asyncio
import base64
import threading

from tests.support import RawClient
from xmpplab.server import Server
from xmpplab.server.auth import check_password
from xmpplab.xml import NS_SASL

NS_REGISTER = "jabber:iq:register"
PING = "<iq type='get' id='{id}' to='example.com'><ping xmlns='urn:xmpp:ping'/></iq>"


class Gate:
    """Stands in for a hashing function: says that a call started, holds it until released (at most
    ``hold`` seconds, so a hash wrongly run on the loop cannot hang the test), then runs the real one."""

    def __init__(self, func, hold: float = 5.0):
        self.func, self.hold = func, hold
        self.entered, self.release = threading.Event(), threading.Event()
        self.threads: list[int] = []

    def open(self) -> None:
        """Let calls through at once (until :meth:`arm`)."""
        self.release.set()

    def arm(self) -> None:
        """From now on hold the next call."""
        self.entered.clear()
        self.release.clear()
        self.threads.clear()

    def __call__(self, *args):
        self.threads.append(threading.get_ident())
        self.entered.set()
        self.release.wait(self.hold)
        return self.func(*args)


async def served_while_hashing(gate: Gate, watcher) -> None:
    """Once a hash is held mid-way, the watcher's ping is answered; then the hash is let go."""
    try:
        assert await asyncio.to_thread(gate.entered.wait, 10), "no password was hashed"
        reply = await watcher.request(PING.format(id="while-hashing"), timeout=3)
        assert reply.get("type") == "result"
    finally:
        gate.release.set()
    assert threading.get_ident() not in gate.threads, "the event loop's own thread hashed the password"


async def test_others_are_served_while_a_registration_hashes_its_password(monkeypatch):
    from xmpplab.server.modules import register
    gate = Gate(register.make_credentials)
    monkeypatch.setattr(register, "make_credentials", gate)
    async with Server(["example.com"], register=True) as server:
        server.accounts.add("juliet@example.com", "secret")
        watcher, newcomer = await RawClient.open(server.port), await RawClient.open(server.port)
        try:
            await watcher.login("juliet@example.com/watch")
            await newcomer.open_stream()
            await newcomer.send(f"<iq type='set' id='r1'><query xmlns='{NS_REGISTER}'>"
                                "<username>nurse</username><password>pw</password></query></iq>")
            await served_while_hashing(gate, watcher)
            assert (await newcomer.recv(timeout=30)).get("type") == "result"
            assert "nurse@example.com" in server.accounts.list()
        finally:
            await watcher.close()
            await newcomer.close()


async def test_others_are_served_while_a_password_change_hashes_the_new_one(monkeypatch):
    """XEP-0077 3.3: a password change hashes the new password too, off the loop; the new one works."""
    from xmpplab.server.modules import register
    gate = Gate(register.make_credentials)
    monkeypatch.setattr(register, "make_credentials", gate)
    async with Server(["example.com"]) as server:
        server.accounts.add("juliet@example.com", "secret")
        server.accounts.add("romeo@example.com", "secret")
        watcher, changer = await RawClient.open(server.port), await RawClient.open(server.port)
        try:
            await watcher.login("juliet@example.com/watch")
            await changer.login("romeo@example.com/phone")
            await changer.send(f"<iq type='set' id='p1' to='example.com'><query xmlns='{NS_REGISTER}'>"
                               "<username>romeo</username><password>new</password></query></iq>")
            await served_while_hashing(gate, watcher)
            assert (await changer.recv(timeout=30)).get("type") == "result"
            assert check_password(server.storage.get_account("example.com", "romeo"), "new")
        finally:
            await watcher.close()
            await changer.close()


async def test_others_are_served_while_a_plain_login_is_checked(monkeypatch):
    from xmpplab import sasl
    gate = Gate(sasl._password_matches)
    gate.open()  # the test's raw clients log in with PLAIN too: the watcher's login goes through at once
    monkeypatch.setattr(sasl, "_password_matches", gate)
    async with Server(["example.com"]) as server:
        server.accounts.add("juliet@example.com", "secret")
        server.accounts.add("romeo@example.com", "secret")
        watcher, guesser = await RawClient.open(server.port), await RawClient.open(server.port)
        try:
            await watcher.login("juliet@example.com/watch")
            gate.arm()
            await guesser.open_stream()
            wrong = base64.b64encode(b"\0romeo\0wrong").decode()
            await guesser.send(f"<auth xmlns='{NS_SASL}' mechanism='PLAIN'>{wrong}</auth>")
            await served_while_hashing(gate, watcher)
            failure = await guesser.recv(timeout=30)
            assert failure[0].tag == f"{{{NS_SASL}}}not-authorized"
        finally:
            await watcher.close()
            await guesser.close()


async def test_elements_sent_behind_a_registration_are_answered_in_order():
    async with Server(["example.com"], register=True) as server:
        c = await RawClient.open(server.port)
        try:
            await c.open_stream()
            await c.send(f"<iq type='set' id='a'><query xmlns='{NS_REGISTER}'><username>ann</username>"
                         f"<password>pw</password></query></iq>"
                         f"<iq type='set' id='b'><query xmlns='{NS_REGISTER}'><username>ann</username>"
                         f"<password>pw</password></query></iq>"
                         f"<iq type='get' id='c'><query xmlns='{NS_REGISTER}'/></iq>")
            answers = [await c.recv() for _ in range(3)]
            assert [(a.get("id"), a.get("type")) for a in answers] == [("a", "result"), ("b", "error"),
                                                                       ("c", "result")]
        finally:
            await c.close()


async def test_a_client_that_floods_while_its_password_is_checked_waits_then_is_closed():
    """Reading stops while the hash runs (the rest of the read waits unparsed, the kernel holds the rest);
    afterwards the answers come in order: <success/>, then the stanzas sent before the stream restart
    close the stream (RFC 6120 6.4.6: the client must restart the stream first)."""
    async with Server(["example.com"], register=True) as server:
        server.accounts.add("juliet@example.com", "secret")
        c = await RawClient.open(server.port)
        try:
            await c.open_stream()
            plain = base64.b64encode(b"\0juliet\0secret").decode()
            await c.send(f"<auth xmlns='{NS_SASL}' mechanism='PLAIN'>{plain}</auth>" +
                         "".join(f"<iq type='get' id='q{i}'><query xmlns='{NS_REGISTER}'/></iq>" for i in range(100)))
            got = await c.recv()
            assert got.tag == f"{{{NS_SASL}}}success", got
            got = await c.recv()
            assert got.tag == "{http://etherx.jabber.org/streams}error", got
        finally:
            await c.close()


async def test_a_password_saslprep_refuses_gets_not_acceptable_and_the_stream_stays(caplog):
    """Found by the fuzzer: a password with control characters (here CR) made the hashing fail in its thread,
    logged an ERROR and closed the stream. SASLprep (RFC 4013) refuses such a password: XEP-0077 answers
    not-acceptable, for registration and for a password change alike, and nothing is logged as an error."""
    async with Server(["example.com"], register=True) as server:
        server.accounts.add("juliet@example.com", "secret")
        c, j = await RawClient.open(server.port), await RawClient.open(server.port)
        try:
            await c.open_stream()
            reply = await c.request(f"<iq type='set' id='r1'><query xmlns='{NS_REGISTER}'><username>nurse</username>"
                                    "<password>secr&#13;et</password></query></iq>")
            assert reply.get("type") == "error"
            assert reply.find(".//{urn:ietf:params:xml:ns:xmpp-stanzas}not-acceptable") is not None
            assert "nurse" not in server.accounts.list() and "nurse@example.com" not in server.accounts.list()
            again = await c.request(f"<iq type='get' id='r2'><query xmlns='{NS_REGISTER}'/></iq>")
            assert again.get("type") == "result"  # the stream is still open
            await j.login("juliet@example.com/balcony")
            change = await j.request(f"<iq type='set' id='p1' to='example.com'><query xmlns='{NS_REGISTER}'>"
                                     "<username>juliet</username><password>a&#x85;b</password></query></iq>")
            assert change.find(".//{urn:ietf:params:xml:ns:xmpp-stanzas}not-acceptable") is not None
            assert check_password(server.storage.get_account("example.com", "juliet"), "secret")
        finally:
            await c.close()
            await j.close()
    assert not [r for r in caplog.records if r.levelname == "ERROR"], [r.getMessage() for r in caplog.records]
