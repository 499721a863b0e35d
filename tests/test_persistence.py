"""With a database file, accounts, rosters, pending subscription requests and offline messages
survive a restart of the server."""

from lxml import etree

from tests.support import RawClient
from xmpplab.server import Server

ROSTER = "{jabber:iq:roster}"


async def test_everything_survives_a_restart(tmp_path):
    db = str(tmp_path / "lab.sqlite")
    async with Server(["example.com", "example.net"], db=db) as srv:
        srv.accounts.add("juliet@example.com", "secret")
        srv.accounts.add("romeo@example.net", "secret")
        srv.accounts.add("nurse@example.com", "secret")
        romeo = await RawClient.open(srv.port)
        await romeo.login("romeo@example.net/orchard")
        reply = await romeo.request("<iq type='set' id='r1'><query xmlns='jabber:iq:roster'>"
                                    "<item jid='juliet@example.com' name='Juliet'><group>Capulets</group></item>"
                                    "</query></iq>")
        assert reply.get("type") == "result"
        await romeo.send("<message to='juliet@example.com' type='chat'><body>Meet me at the orchard.</body></message>")
        nurse = await RawClient.open(srv.port)
        await nurse.login("nurse@example.com/desk")
        await nurse.send("<presence to='juliet@example.com' type='subscribe'>"
                         "<nick xmlns='http://jabber.org/protocol/nick'>Nurse</nick></presence>")
        await romeo.request("<iq type='get' id='sync' to='example.com'><ping xmlns='urn:xmpp:ping'/></iq>")
        await nurse.request("<iq type='get' id='sync' to='example.com'><ping xmlns='urn:xmpp:ping'/></iq>")
        await romeo.close()
        await nurse.close()

    async with Server(["example.com", "example.net"], db=db) as srv:
        assert srv.accounts.list() == ["juliet@example.com", "nurse@example.com", "romeo@example.net"]
        assert srv.accounts.check("juliet@example.com", "secret")
        romeo = await RawClient.open(srv.port)
        await romeo.login("romeo@example.net/orchard")
        roster = await romeo.request("<iq type='get' id='r2'><query xmlns='jabber:iq:roster'/></iq>")
        items = roster.findall(f"{ROSTER}query/{ROSTER}item")
        assert [(i.get("jid"), i.get("name"), i.findtext(f"{ROSTER}group")) for i in items] == \
            [("juliet@example.com", "Juliet", "Capulets")]
        juliet = await RawClient.open(srv.port)
        await juliet.login("juliet@example.com/balcony")
        await juliet.send("<presence/>")
        got = {}
        while len(got) < 2:
            el = await juliet.recv()
            name = etree.QName(el).localname
            if name == "message":
                got["message"] = el
            elif name == "presence" and el.get("type") == "subscribe":
                got["subscribe"] = el
        assert got["message"].findtext("{jabber:client}body") == "Meet me at the orchard."
        assert got["message"].find("{urn:xmpp:delay}delay") is not None
        sub = got["subscribe"]
        assert sub.get("from") == "nurse@example.com"
        assert sub.findtext("{http://jabber.org/protocol/nick}nick") == "Nurse"  # kept whole (RFC 6121 3.1.3)
        await romeo.close()
        await juliet.close()
