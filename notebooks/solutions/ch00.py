"""Chapter 00 (XMPP in fifteen minutes): solutions, and the answers tests/test_course.py tries on each check."""

SOLUTIONS = {
    "00.1": "<message to='romeo@example.net' type='chat'><body>Hello, Romeo!</body></message>",
    "00.2": "<presence to='romeo@example.net' type='subscribe'/>",
}

# Right answers written differently: attribute order, namespace prefixes, whitespace, case of the JID.
REWRITTEN = {
    "00.1": ['<message xmlns="jabber:client"\n   to="Romeo@Example.NET"  >\n  <body>hi</body>\n</message>',
             "<cl:message xmlns:cl='jabber:client' to='romeo@example.net'><cl:body>hi</cl:body></cl:message>",
             "<message to='romeo@example.net/orchard'><body>Wherefore art thou?</body></message>"],
    "00.2": ['<presence type="subscribe"\n          to="Romeo@Example.NET"/>',
             "<presence xmlns='jabber:client' to='romeo@example.net' type='subscribe'></presence>"],
}

# Near misses, each with words its result must contain.
NEAR_MISSES = {
    "00.1": [("<message to='juliet@example.com'><body>hi</body></message>", "'to' should be 'romeo@example.net'"),
             ("<message to='romeo@example.net'/>", "needs a <body/> child"),
             ("<message to='romeo@example.net'><body/></message>", "<body/> is empty"),
             ("<message><body>hi</body></message>", "needs to='romeo@example.net'"),
             ("<presence to='romeo@example.net'/>", "should be <message/>")],
    "00.2": [("<presence to='romeo@example.net' type='subscribed'/>", "answers a request"),
             ("<presence to='romeo@example.net' type='unsubscribe'/>", "stops her seeing his presence"),
             ("<presence to='romeo@example.net' type='unsubscribed'/>", "stops him seeing hers"),
             ("<presence to='romeo@example.net'/>", "says 'I am available'"),
             ("<presence to='romeo@example.net/orchard' type='subscribe'/>", "a subscription is to the person"),
             ("<presence to='juliet@example.com' type='subscribe'/>", "should be Romeo's address"),
             ("<presence type='subscribe'/>", "needs to='romeo@example.net'"),
             ("<message to='romeo@example.net' type='subscribe'/>", "should be <presence/>")],
}
