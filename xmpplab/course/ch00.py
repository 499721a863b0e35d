"""Chapter 00, Welcome: the first message, written by hand (00.1) and sent by Romeo (00.2)."""

from __future__ import annotations

from ..jid import JID, InvalidJID
from .core import Checker, body_of, exercise, settle

JULIET = JID("juliet@example.com")
ROMEO = JID("romeo@example.net")


@exercise("00.1", "Say hello to Romeo")
def _(answer, **context):
    """A message stanza is <message/>; who it is for goes in the 'to' attribute.

    Romeo's address is romeo@example.net; the words go in a <body/> child: <body>Hello</body>."""
    c = Checker(answer)
    if c.element("message"):
        to = c.el.get("to")
        if to is not None and not to.strip():
            c.fail("to='' is empty: write Romeo's address in it")
        elif same_bare(to, ROMEO) and JID(to).resource is not None:
            c.ok(f"to='{to}': one of Romeo's sessions")   # his full JID reaches him too
        else:
            c.attribute("to", ROMEO, jid=True)
        c.child("body", text=True)
    return c


# ---------------------------------------------------------------------------------------------
# Helpers for live checks: they read the Lab's transcript, the server's side of each client stream
# (every byte is there once; the clients' own recordings repeat it).

def server_side(lab, bare: JID):
    """The server's recordings of the client streams of account ``bare`` (oldest first)."""
    found = []
    for conn in lab.transcript.connections.values():
        if conn.kind != "c2s" or conn.role != "receiving" or not conn.jid:
            continue
        try:
            if JID(conn.jid).bare == bare:
                found.append(conn)
        except InvalidJID:
            continue
    return found


def same_bare(address, bare: JID) -> bool:
    """True if `address` is a JID whose bare form is `bare` (False for None or an invalid JID)."""
    try:
        return address is not None and JID(address).bare == bare
    except InvalidJID:
        return False


@exercise("00.2", "Romeo answers Juliet", live=True)
async def _(answer=None, *, lab=None, **context):
    """Romeo is the one who writes now: call romeo.send_message(to, words), with await in front.

    Juliet's address is juliet@example.com (or her full JID juliet@example.com/balcony): await
    romeo.send_message("juliet@example.com", "Thy lips are warm.")"""
    c = Checker()
    if lab is None:
        c.fail("this exercise looks at what happened in your Lab: write `await acheck(\"00.2\", lab=lab)`")
        return c

    def delivered():
        for conn in server_side(lab, JULIET):
            for item in conn.items(kind="message", direction="S→C"):
                if same_bare(item.from_, ROMEO) and item.type != "error":
                    return conn.jid, item
        return None

    sent = [item for conn in server_side(lab, ROMEO)
            for item in conn.items(kind="message", direction="C→S")]
    if not sent:
        if not server_side(lab, ROMEO):
            c.fail("Romeo is not logged in: run the cell with `romeo = await lab.connect(...)` first")
        else:
            c.fail("Romeo has not sent a message yet: `await romeo.send_message(to, words)` sends one")
        return c
    to_juliet = [item for item in sent if same_bare(item.to, JULIET)]
    if not to_juliet:
        c.fail(f"Romeo's message went to {sent[-1].to or 'nobody (no to)'}, not to Juliet (juliet@example.com)")
        return c
    c.ok(f"Romeo sent a message to {to_juliet[-1].to}")
    arrived = await settle(delivered)
    words = body_of(to_juliet[-1])
    c.that(bool(words), f"it says '{words}'", "the message has no words: give send_message some text")
    if arrived is not None:
        session, item = arrived
        c.ok(f"the server delivered it to Juliet's session {session}, with from='{item.from_}' added by the server")
    else:
        c.fail("it did not reach Juliet: is she still connected? (run the cell that connects her again)")
    return c
