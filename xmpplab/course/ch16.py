"""Chapter 16, Which server, which library: log in with the mechanism no library chose (16.1)."""

from __future__ import annotations

from ..jid import JID
from .core import Result, exercise, jid_or_none, settle

ROMEO = JID("romeo@example.com")
JULIET = JID("juliet@example.com")


def _romeo_streams(lab) -> list:
    """The server's recordings of Romeo's logins (the receiving side of each connection)."""
    conns = lab.transcript.connections.values()
    return [c for c in conns if c.role == "receiving" and (j := jid_or_none(c.jid)) is not None and j.bare == ROMEO]


def _messages_to_juliet(conn) -> list:
    return [i for i in conn.stanzas(kind="message", direction="C→S")
            if (j := jid_or_none(i.to)) is not None and j.bare == JULIET and i.type != "error"]


@exercise("16.1", "Log in with the mechanism no library chose", live=True)
async def _(answer=None, *, lab=None, **context):
    """Every server in the table offered PLAIN, and no library chose it: each took a SCRAM mechanism. RawClient
    lets you choose: login() takes mechanisms=[...], the ones you are willing to use, in order.

    login = await lab.login_for('romeo@example.com') says where Romeo logs in (login.host, login.port), as whom
    (login.jid) and with which password (login.password). Connect there with RawClient, log in with only PLAIN
    allowed, then send Juliet a chat message with c.send("<message .../>"), to her address juliet.jid.

    c = await RawClient.connect(login.host, login.port); await c.login(login.jid, login.password,
    mechanisms=['PLAIN']); await c.send(f"<message to='{juliet.jid}' type='chat'><body>Hi</body></message>")"""
    if lab is None:
        return Result("16.1", False, [(False, "this check looks at the Lab: write await acheck('16.1', lab=lab)")])
    points: list[tuple[bool, str]] = []
    await settle(lambda: any(_messages_to_juliet(c) for c in _romeo_streams(lab)))
    streams = _romeo_streams(lab)
    if not streams:
        return Result("16.1", False, [(False, "Romeo has not logged in to this Lab yet: "
                                              "c = await RawClient.connect(login.host, login.port), then "
                                              "await c.login(login.jid, login.password, ...)")])
    plain = [c for c in streams if c.mechanism == "PLAIN"]
    if plain:
        points.append((True, "Romeo logged in with PLAIN: the password itself crossed the stream (inside TLS)"))
    else:
        used = ", ".join(sorted({c.mechanism or "no mechanism" for c in streams}))
        points.append((False, f"Romeo logged in with {used}, not PLAIN: pass mechanisms=['PLAIN'] "
                              "to login() so the client does not pick the strongest one offered"))
        return Result("16.1", False, points)
    sent = [m for c in plain for m in _messages_to_juliet(c)]
    if sent:
        points.append((True, f"on that stream he sent Juliet a message (to='{sent[-1].to}')"))
    else:
        points.append((False, "no message to juliet@example.com on that stream yet: "
                              "await c.send(f\"<message to='{juliet.jid}' type='chat'><body>Hi</body>"
                              "</message>\")"))
    return Result("16.1", all(ok for ok, _ in points), points)
