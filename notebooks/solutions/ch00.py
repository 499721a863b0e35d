"""Chapter 00 (Welcome): solutions, and the answers tests/test_course.py tries on each check."""

SOLUTIONS = {
    "00.1": "<message to='romeo@example.net' type='chat'><body>Hello, Romeo!</body></message>",
}

# Right answers written differently: attribute order, namespace prefixes, whitespace, case of the JID.
REWRITTEN = {
    "00.1": ['<message xmlns="jabber:client"\n   to="Romeo@Example.NET"  >\n  <body>hi</body>\n</message>',
             "<cl:message xmlns:cl='jabber:client' to='romeo@example.net'><cl:body>hi</cl:body></cl:message>"],
}

# Near misses, each with words its result must contain.
NEAR_MISSES = {
    "00.1": [("<message to='juliet@example.com'><body>hi</body></message>", "'to' should be 'romeo@example.net'"),
             ("<message to='romeo@example.net'/>", "needs a <body/> child"),
             ("<presence to='romeo@example.net'/>", "should be <message/>")],
}

# Live exercises (checked against a running Lab): id -> (async solve(lab), async near_miss(lab), words).
LIVE = {}
