"""Chapter 00, XMPP in fifteen minutes: a message written by hand (00.1) and a subscription request (00.2)."""

from __future__ import annotations

from ..jid import JID
from .core import Checker, exercise, same_account

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
        elif same_account(to, ROMEO) and JID(to).resource is not None:
            c.ok(f"to='{to}': one of Romeo's sessions")   # his full JID reaches him too
        else:
            c.attribute("to", ROMEO, jid=True)
        c.child("body", text=True)
    return c


@exercise("00.2", "Ask to see Romeo's presence")
def _(answer, **context):
    """Asking to see someone's presence is a <presence/> stanza whose type asks: look at what Romeo sent Juliet.

    Romeo asked Juliet with type='subscribe'; she writes the same to his bare address:
    <presence to='romeo@example.net' type='subscribe'/>"""
    c = Checker(answer)
    if not c.element("presence"):
        return c
    to = c.address("to", "needs to='romeo@example.net': whose presence she asks to see")
    if to is not None:
        if to.bare != ROMEO:
            c.fail(f"'to' should be Romeo's address romeo@example.net, not '{to}'")
        elif to.resource is not None:
            c.fail(f"'{to}' is one of his devices: a subscription is to the person, romeo@example.net")
        else:
            c.ok("to='romeo@example.net': his bare address")
    wrong = {
        None: "a presence without a type says 'I am available'; to ask, add type='subscribe'",
        "subscribed": "type='subscribed' answers a request (it would let him see hers); to ask, type='subscribe'",
        "unsubscribe": "type='unsubscribe' stops her seeing his presence; to ask for it, type='subscribe'",
        "unsubscribed": "type='unsubscribed' stops him seeing hers; to ask, type='subscribe'",
    }
    c.value("type", "subscribe", "type='subscribe': she asks to see his presence", wrong,
            "type='{}' does not ask anything; write type='subscribe'")
    return c
