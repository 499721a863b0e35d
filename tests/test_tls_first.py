"""TLS first for peers that are not local (RFC 6120 sections 5.3.1 and 13.8, XEP-0077 section 11).

A peer outside ``Limits.local_networks`` sees only ``<starttls><required/></starttls>`` before TLS: no SASL
mechanism, no registration. Whatever it tries instead is answered with the stream error ``<policy-violation/>``
("encryption is required"). After STARTTLS, login and in-band registration work as on loopback.

Here the loopback client is made "remote" with ``Limits(local_networks=())``; tests/test_off_loopback.py does
the same for real with an address off loopback inside a private network namespace.
"""

import base64

import pytest
from lxml import etree

from tests.support import RawClient
from xmpplab.server import Server
from xmpplab.server.limits import Limits
from xmpplab.xml import NS_SASL, NS_TLS, serialize

NS_REGISTER = "jabber:iq:register"
FEATURE_REGISTER = "{http://jabber.org/features/iq-register}register"
REMOTE = Limits(local_networks=())
JULIET_PLAIN = base64.b64encode(b"\0juliet\0secret").decode()


def name(el):
    return el if isinstance(el, str) else etree.QName(el).localname


def stream_error(el):
    """(condition, text) of a ``<stream:error/>``."""
    assert name(el) == "error", el if isinstance(el, str) else serialize(el)
    return name(el[0]), el.findtext("{urn:ietf:params:xml:ns:xmpp-streams}text") or ""


def offered(features):
    """What a features element offers, as short names: starttls, starttls-required, mechanisms, register."""
    out = []
    tls = features.find(f"{{{NS_TLS}}}starttls")
    if tls is not None:
        out.append("starttls-required" if tls.find(f"{{{NS_TLS}}}required") is not None else "starttls")
    mechs = [m.text for m in features.iter(f"{{{NS_SASL}}}mechanism")]
    out += mechs
    if features.find(FEATURE_REGISTER) is not None:
        out.append("register")
    return out


@pytest.fixture
async def remote_server():
    """A server that treats every peer, loopback included, as remote; registration on; juliet/secret."""
    srv = Server(["example.com"], register=True, limits=REMOTE)
    await srv.start()
    srv.accounts.add("juliet@example.com", "secret")
    clients = []

    async def connect():
        c = await RawClient.open(srv.port)
        clients.append(c)
        return c

    srv.connect = connect
    try:
        yield srv
    finally:
        for c in clients:
            await c.close()
        await srv.stop()


async def test_before_tls_a_remote_peer_is_offered_starttls_required_only(remote_server):
    c = await remote_server.connect()
    assert offered(await c.open_stream()) == ["starttls-required"]


@pytest.mark.parametrize("mechanism, payload", [
    ("PLAIN", JULIET_PLAIN),
    ("SCRAM-SHA-256", base64.b64encode(b"n,,n=juliet,r=abcdefgh").decode()),
    ("SCRAM-SHA-1", ""),
])
async def test_sasl_before_tls_is_a_policy_violation(remote_server, mechanism, payload):
    c = await remote_server.connect()
    await c.open_stream()
    await c.send(f"<auth xmlns='{NS_SASL}' mechanism='{mechanism}'>{payload}</auth>")
    condition, text = stream_error(await c.recv())
    assert condition == "policy-violation"
    assert "encryption is required" in text
    assert await c.recv() == "</stream:stream>"


@pytest.mark.parametrize("kind", ["set", "get"])
async def test_registration_before_tls_is_a_policy_violation_and_creates_nothing(remote_server, kind):
    c = await remote_server.connect()
    await c.open_stream()
    await c.send(f"<iq type='{kind}' id='r1'><query xmlns='{NS_REGISTER}'>"
                 "<username>mallory</username><password>sniffed</password></query></iq>")
    condition, text = stream_error(await c.recv())
    assert condition == "policy-violation" and "encryption is required" in text
    assert "mallory@example.com" not in remote_server.accounts


async def test_after_starttls_a_remote_peer_registers_and_logs_in(remote_server):
    c = await remote_server.connect()
    await c.open_stream()
    await c.starttls()
    assert offered(await c.open_stream()) == ["SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN", "register"]
    reply = await c.request(f"<iq type='set' id='r1'><query xmlns='{NS_REGISTER}'>"
                            "<username>romeo</username><password>wherefore</password></query></iq>")
    assert reply.get("type") == "result", serialize(reply)
    await c.close()
    d = await remote_server.connect()
    assert await d.login("romeo@example.com/pc", "wherefore", tls=True) == "romeo@example.com/pc"


async def test_require_tls_puts_tls_first_for_local_peers_too():
    async with Server(["example.com"], register=True, require_tls=True) as srv:
        c = await RawClient.open(srv.port)
        try:
            assert offered(await c.open_stream()) == ["starttls-required"]
            await c.send(f"<auth xmlns='{NS_SASL}' mechanism='PLAIN'>{JULIET_PLAIN}</auth>")
            assert stream_error(await c.recv())[0] == "policy-violation"
        finally:
            await c.close()


async def test_a_local_peer_without_require_tls_may_still_log_in_without_tls():
    async with Server(["example.com"], register=True) as srv:
        c = await RawClient.open(srv.port)
        try:
            assert offered(await c.open_stream()) == ["starttls", "SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN",
                                                      "register"]
        finally:
            await c.close()


async def test_without_tls_a_remote_peer_can_do_nothing_but_is_told_why():
    async with Server(["example.com"], register=True, tls=False, limits=REMOTE) as srv:
        srv.accounts.add("juliet@example.com", "secret")
        c = await RawClient.open(srv.port)
        try:
            assert offered(await c.open_stream()) == []
            await c.send(f"<auth xmlns='{NS_SASL}' mechanism='PLAIN'>{JULIET_PLAIN}</auth>")
            condition, text = stream_error(await c.recv())
            assert condition == "policy-violation" and "encryption is required" in text
        finally:
            await c.close()


def test_tls_off_is_refused_unless_every_listening_address_is_loopback():
    with pytest.raises(ValueError, match="loopback"):
        Server(["example.com"], host="192.0.2.1", tls=False)
    with pytest.raises(ValueError, match="loopback"):
        Server(["example.com"], host=["127.0.0.1", "10.99.0.1"], tls=False)
    with pytest.raises(ValueError, match="loopback"):
        Server(["example.com"], host="", tls=False)  # every interface
    for host in ("127.0.0.1", "::1", "localhost", ["127.0.0.1", "::1"]):
        Server(["example.com"], host=host, tls=False).storage.close()
    Server(["example.com"], host="192.0.2.1").storage.close()  # TLS on (the default): any address


def test_require_tls_without_tls_is_refused():
    with pytest.raises(ValueError, match="TLS"):
        Server(["example.com"], tls=False, require_tls=True)


async def test_negotiation_timeout_closes_a_remote_peer_that_does_not_finish():
    async with Server(["example.com"], limits=REMOTE.replace(negotiation_timeout=0.3)) as srv:
        c = await RawClient.open(srv.port)
        try:
            await c.open_stream()
            condition, _ = stream_error(await c.recv(timeout=10))
            assert condition == "connection-timeout"
            assert await c.recv() == "</stream:stream>"
        finally:
            await c.close()
