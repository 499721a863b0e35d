"""Chapter 07 (Service discovery): solutions, and the answers tests/test_course.py tries on each check."""

SOLUTIONS = {
    "07.1": "<iq type='get' to='example.com' id='info1'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>",
    "07.2": "<iq type='get' to='romeo@example.net/orchard' id='info2'>"
            "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>",
}

# Right answers written differently: attribute order, namespace prefixes, whitespace, case of the JID.
REWRITTEN = {
    "07.1": ['<iq id="a1" to="Example.COM" type="get">\n  <query xmlns="http://jabber.org/protocol/disco#info"/>\n</iq>',
             "<iq type='get' to='example.com' id='x'><d:query xmlns:d='http://jabber.org/protocol/disco#info'>"
             "</d:query></iq>"],
    "07.2": ['<iq id="b2" type="get" to="Romeo@Example.net/orchard">\n'
             '  <query xmlns="http://jabber.org/protocol/disco#info"></query>\n</iq>',
             "<cl:iq xmlns:cl='jabber:client' type='get' id='y' to='romeo@example.net/orchard'>"
             "<query xmlns='http://jabber.org/protocol/disco#info'/></cl:iq>"],
}

# Near misses, each with words its result must contain.
NEAR_MISSES = {
    "07.1": [("<iq type='get' id='a'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>",
              "needs to='example.com'"),
             ("<iq type='get' to='example.com' id='a'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>",
              "disco#items asks for the entity's items"),
             ("<iq type='set' to='example.com' id='a'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>",
              "type='get'"),
             ("<iq type='get' to='example.com'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>",
              "needs an 'id'"),
             ("<iq type='get' to='example.com' id='a'><query xmlns='disco#info'/></iq>", "in the namespace disco#info"),
             ("<iq type='get' to='example.com' id='a'><query xmlns='http://jabber.org/protocol/disco#info'>"
              "<feature var='urn:xmpp:ping'/></query></iq>", "an empty <query/>"),
             ("<iq type='get' to='example.net' id='a'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>",
              "'to' should be 'example.com'")],
    "07.2": [("<iq type='get' to='romeo@example.net' id='a'><query xmlns='http://jabber.org/protocol/disco#info'/>"
              "</iq>", "the full JID with the resource"),
             ("<iq type='get' to='romeo@example.net/balcony' id='a'>"
              "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>", "not 'balcony'"),
             ("<iq type='get' to='example.net' id='a'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>",
              "not 'example.net'"),
             ("<iq type='get' id='a'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>",
              "needs to='romeo@example.net/orchard'"),
             ("<iq type='get' to='romeo@example.net/orchard' id='a'>"
              "<query xmlns='http://jabber.org/protocol/disco#items'/></iq>", "is disco#info"),
             ("<iq type='get' to='romeo@example.net/orchard' id='a'><query xmlns='jabber:iq:version'/></iq>",
              "in the namespace jabber:iq:version")],
}

# Live exercises (checked against a running Lab): id -> (async solve(lab), async near_miss(lab), words).
LIVE = {}
