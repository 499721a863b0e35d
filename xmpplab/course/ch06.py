"""Chapter 06, Subscriptions and roster: who sees whose presence (RFC 6121 sections 2 and 3, Appendix A)."""

import asyncio

from ..jid import JID
from .core import Result, exercise

JULIET, NURSE = "juliet@example.com", "nurse@example.com"
#: How long a live check waits for stanzas still on their way before it judges (seconds).
SETTLE = 2.0


def _item(lab, owner: str, contact: str):
    server = lab.server_for(owner)
    return server.roster_item(owner, contact)


def _sees(item) -> bool:
    return item is not None and item.subscription in ("to", "both")


def _direction(lab, watcher: str, who: str, names: dict) -> tuple[bool, str]:
    """Whether ``watcher`` sees ``who``'s presence, and why (not), from ``watcher``'s roster on the server."""
    a, b = names[watcher], names[who]
    item = _item(lab, watcher, who)
    if _sees(item):
        return True, f"{a} sees {b}'s presence ({a}'s roster says subscription='{item.subscription}' for {b})"
    if item is not None and item.ask:
        return False, (f"{a} asked to see {b}'s presence, but {b} has not approved yet: {b} sends "
                       f"<presence to='{watcher}' type='subscribed'/> (RFC 6121 section 3.1.5)")
    return False, (f"{a} does not see {b}'s presence: {a} has not asked. {a} sends "
                   f"<presence to='{who}' type='subscribe'/> (RFC 6121 section 3.1.1), then {b} approves")


@exercise("06.1", "Juliet and the Nurse see each other's presence", live=True)
async def _(answer=None, *, lab=None, **context):
    """Log the Nurse in first: nurse = await lab.connect('nurse@example.com/chamber'). A subscription is one direction
    only, so you need two: Juliet to the Nurse, and the Nurse to Juliet.

    For one direction: juliet.subscribe('nurse@example.com') asks, nurse.approve('juliet@example.com') approves.
    Then the same the other way round.

    await juliet.subscribe('nurse@example.com'); await nurse.approve('juliet@example.com'); await
    nurse.subscribe('juliet@example.com'); await juliet.approve('nurse@example.com')"""
    if lab is None:
        return Result("06.1", False, [(False, "this check looks at the Lab: write await acheck('06.1', lab=lab)")])
    names = {JULIET: "Juliet", NURSE: "the Nurse"}
    try:
        lab.server_for(NURSE)
    except ValueError:
        return Result("06.1", False, [(False, "this Lab does not serve example.com; start it with "
                                              "lab = await xmpplab.Lab.start()")])
    if not lab.server_for(NURSE).accounts.exists(NURSE):
        return Result("06.1", False, [(False, "there is no account nurse@example.com yet: log her in with "
                                              "nurse = await lab.connect('nurse@example.com/chamber')")])
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SETTLE
    while True:  # stanzas sent just before the check may still be on their way
        both = [_direction(lab, JULIET, NURSE, names), _direction(lab, NURSE, JULIET, names)]
        if all(ok for ok, _ in both) or loop.time() >= deadline:
            break
        await asyncio.sleep(0.05)
    points = []
    for ok, text in both:
        points.append((ok, text))
    if all(ok for ok, _ in both):
        points.append((True, "both rosters say subscription='both': they see each other's presence"))
    return Result("06.1", all(ok for ok, _ in both), points)


@exercise("06.2", "Juliet stops the Nurse seeing her presence", stanza="presence")
def _(c, **context):
    """There are two ways to end a subscription: 'unsubscribe' stops *you* seeing the contact's presence;
    'unsubscribed' stops the contact seeing *yours* (RFC 6121 sections 3.2 and 3.3).

    Subscription stanzas go to the contact's bare JID, with no resource.

    <presence to='nurse@example.com' type='unsubscribed'/>"""
    ptype = c.el.get("type")
    if ptype == "unsubscribed":
        c.ok("type='unsubscribed': Juliet cancels the Nurse's subscription to her presence")
    elif ptype == "unsubscribe":
        c.fail("type='unsubscribe' would stop Juliet seeing the Nurse's presence; to stop the Nurse seeing hers, "
               "she cancels the Nurse's subscription: type='unsubscribed' (RFC 6121 section 3.2)")
    elif ptype == "unavailable":
        c.fail("type='unavailable' hides Juliet only until her next presence, and the subscription stays; "
               "cancel it with type='unsubscribed'")
    elif ptype is None:
        c.fail("a presence with no 'type' says 'I am available'; cancelling a subscription is "
               "type='unsubscribed'")
    else:
        c.fail(f"type='{ptype}' does not cancel the Nurse's subscription; type='unsubscribed' does")
    jid = c.address("to", "the stanza needs to='nurse@example.com': whose subscription is cancelled")
    if jid is None:
        pass
    elif jid.bare != JID("nurse@example.com"):
        c.fail(f"'to' should be 'nurse@example.com', not '{c.el.get('to')}'")
    elif jid.resource is not None:
        c.fail("send it to the Nurse's bare JID, nurse@example.com: a subscription is with her account, "
               "not with one of her devices (RFC 6121 section 3.1.1 asks the same of a request)")
    else:
        c.ok("to='nurse@example.com', her bare JID")
    return c
