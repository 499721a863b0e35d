"""Chapter 06 with a partner (on a class server): a mutual subscription with a classmate.

The check asks the server for the roster of each of the Lab's connected clients (RFC 6121 §2.1.3):
one of them must list the partner with subscription='both'.
"""

from __future__ import annotations

from .ch03_partner import partner_of
from .core import Result, exercise

NS_ROSTER = "jabber:iq:roster"


@exercise("06.partner", "You and your partner see each other's presence", live=True)
async def _(answer=None, *, lab=None, partner=None, **context):
    """Ask the class for a partner first: partner = await lab.pair("06").

    Each of you asks and each approves: await juliet.subscribe(partner); your partner approves with
    await lab.me.approve(juliet.jid). Then your partner asks with await lab.me.subscribe(juliet.jid), and
    Juliet approves: await juliet.approve(partner). Two directions, two requests, two approvals (RFC 6121 §3)."""
    if lab is None:
        return Result("06.partner", False, [(False, "this check looks at your Lab: "
                                                    "write await acheck('06.partner', lab=lab)")])
    buddy = partner_of(lab, partner)
    if buddy is None:
        return Result("06.partner", False, [(False, "you have no partner yet: partner = await lab.pair(\"06\")")])
    seen: dict[str, str] = {}

    async def rosters():
        for client in [c for c in lab.clients if c.connected]:
            for item in await client.roster():
                if item.jid == str(buddy):
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
