"""Recordings for tests: a federated exchange written by hand, and a live session recorded by a server."""

from tests.support_wait import until
from xmpplab.client import Client
from xmpplab.recording import MemoryRecorder
from xmpplab.server import Server
from xmpplab.transcript import Transcript

STREAM = "xmlns:stream='http://etherx.jabber.org/streams'"
T0 = 1_790_000_000.0
MESSAGE = "<message{frm} to='{to}' id='{id}' type='chat'><body>{body}</body></message>"
USERS = ("juliet@example.com", "romeo@example.net", "nurse@example.com")


# ---------------------------------------------------------------------- a federated recording
def c2s_open(conn, t, peer, local, domain, jid):
    """A server's recording of a client logging in (negotiation shortened to the headers and the bind)."""
    return [
        {"t": t, "conn": conn, "type": "open", "peer": peer, "local": local, "kind": "c2s", "role": "receiving"},
        {"t": t, "conn": conn, "type": "data", "dir": "in",
         "data": f"<?xml version='1.0'?><stream:stream xmlns='jabber:client' {STREAM} to='{domain}' version='1.0'>"},
        {"t": t, "conn": conn, "type": "data", "dir": "out",
         "data": f"<?xml version='1.0'?><stream:stream xmlns='jabber:client' {STREAM} from='{domain}' id='s-{conn}' "
                 "version='1.0'><stream:features/>"},
        {"t": t, "conn": conn, "type": "bound", "jid": jid},
    ]


def s2s_open(conn, t, role, peer, local):
    """One end's recording of server1.com's stream to server2.com."""
    initiating = role == "initiating"
    head_out = f"<stream:stream xmlns='jabber:server' {STREAM} from='server1.com' to='server2.com' version='1.0'>"
    head_back = (f"<stream:stream xmlns='jabber:server' {STREAM} from='server2.com' to='server1.com' id='x1' "
                 "version='1.0'>")
    return [
        {"t": t, "conn": conn, "type": "open", "peer": peer, "local": local, "kind": "s2s", "role": role},
        {"t": t, "conn": conn, "type": "data", "dir": "out" if initiating else "in", "data": head_out},
        {"t": t, "conn": conn, "type": "data", "dir": "in" if initiating else "out", "data": head_back},
    ]


def federation_events(to="user2@server2.com", resources=("phone1",), msg_id="m1", body="hi"):
    """user1@server1.com/pc sends a chat message to user2 on server2.com, recorded by both servers:
    server1's c2s-1 (the client) and s2sout-1 (its end of the s2s stream), server2's s2s-1 (the other
    end of that stream) and one c2s connection per connected resource of user2."""
    ev = []
    ev += c2s_open("c2s-1", T0, "10.0.0.5:40000", "10.0.1.1:5222", "server1.com", "user1@server1.com/pc")
    for n, res in enumerate(resources):
        ev += c2s_open(f"c2s-{n + 2}", T0 + 0.1 * (n + 1), f"10.0.0.{9 + n}:4100{n}", "10.0.2.2:5222",
                       "server2.com", f"user2@server2.com/{res}")
    ev += s2s_open("s2sout-1", T0 + 1, "initiating", "10.0.2.2:5269", "10.0.1.1:50000")
    ev += s2s_open("s2s-1", T0 + 1, "receiving", "10.0.1.1:50000", "10.0.2.2:5269")
    frm = " from='user1@server1.com/pc'"
    sent = MESSAGE.format(frm="", to=to, id=msg_id, body=body) if msg_id else \
        f"<message to='{to}' type='chat'><body>{body}</body></message>"
    relayed = MESSAGE.format(frm=frm, to=to, id=msg_id, body=body) if msg_id else \
        f"<message from='user1@server1.com/pc' to='{to}' type='chat'><body>{body}</body></message>"
    ev.append({"t": T0 + 2, "conn": "c2s-1", "type": "data", "dir": "in", "data": sent})
    ev.append({"t": T0 + 2.01, "conn": "s2sout-1", "type": "data", "dir": "out", "data": relayed})
    ev.append({"t": T0 + 2.02, "conn": "s2s-1", "type": "data", "dir": "in", "data": relayed})
    for n, _res in enumerate(resources):
        ev.append({"t": T0 + 2.03 + n / 100, "conn": f"c2s-{n + 2}", "type": "data", "dir": "out", "data": relayed})
    return ev


# ---------------------------------------------------------------------- a live session
async def record_session() -> Transcript:
    """Juliet (slixmpp) logs in, has Romeo in her roster, fetches it, and Romeo writes to her.

    Returns the server's recording; ``t.juliet`` is the id of Juliet's connection in it."""
    recorder = MemoryRecorder()
    async with Server(["example.com", "example.net"], recorder=recorder) as srv:
        for user in USERS:
            srv.accounts.add(user, "secret")
        setup = await Client.connect("juliet@example.com/setup", "secret", host="127.0.0.1", port=srv.port,
                                     verify_tls=False, presence=False)
        await setup.iq("<iq type='set'><query xmlns='jabber:iq:roster'>"
                       "<item jid='romeo@example.net' name='Romeo'><group>Montague</group></item></query></iq>")
        await setup.disconnect()
        juliet = await Client.connect("juliet@example.com/balcony", "secret", host="127.0.0.1", port=srv.port,
                                      verify_tls=False)
        romeo = await Client.connect("romeo@example.net/orchard", "secret", host="127.0.0.1", port=srv.port,
                                     verify_tls=False)
        await juliet.roster()
        await romeo.send_message("juliet@example.com/balcony", "Art thou not Juliet?")
        await juliet.next("message", predicate=lambda m: m["body"])
        for c in (juliet, romeo):
            await c.disconnect()
        # the server has seen both streams end (not cut by its own shutdown)
        await until(lambda: not srv.connections, srv, what="every connection closed on the server")
    t = Transcript.from_events(recorder.events)
    t.juliet = next(c.id for c in t.connections.values() if c.jid == "juliet@example.com/balcony")
    return t
