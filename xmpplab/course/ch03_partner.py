"""Chapter 03 with a partner (on a class server): a message to a classmate, and their answer.

A class server pairs two students (``partner = await lab.pair("03")``, docs/classroom.md); the
check reads the Lab's recording. On a private Lab a second account can play the partner
(``lab.partner = "mercutio@example.net"``).
"""

from __future__ import annotations

from ..jid import JID, InvalidJID
from .core import Checker, body_of, exercise, settle


def partner_of(lab, given) -> JID | None:
    """The partner's bare JID: given to the check, or found by ``lab.pair()`` (``lab.partner``)."""
    partner = given or getattr(lab, "partner", None)
    try:
        return JID(str(partner)).bare if partner else None
    except InvalidJID:
        return None


def _bare(address):
    try:
        return JID(address).bare if address else None
    except InvalidJID:
        return None


@exercise("03.partner", "A message to your partner, and their answer", live=True)
async def _(answer=None, *, lab=None, partner=None, **context):
    """Ask the class for a partner first: partner = await lab.pair("03"). It waits until a classmate asks too.

    Juliet writes to your partner: await juliet.send_message(partner, "Good morrow!"). Your partner's notebook
    takes it with msg = await lab.me.next("message") and answers the address it came from:
    await lab.me.send_message(msg["from"], "And to you!"). You do the same for them."""
    c = Checker()
    if lab is None:
        c.fail("this exercise looks at your Lab: write `await acheck(\"03.partner\", lab=lab)`")
        return c
    buddy = partner_of(lab, partner)
    if buddy is None:
        c.fail("you have no partner yet: partner = await lab.pair(\"03\") finds one in the class")
        return c

    def exchange():
        sent = got = None
        for item in lab.transcript.stanzas(kind="message"):
            if item.direction == "C→S" and _bare(item.to) == buddy and body_of(item):
                sent = item
            elif item.direction == "S→C" and _bare(item.from_) == buddy and item.type != "error" and body_of(item):
                got = item
        return (sent, got) if sent is not None and got is not None else None

    found = await settle(exchange)
    if found is None:
        sent_any = any(item.direction == "C→S" and _bare(item.to) == buddy
                       for item in lab.transcript.stanzas(kind="message"))
        if not sent_any:
            c.fail(f"no message of yours went to your partner {buddy} yet: await juliet.send_message(partner, ...)")
        else:
            c.ok(f"you wrote to your partner {buddy}")
            c.fail("no answer from your partner has arrived yet: ask them to answer msg[\"from\"]")
        return c
    sent, got = found
    c.ok(f"you wrote to your partner: '{body_of(sent)}' (to='{sent.to}')")
    c.ok(f"your partner answered '{body_of(got)}', from='{got.from_}' (their server stamped it, RFC 6120 §8.1.2.1)")
    return c
