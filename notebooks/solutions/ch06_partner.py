"""Chapter 06 with a partner: the live solution. On a private Lab, Benvolio (a practice account) plays the
partner; on a class server ``lab.pair("06")`` finds a classmate who runs the same cell."""

from xmpplab.course.ch06_partner import approve_partner


async def solve_06_partner(lab):
    juliet = await lab.connect("juliet@example.com/balcony")
    partner = await lab.pair("06")
    await juliet.subscribe(partner)
    await approve_partner(lab)  # the partner approves, and asks in turn
    await juliet.next("presence", from_=partner, predicate=lambda p: p["type"] == "subscribe")
    await juliet.approve(partner)


async def near_miss_06_partner(lab):
    """Only Juliet asks, and the partner approves: one direction."""
    juliet = await lab.connect("juliet@example.com/balcony")
    partner = await lab.pair("06")
    await juliet.subscribe(partner)
    benvolio = lab.practice_partner
    request = await benvolio.next("presence", predicate=lambda p: p["type"] == "subscribe")
    await benvolio.approve(request["from"])
    await benvolio.roster()


LIVE = {
    "06.partner": (solve_06_partner, near_miss_06_partner, "not both ways yet"),
}
