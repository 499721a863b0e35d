"""Chapter 03 with a partner: the live solution. On a private Lab, Benvolio (a practice account) plays the
partner; on a class server ``lab.pair("03")`` finds a classmate who runs the same cell."""

from xmpplab.course.ch03_partner import answer_partner


async def solve_03_partner(lab):
    juliet = await lab.connect("juliet@example.com/balcony")
    partner = await lab.pair("03")
    await juliet.send_message(partner, "Good morrow, partner!")
    await answer_partner(lab, "And to you!")
    await juliet.next("message", from_=partner)


async def near_miss_03_partner(lab):
    """Juliet writes, but the partner never answers."""
    juliet = await lab.connect("juliet@example.com/balcony")
    partner = await lab.pair("03")
    await juliet.send_message(partner, "Good morrow, partner!")
    await lab.practice_partner.next("message")


LIVE = {
    "03.partner": (solve_03_partner, near_miss_03_partner, "no answer from your partner"),
}
