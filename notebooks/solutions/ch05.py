"""Chapter 05 (IQ): solutions, and the answers tests/test_course.py tries on each check."""

SOLUTIONS = {
    "05.1": "<iq type='set' id='add-nurse'><query xmlns='jabber:iq:roster'>"
            "<item jid='nurse@example.com' name='Nurse'/></query></iq>",
    "05.2": "<iq type='result' id='s2c1' to='example.com'/>",
}

# Right answers written differently: attribute order, namespace prefixes, whitespace, optional parts.
REWRITTEN = {
    "05.1": ['<iq id="r2" type="set" to="Juliet@Example.com">\n  <query xmlns="jabber:iq:roster">\n'
             '    <item name="Nurse" jid="Nurse@example.com"><group>Servants</group></item>\n  </query>\n</iq>',
             "<iq type='set' id='x'><r:query xmlns:r='jabber:iq:roster'><r:item jid='nurse@example.com' "
             "name='Nurse'/></r:query></iq>"],
    "05.2": ['<iq to="example.com" type="result" id="s2c1" from="juliet@example.com/balcony"></iq>',
             "<cl:iq xmlns:cl='jabber:client' id='s2c1' type='result' to='EXAMPLE.com'/>"],
}

# Near misses, each with words its result must contain.
NEAR_MISSES = {
    "05.1": [("<iq type='get' id='a'><query xmlns='jabber:iq:roster'><item jid='nurse@example.com' "
              "name='Nurse'/></query></iq>", "type='set'"),
             ("<iq type='set'><query xmlns='jabber:iq:roster'><item jid='nurse@example.com' "
              "name='Nurse'/></query></iq>", "needs an 'id'"),
             ("<iq type='set' id='a' to='nurse@example.com'><query xmlns='jabber:iq:roster'>"
              "<item jid='nurse@example.com' name='Nurse'/></query></iq>", "leave out to='nurse@example.com'"),
             ("<iq type='set' id='a'><query xmlns='jabber:iq:version'><item jid='nurse@example.com' "
              "name='Nurse'/></query></iq>", "in the namespace jabber:iq:version"),
             ("<iq type='set' id='a'><query xmlns='jabber:iq:roster'><item jid='nurse@example.com/chamber' "
              "name='Nurse'/></query></iq>", "'jid' should be 'nurse@example.com'"),
             ("<iq type='set' id='a'><query xmlns='jabber:iq:roster'><item jid='nurse@example.com'/>"
              "</query></iq>", "needs name='Nurse'"),
             ("<iq type='set' id='a'><query xmlns='jabber:iq:roster'><item jid='nurse@example.com' "
              "name='Nurse' subscription='both'/></query></iq>", "leave out subscription='both'"),
             ("<iq type='set' id='a'><query xmlns='jabber:iq:roster'><item jid='nurse@example.com' "
              "name='Nurse'/><item jid='romeo@example.net'/></query></iq>", "exactly one <item/>")],
    "05.2": [("<iq type='get' id='s2c1' to='example.com'/>", "an answer is type='result'"),
             ("<iq type='result' id='pong' to='example.com'/>", "the request's id, id='s2c1'"),
             ("<iq type='result' to='example.com'/>", "there is no 'id'"),
             ("<iq type='result' id='s2c1' to='romeo@example.net'/>", "'to' should be 'example.com'"),
             ("<iq type='result' id='s2c1' to='example.com'><ping xmlns='urn:xmpp:ping'/></iq>",
              "a pong is an empty result"),
             ("<iq type='result' id='s2c1' to='example.com' from='romeo@example.net'/>", "leave out 'from'"),
             ("<iq type='error' id='s2c1' to='example.com'/>", "type='result'")],
}

# Live exercises (checked against a running Lab): id -> (async solve(lab), async near_miss(lab), words).
LIVE = {}
