"""Chapter 18 (From stanzas to WhatsApp): Juliet's tablet, and what tests/test_course.py tries on its check."""


async def _tablet(lab, sm: bool):
    romeo = await lab.connect("romeo@example.net/orchard")
    phone = await lab.connect("juliet@example.com/phone")
    await phone.history()                         # her account uses the archive from now on
    await romeo.send_message("juliet@example.com", "Wilt thou meet me at nine?")
    await phone.next("message")
    tablet = await lab.connect("juliet@example.com/tablet")
    await tablet.enable_carbons()
    if sm:
        await tablet.enable_sm()
    return await tablet.history(with_="romeo@example.net")


async def solve_18_1(lab):
    """Carbons, stream management and the history with Romeo."""
    earlier = await _tablet(lab, sm=True)
    assert [m["body"] for m in earlier] == ["Wilt thou meet me at nine?"]


async def near_miss_18_1(lab):
    """Carbons and history, but no stream management."""
    await _tablet(lab, sm=False)


# Live exercises (checked against a running Lab): id -> (async solve(lab), async near_miss(lab), words).
LIVE = {
    "18.1": (solve_18_1, near_miss_18_1, "stream management is off"),
}
