"""Chapter 00 (Welcome): solutions, and the answers tests/test_course.py tries on each check."""

SOLUTIONS = {
    "00.1": "<message to='romeo@example.net' type='chat'><body>Hello, Romeo!</body></message>",
}

# Right answers written differently: attribute order, namespace prefixes, whitespace, case of the JID.
REWRITTEN = {
    "00.1": ['<message xmlns="jabber:client"\n   to="Romeo@Example.NET"  >\n  <body>hi</body>\n</message>',
             "<cl:message xmlns:cl='jabber:client' to='romeo@example.net'><cl:body>hi</cl:body></cl:message>",
             "<message to='romeo@example.net/orchard'><body>Wherefore art thou?</body></message>"],
}

# Near misses, each with words its result must contain.
NEAR_MISSES = {
    "00.1": [("<message to='juliet@example.com'><body>hi</body></message>", "'to' should be 'romeo@example.net'"),
             ("<message to='romeo@example.net'/>", "needs a <body/> child"),
             ("<message to='romeo@example.net'><body/></message>", "<body/> is empty"),
             ("<message><body>hi</body></message>", "needs to='romeo@example.net'"),
             ("<presence to='romeo@example.net'/>", "should be <message/>")],
}


# Live exercises (checked against a running Lab): id -> (async solve(lab), async near_miss(lab), words).
async def solve_00_2(lab):
    await lab.connect("juliet@example.com/balcony")
    romeo = await lab.connect("romeo@example.net/orchard")
    await romeo.send_message("juliet@example.com", "Thy lips are warm.")


async def near_miss_00_2(lab):
    await lab.connect("juliet@example.com/balcony")
    romeo = await lab.connect("romeo@example.net/orchard")
    await romeo.send_message("julia@example.com", "Thy lips are warm.")   # a typo: no such person


LIVE = {
    "00.2": (solve_00_2, near_miss_00_2, "not to Juliet"),
}
