"""Chapter 06 with a partner: the live solution, on a private Lab where Mercutio plays the partner
(on a class server the partner is a classmate found with ``partner = await lab.pair("06")``)."""


async def _one_way(lab):
    """Juliet asks to see the partner's presence, and the partner approves."""
    lab.partner = "mercutio@example.net"
    juliet = await lab.connect("juliet@example.com/balcony")
    mercutio = await lab.connect("mercutio@example.net/street")
    await juliet.subscribe(lab.partner)
    await mercutio.next("presence", predicate=lambda p: p["type"] == "subscribe")
    await mercutio.approve(juliet.jid)
    return juliet, mercutio


async def solve_06_partner(lab):
    juliet, mercutio = await _one_way(lab)
    await mercutio.subscribe(juliet.jid)
    await juliet.next("presence", predicate=lambda p: p["type"] == "subscribe")
    await juliet.approve(lab.partner)
    await mercutio.roster()  # a round trip: the server has handled the approval


async def near_miss_06_partner(lab):
    """Only Juliet asks, and the partner approves: one direction."""
    _, mercutio = await _one_way(lab)
    await mercutio.roster()


LIVE = {
    "06.partner": (solve_06_partner, near_miss_06_partner, "not both ways yet"),
}
