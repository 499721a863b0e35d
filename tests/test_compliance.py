"""The README's XEP-0479 compliance table, checked against a running server through the wire, both ways.

Each row of the table names a specification; :data:`CHECKS` says how a client finds out whether the
server does it (service discovery, stream features, an HTTP request, a WebSocket). A ✓ whose check
fails is a README that promises too much; a ✗ whose check passes is a README that sells the server
short. Both fail here.
"""

import asyncio
import re
import ssl
import urllib.request
from pathlib import Path

import pytest
import websockets

from xmpplab.rawclient import RawClient
from xmpplab.server import Server

README = Path(__file__).resolve().parents[1] / "README.md"
DISCO_INFO = "http://jabber.org/protocol/disco#info"
DISCO_ITEMS = "http://jabber.org/protocol/disco#items"


def table() -> dict[str, bool]:
    """The compliance table of the README: specification -> claimed (✓) or not (✗)."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Compliance (XEP-0479"):]
    section = section[:section.index("\n## ", 10)]
    rows = re.findall(r"^\| [^|]+ \| [^|]+ \| ([^|]+?) \| (✓|✗) \|$", section, re.M)
    assert rows, "the README has no compliance table"
    return {spec: mark == "✓" for spec, mark in rows}


class Probe:
    """One logged-in client and what it learned about the server."""

    def __init__(self, server, client, first_features: str):
        self.server, self.client, self.first_features = server, client, first_features

    async def info(self, jid: str, node: str | None = None):
        node_attr = f" node='{node}'" if node else ""
        answer = await self.client.request(f"<iq type='get' to='{jid}' id='i-{jid}'><query xmlns='{DISCO_INFO}'"
                                           f"{node_attr}/></iq>")
        return answer if answer.get("type") == "result" else None

    async def features(self, jid: str) -> set[str]:
        info = await self.info(jid)
        return {f.get("var") for f in info.iter(f"{{{DISCO_INFO}}}feature")} if info is not None else set()

    async def identities(self, jid: str) -> set[tuple]:
        info = await self.info(jid)
        return {(i.get("category"), i.get("type")) for i in info.iter(f"{{{DISCO_INFO}}}identity")} \
            if info is not None else set()

    async def services(self) -> list[str]:
        items = await self.client.request(f"<iq type='get' to='example.com' id='items'>"
                                          f"<query xmlns='{DISCO_ITEMS}'/></iq>")
        return [i.get("jid") for i in items.iter(f"{{{DISCO_ITEMS}}}item")]

    async def service_with(self, feature: str) -> bool:
        for jid in await self.services():
            if feature in await self.features(jid):
                return True
        return False

    def after_login(self, ns: str, name: str) -> bool:
        return self.client.features.find(f"{{{ns}}}{name}") is not None

    def http_get(self, path: str) -> str:
        ctx = ssl.create_default_context()
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
        url = f"https://127.0.0.1:{self.server.http_port}{path}"
        with urllib.request.urlopen(url, context=ctx, timeout=5) as reply:  # noqa: S310 - our own loopback server
            return reply.read().decode()


async def _websocket(p: Probe) -> bool:
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    async with websockets.connect(f"wss://127.0.0.1:{p.server.http_port}/xmpp-websocket", subprotocols=["xmpp"],
                                  ssl=ctx) as ws:
        await ws.send("<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='example.com' version='1.0'/>")
        return "<open" in await asyncio.wait_for(ws.recv(), 5)


async def _direct_tls(p: Probe) -> bool:
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    ctx.set_alpn_protocols(["xmpp-client"])
    _, writer = await asyncio.open_connection("127.0.0.1", p.server.direct_tls_port, ssl=ctx)
    try:
        return writer.get_extra_info("ssl_object").selected_alpn_protocol() == "xmpp-client"
    finally:
        writer.close()


async def _component(p: Probe) -> bool:
    reader, writer = await asyncio.open_connection("127.0.0.1", p.server.component_port)
    try:
        writer.write(b"<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/"
                     b"streams' to='bot.example.com'>")
        return b"jabber:component:accept" in await asyncio.wait_for(reader.read(1024), 5)
    finally:
        writer.close()


async def _room_archive(p: Probe) -> bool:
    room = "lobby@conference.example.com"
    await p.client.send(f"<presence to='{room}/probe'><x xmlns='http://jabber.org/protocol/muc'/></presence>")
    await p.client.request(f"<iq type='set' to='{room}' id='own'><query xmlns='http://jabber.org/protocol/muc#owner'>"
                           "<x xmlns='jabber:x:data' type='submit'/></query></iq>")
    return "urn:xmpp:mam:2" in await p.features(room)


async def _private(p: Probe) -> bool:
    answer = await p.client.request("<iq type='get' id='priv'><query xmlns='jabber:iq:private'>"
                                    "<storage xmlns='storage:bookmarks'/></query></iq>")
    return answer.get("type") == "result"


async def _own(p: Probe, feature: str) -> bool:
    return feature in await p.features("juliet@example.com")


async def _pep(p: Probe) -> bool:
    return ("pubsub", "pep") in await p.identities("juliet@example.com")


#: How a client finds out whether the server does each specification of the table.
CHECKS = {
    "RFC 6120": lambda p: asyncio.sleep(0, p.client.jid is not None),
    "RFC 7590": lambda p: asyncio.sleep(0, re.search(r"<starttls xmlns=.urn:ietf:params:xml:ns:xmpp-tls.",
                                                     p.first_features) is not None),
    "XEP-0030": lambda p: _has(p, DISCO_INFO),
    "XEP-0114": _component,
    "XEP-0368": _direct_tls,
    "XEP-0115": lambda p: asyncio.sleep(0, p.after_login("http://jabber.org/protocol/caps", "c")),
    "XEP-0163": _pep,
    "RFC 7395": _websocket,
    "XEP-0156": lambda p: asyncio.to_thread(lambda: "urn:xmpp:alt-connections:websocket"
                                            in p.http_get("/.well-known/host-meta")),
    "RFC 6121": lambda p: _roster(p),
    "XEP-0054": lambda p: _has(p, "vcard-temp"),
    "XEP-0280": lambda p: _has(p, "urn:xmpp:carbons:2"),
    "XEP-0045": lambda p: p.service_with("http://jabber.org/protocol/muc"),
    "XEP-0363": lambda p: p.service_with("urn:xmpp:http:upload:0"),
    "XEP-0398": lambda p: _own(p, "urn:xmpp:pep-vcard-conversion:0"),  # on the account (XEP-0398 §2)
    "XEP-0191": lambda p: _has(p, "urn:xmpp:blocking"),
    "XEP-0313 on rooms": _room_archive,
    "XEP-0223": lambda p: _own(p, "http://jabber.org/protocol/pubsub#publish-options"),
    "XEP-0049": _private,
    "XEP-0198": lambda p: asyncio.sleep(0, p.after_login("urn:xmpp:sm:3", "sm")),
    "XEP-0313": lambda p: _own(p, "urn:xmpp:mam:2"),
    "XEP-0352": lambda p: asyncio.sleep(0, p.after_login("urn:xmpp:csi:0", "csi")),
    "XEP-0357": lambda p: _own(p, "urn:xmpp:push:0"),
}


async def _has(p: Probe, feature: str) -> bool:
    return feature in await p.features("example.com")


async def _roster(p: Probe) -> bool:
    answer = await p.client.request("<iq type='get' id='r'><query xmlns='jabber:iq:roster'/></iq>")
    return answer.get("type") == "result"


@pytest.fixture
async def probe():
    server = await Server(["example.com"], http_port=0, direct_tls_port=0, components={"bot.example.com": "sesame"},
                          component_port=0).start()
    server.accounts.add("juliet@example.com", "secret")
    client = await RawClient.connect("127.0.0.1", server.port)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
                     b"to='example.com' version='1.0'>")
        first = ""
        while "</stream:features>" not in first:  # what a client is offered before anything else
            first += (await asyncio.wait_for(reader.read(4096), 5)).decode()
        writer.close()
        await client.login("juliet@example.com", "secret", resource="probe")
        yield Probe(server, client, first)
    finally:
        await client.close()
        await server.stop()


def test_the_table_names_only_specifications_with_a_check():
    assert set(table()) == set(CHECKS), set(table()) ^ set(CHECKS)


async def test_the_readme_compliance_table_is_what_the_server_does(probe):
    claimed = table()
    wrong = []
    for spec, check in CHECKS.items():
        try:
            does = bool(await check(probe))
        except (OSError, TimeoutError) as exc:
            does, why = False, f" ({exc})"
        else:
            why = ""
        if does != claimed[spec]:
            wrong.append(f"{spec}: README says {'✓' if claimed[spec] else '✗'}, the server "
                         f"{'does' if does else 'does not'}{why}")
    assert not wrong, "\n".join(wrong)
