"""Chapter 03 with a partner: the live solution, on a private Lab where Mercutio plays the partner
(on a class server the partner is a classmate found with ``partner = await lab.pair("03")``)."""


async def solve_03_partner(lab):
    lab.partner = "mercutio@example.net"
    juliet = await lab.connect("juliet@example.com/balcony")
    mercutio = await lab.connect("mercutio@example.net/street")
    await juliet.send_message(lab.partner, "Good morrow, partner!")
    msg = await mercutio.next("message")
    await mercutio.send_message(msg["from"], "And to you!")
    await juliet.next("message")


async def near_miss_03_partner(lab):
    """Juliet writes, but the partner never answers."""
    lab.partner = "mercutio@example.net"
    juliet = await lab.connect("juliet@example.com/balcony")
    mercutio = await lab.connect("mercutio@example.net/street")
    await juliet.send_message(lab.partner, "Good morrow, partner!")
    await mercutio.next("message")


LIVE = {
    "03.partner": (solve_03_partner, near_miss_03_partner, "no answer from your partner"),
}
