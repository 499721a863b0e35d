"""Chapter 06 with a partner: a mutual subscription with a partner (a classmate, or a practice account).

``partner = await lab.pair("06")`` finds the partner (see :mod:`.ch03_partner`). Each side asks and each
approves: Juliet asks to see the partner's presence, the partner's side approves and asks in turn
(:func:`approve_partner`), and Juliet approves. The check asks the server for the roster of each of the
Lab's connected clients (RFC 6121 §2.1.3): one of them must list the partner with subscription='both'.
"""

from __future__ import annotations

from ..client_errors import StanzaTimeout
from .ch03_partner import ANSWER_WAIT, _bare, partner_of, partner_side
from .core import Result, exercise

NS_ROSTER = "jabber:iq:roster"


async def approve_partner(lab, *, timeout: float = ANSWER_WAIT):
    """The partner's side of 06: approve the request of the other side's Juliet, and ask to see hers in turn.

    In a class your own account does it for your classmate's Juliet; with a practice partner, Benvolio does it
    for yours (RFC 6121 §3.1.5, then §3.1.1). Says in one line what it did, or that no request came in time."""
    client, theirs = partner_side(lab)
    if client is None:
        print("You have no partner yet: partner = await lab.pair(\"06\") finds one.")
        return None
    try:
        request = await client.next("presence", timeout=timeout, predicate=lambda p: p["type"] == "subscribe"
                                    and theirs(_bare(p["from"])))
    except StanzaTimeout:
        print(f"No subscription request from your partner's side reached {client.jid.bare} within {timeout:g} s: "
              "ask them to run this cell too.")
        return None
    asker = _bare(request["from"])
    await client.approve(asker)
    await client.subscribe(asker)
    print(f"{client.jid.bare} approved {asker}'s request (subscribed) and asked to see its presence in turn.")
    return request


def _addresses(lab, buddy) -> set[str]:
    """The partner's address as the rosters may write it: as given, and (on a class server) its practice account."""
    names = getattr(getattr(lab, "server", None), "names", None)
    return {str(buddy)} | ({str(names.real(str(buddy)))} if names is not None else set())


@exercise("06.partner", "You and your partner see each other's presence", live=True)
async def _(answer=None, *, lab=None, partner=None, **context):
    """Find a partner first: partner = await lab.pair("06") (a classmate who runs the same cell, or Benvolio).

    Each side asks and each approves: await juliet.subscribe(partner); then await approve_partner(lab) does the
    partner's side (it approves their Juliet's request to you and asks in turn; with a practice partner, Benvolio
    does it for yours). Juliet takes the partner's request and approves it: await juliet.approve(partner).
    Two directions, two requests, two approvals (RFC 6121 §3)."""
    if lab is None:
        return Result("06.partner", False, [(False, "this check looks at your Lab: "
                                                    "write await acheck('06.partner', lab=lab)")])
    buddy = partner_of(lab, partner)
    if buddy is None:
        return Result("06.partner", False, [(False, "you have no partner yet: partner = await lab.pair(\"06\")")])
    seen: dict[str, str] = {}
    addresses = _addresses(lab, buddy)

    async def rosters():
        for client in [c for c in lab.clients if c.connected]:
            for item in await client.roster():
                if item.jid in addresses:
                    seen[str(client.jid.bare)] = item.subscription + (" (asked)" if item.ask else "")
        return any(state == "both" for state in seen.values())

    if await rosters():
        who = next(owner for owner, state in seen.items() if state == "both")
        return Result("06.partner", True, [(True, f"{who}'s roster says subscription='both' for {buddy}: "
                                                  "you see each other's presence")])
    if not seen:
        return Result("06.partner", False, [(False, f"{buddy} is in none of your rosters: "
                                                    "await juliet.subscribe(partner) asks to see their presence")])
    states = ", ".join(f"{owner}: {state}" for owner, state in seen.items())
    return Result("06.partner", False, [(False, f"not both ways yet ({states}): 'to' means you see them, 'from' "
                                                "that they see you; the missing direction needs a request and "
                                                "an approval")])
