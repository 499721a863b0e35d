"""Chapter 03 with a partner: a message to a partner, and their answer.

``partner = await lab.pair("03")`` finds the partner: on a class server a classmate who runs the same cell
(docs/classroom.md, "Partners"), else a practice account (Benvolio) that plays them. Each of the two
does both sides: their Juliet writes to the partner, and they answer what the partner's Juliet wrote to
them (:func:`answer_partner`; a practice partner answers your Juliet instead). The check reads the Lab's
recording.
"""

from __future__ import annotations

from ..client_errors import StanzaTimeout
from ..jid import JID
from .core import Checker, body_of, exercise, jid_or_none, settle

#: How long the partner's side waits for the partner's people (seconds): they run the same cell, a little later.
ANSWER_WAIT = 60.0


def partner_of(lab, given) -> JID | None:
    """The partner's bare JID: given to the check, or found by ``lab.pair()`` (``lab.partner``)."""
    return _bare(given or getattr(lab, "partner", None))


def _bare(address) -> JID | None:
    """The bare JID of ``address`` (text, a JID, or None); None when it is not a valid address."""
    jid = jid_or_none(str(address) if address else None)
    return jid.bare if jid is not None else None


def partner_side(lab):
    """Who does the partner's side here, and a test of whose stanzas it takes: ``(client, test)`` or ``(None, None)``.

    A practice partner (``lab.practice_partner``) takes the Lab's own people's; in a class, the student's own
    account (``lab.me``) takes those of the classmate's practice accounts (``student12.juliet@...``)."""
    if getattr(lab, "practice_partner", None) is not None:
        return lab.practice_partner, lambda sender: True
    buddy, me = partner_of(lab, None), getattr(lab, "me", None)
    if buddy is None or me is None:
        return None, None
    prefix = f"{buddy.local}."
    return me, lambda sender: sender is not None and sender.domain == buddy.domain and \
        (sender.local or "").startswith(prefix)


async def answer_partner(lab, text: str = "And to you!", *, timeout: float = ANSWER_WAIT):
    """The partner's side of 03: take the message the other side's Juliet wrote, answer its ``from``; return it.

    In a class your own account answers your classmate's Juliet; with a practice partner, Benvolio answers
    yours. Says in one line what it did (or that nothing came within ``timeout`` s)."""
    client, theirs = partner_side(lab)
    if client is None:
        print("You have no partner yet: partner = await lab.pair(\"03\") finds one.")
        return None
    try:
        msg = await client.next("message", timeout=timeout, predicate=lambda m: m["type"] in ("chat", "normal")
                                and bool(m["body"]) and theirs(_bare(m["from"])))
    except StanzaTimeout:
        print(f"No message from your partner's side reached {client.jid.bare} within {timeout:g} s: "
              "ask them to run this cell too.")
        return None
    await client.send_message(msg["from"], text)
    print(f"{client.jid.bare} got '{msg['body']}' from {msg['from']}, and answered that address.")
    return msg


@exercise("03.partner", "A message to your partner, and their answer", live=True)
async def _(answer=None, *, lab=None, partner=None, **context):
    """Find a partner first: partner = await lab.pair("03") (a classmate who runs the same cell, or Benvolio).

    Juliet writes to your partner: await juliet.send_message(partner, "Good morrow!"). Then
    await answer_partner(lab) does the partner's side: it takes the message their Juliet wrote to you and answers
    the address it came from, msg["from"] (with a practice partner, Benvolio answers yours). Wait for the answer
    with await juliet.next("message", from_=partner, timeout=60)."""
    c = Checker()
    if lab is None:
        c.fail("this exercise looks at your Lab: write `await acheck(\"03.partner\", lab=lab)`")
        return c
    buddy = partner_of(lab, partner)
    if buddy is None:
        c.fail("you have no partner yet: partner = await lab.pair(\"03\") finds one")
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
            c.fail("no answer from your partner has arrived yet: their side answers msg[\"from\"] "
                   "(await answer_partner(lab) in their notebook)")
        return c
    sent, got = found
    c.ok(f"you wrote to your partner: '{body_of(sent)}' (to='{sent.to}')")
    c.ok(f"your partner answered '{body_of(got)}', from='{got.from_}' (their server stamped it, RFC 6120 §8.1.2.1)")
    return c
