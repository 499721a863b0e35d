"""Password hashing (PBKDF2) runs off the event loop: others' round trips stay short meanwhile.

The hash is made slow on purpose (a high ``scram_iterations``) and timed in the test itself; while one
client registers accounts or fails PLAIN logins, another pings the server back to back. No absolute timing
is asserted: the slowest ping must stay well under one hash (on a blocked loop it waits for a whole hash).
"""

import asyncio
import base64
import time

from tests.support import RawClient
from xmpplab.server import Server
from xmpplab.server.auth import check_password, make_credentials
from xmpplab.xml import NS_SASL

NS_REGISTER = "jabber:iq:register"


def iterations_for(seconds: float) -> int:
    """A PBKDF2 iteration count for which one check_password takes about ``seconds`` here."""
    creds = make_credentials("calibrate", 20_000)
    start = time.perf_counter()
    check_password(creds, "calibrate")
    per_iteration = (time.perf_counter() - start) / 20_000
    return max(20_000, int(seconds / per_iteration))


class Pinger:
    """Pings the server back to back from a logged-in client; ``worst`` is the slowest round trip."""

    def __init__(self, client):
        self.client, self.worst, self.count, self.running = client, 0.0, 0, True
        self.task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self):
        while self.running:
            start = time.perf_counter()
            reply = await self.client.request(f"<iq type='get' id='ping{self.count}' to='example.com'>"
                                              "<ping xmlns='urn:xmpp:ping'/></iq>", timeout=30)
            assert reply.get("type") == "result"
            self.worst = max(self.worst, time.perf_counter() - start)
            self.count += 1

    async def stop(self):
        """Stop after the ping under way (cancelling could be lost inside wait_for on Python 3.11)."""
        self.running = False
        await self.task


def hash_seconds(func, *args) -> float:
    start = time.perf_counter()
    func(*args)
    return time.perf_counter() - start


async def test_pings_stay_fast_while_someone_registers_many_accounts():
    iterations = iterations_for(0.25)
    async with Server(["example.com"], register=True, scram_iterations=iterations) as server:
        server.accounts.add("juliet@example.com", "secret")
        one_hash = hash_seconds(make_credentials, "pw", iterations)  # what one registration costs
        watcher, flood = await RawClient.open(server.port), await RawClient.open(server.port)
        try:
            await watcher.login("juliet@example.com/watch")
            pinger = Pinger(watcher)
            await flood.open_stream()
            for i in range(4):
                reply = await flood.request(f"<iq type='set' id='r{i}'><query xmlns='{NS_REGISTER}'>"
                                            f"<username>bot{i}</username><password>pw</password></query></iq>",
                                            timeout=60)
                assert reply.get("type") == "result"
            await pinger.stop()
            assert pinger.count >= 4
            assert pinger.worst < one_hash * 0.8, (pinger.worst, one_hash)  # blocked: about one whole hash
            assert len(server.accounts) == 5
        finally:
            await watcher.close()
            await flood.close()


async def test_pings_stay_fast_while_someone_changes_their_password():
    """XEP-0077 3.3: a password change hashes the new password too, off the loop; the new one works."""
    iterations = iterations_for(0.25)
    async with Server(["example.com"], scram_iterations=iterations) as server:
        server.accounts.add("juliet@example.com", "secret")
        server.accounts.add("romeo@example.com", "secret")
        one_hash = hash_seconds(make_credentials, "pw", iterations)
        watcher, changer = await RawClient.open(server.port), await RawClient.open(server.port)
        try:
            await watcher.login("juliet@example.com/watch")
            await changer.login("romeo@example.com/phone")
            pinger = Pinger(watcher)
            for i in range(4):
                reply = await changer.request(f"<iq type='set' id='p{i}' to='example.com'>"
                                              f"<query xmlns='{NS_REGISTER}'><username>romeo</username>"
                                              f"<password>new{i}</password></query></iq>", timeout=60)
                assert reply.get("type") == "result"
            await pinger.stop()
            assert pinger.count >= 4
            assert pinger.worst < one_hash * 0.8, (pinger.worst, one_hash)  # blocked: about one whole hash
            assert check_password(server.storage.get_account("example.com", "romeo"), "new3")
        finally:
            await watcher.close()
            await changer.close()


async def test_pings_stay_fast_while_someone_fails_plain_logins():
    iterations = iterations_for(0.25)
    async with Server(["example.com"], scram_iterations=iterations) as server:
        server.accounts.add("juliet@example.com", "secret")
        server.accounts.add("romeo@example.com", "secret")
        creds = server.storage.get_account("example.com", "romeo")
        one_hash = hash_seconds(check_password, creds, "wrong")  # what one PLAIN check costs
        watcher = await RawClient.open(server.port)
        guessers = []
        try:
            await watcher.login("juliet@example.com/watch")
            pinger = Pinger(watcher)
            wrong = base64.b64encode(b"\0romeo\0wrong").decode()
            for _ in range(2):
                guesser = await RawClient.open(server.port)
                guessers.append(guesser)
                await guesser.open_stream()
                for _ in range(2):
                    await guesser.send(f"<auth xmlns='{NS_SASL}' mechanism='PLAIN'>{wrong}</auth>")
                    failure = await guesser.recv(timeout=60)
                    assert failure[0].tag == f"{{{NS_SASL}}}not-authorized"
            await pinger.stop()
            assert pinger.count >= 4
            assert pinger.worst < one_hash * 0.8, (pinger.worst, one_hash)  # blocked: about one whole hash
        finally:
            await watcher.close()
            for g in guessers:
                await g.close()


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
