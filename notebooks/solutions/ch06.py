"""Chapter 06 (Subscriptions and roster): solutions, and the answers tests/test_course.py tries on each check."""

SOLUTIONS = {
    "06.2": "<presence to='nurse@example.com' type='unsubscribed'/>",
}

# Right answers written differently: attribute order, namespace prefixes, whitespace, case of the JID.
REWRITTEN = {
    "06.2": ['<presence type="unsubscribed"\n  to="Nurse@Example.COM"/>',
             "<c:presence xmlns:c='jabber:client' to='nurse@example.com' type='unsubscribed'></c:presence>"],
}

# Near misses, each with words its result must contain.
NEAR_MISSES = {
    "06.2": [("<presence to='nurse@example.com' type='unsubscribe'/>", "would stop Juliet seeing the Nurse's presence"),
             ("<presence to='nurse@example.com/chamber' type='unsubscribed'/>", "the Nurse's bare JID"),
             ("<presence to='nurse@example.com' type='unavailable'/>", "the subscription stays"),
             ("<presence type='unsubscribed'/>", "needs to='nurse@example.com'"),
             ("<presence to='romeo@example.net' type='unsubscribed'/>", "'to' should be 'nurse@example.com'"),
             ("<presence to='nurse@example.com'/>", "says 'I am available'"),
             ("<message to='nurse@example.com' type='unsubscribed'/>", "should be <presence/>")],
}


async def solve_06_1(lab):
    """Juliet and the Nurse each ask, and each approves the other."""
    juliet = await lab.connect("juliet@example.com/balcony")
    nurse = await lab.connect("nurse@example.com/chamber")
    await juliet.subscribe("nurse@example.com")
    await nurse.approve("juliet@example.com")
    await nurse.subscribe("juliet@example.com")
    await juliet.approve("nurse@example.com")


async def near_miss_06_1(lab):
    """Only one direction: Juliet asks and the Nurse approves; the Nurse asks, Juliet never answers."""
    juliet = await lab.connect("juliet@example.com/balcony")
    nurse = await lab.connect("nurse@example.com/chamber")
    await juliet.subscribe("nurse@example.com")
    await nurse.approve("juliet@example.com")
    await nurse.subscribe("juliet@example.com")


# Live exercises (checked against a running Lab): id -> (async solve(lab), async near_miss(lab), words).
LIVE = {
    "06.1": (solve_06_1, near_miss_06_1, "has not approved yet"),
}
