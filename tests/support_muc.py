"""XEP-0045 Multi-User Chat for tests: a server with the MUC service, the garden room, entering it.

    async with muc_server() as server: ...       # example.com and example.net; juliet, romeo, nurse, benvolio
    juliet, romeo = await garden(raw)             # juliet made garden@conference.example.com; romeo is in
"""

from contextlib import asynccontextmanager

from tests.support_stanzas import flush, online, same
from xmpplab.server import Server
from xmpplab.server.core import DEFAULT_MODULES

MODULES = DEFAULT_MODULES if "muc" in DEFAULT_MODULES else (*DEFAULT_MODULES, "muc")
SERVICE = "conference.example.com"
ROOM = f"garden@{SERVICE}"
J, R, N, B = ("juliet@example.com/balcony", "romeo@example.net/orchard", "nurse@example.com/desk",
              "benvolio@example.net/square")
MUC, USER, ADMIN, OWNER = ("http://jabber.org/protocol/muc", "http://jabber.org/protocol/muc#user",
                           "http://jabber.org/protocol/muc#admin", "http://jabber.org/protocol/muc#owner")
USERS = ("juliet@example.com", "romeo@example.net", "nurse@example.com", "benvolio@example.net")


@asynccontextmanager
async def muc_server():
    """The shared fixture's server (example.com, example.net; juliet, romeo, nurse, benvolio), with MUC."""
    async with Server(["example.com", "example.net"], register=True, recorder=[].append, modules=MODULES) as srv:
        for user in USERS:
            srv.accounts.add(user, "secret")
        yield srv


async def enter(c, nick: str, room: str = ROOM, x: str = f"<x xmlns='{MUC}'/>") -> list:
    """Send the join presence (7.2.1) and return everything it brought."""
    await c.send(f"<presence to='{room}/{nick}'>{x}</presence>")
    return await flush(c)


async def accept_instant(c, room: str = ROOM) -> None:
    """10.1.2: accept the default configuration, which unlocks the room."""
    reply = await c.request(f"<iq type='set' id='inst' to='{room}'><query xmlns='{OWNER}'>"
                            "<x xmlns='jabber:x:data' type='submit'/></query></iq>")
    same(reply, f"<iq type='result' id='inst' from='{room}' to='*'/>")


async def garden(raw):
    """Juliet creates the garden (an instant room) and Romeo joins it; both transcripts are read."""
    juliet = await online(raw, J)
    romeo = await online(raw, R)
    await enter(juliet, "juliet")
    await accept_instant(juliet)
    await enter(romeo, "romeo")
    await flush(juliet)
    return juliet, romeo
