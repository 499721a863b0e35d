"""Chapter 03 (Message): solutions, and the answers tests/test_course.py tries on each check."""

SOLUTIONS = {
    "03.1": "<message to='romeo@example.net' type='headline'><body>The nurse is coming!</body></message>",
    "03.2": "<message from='mercutio@example.com' to='juliet@example.com/balcony' type='error' id='m7'>"
            "<error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>"
            "</message>",
}

# Right answers written differently: attribute order, quotes, prefixes, whitespace, case, extra optional parts.
REWRITTEN = {
    "03.1": [('<message type="headline" to="Romeo@Example.NET" id="n1" xml:lang="en">\n'
             '  <subject>Hurry</subject>\n  <body>The nurse is coming!</body>\n</message>'),
             ("<message to='romeo@example.net' type='headline' from='juliet@example.com/balcony'>"
              "<body>Hide!</body></message>")],
    "03.2": [("<message id='m7' type='error' to='Juliet@Example.com/balcony' from='mercutio@example.com'>\n"
             "  <body>Where art thou?</body>\n"
             "  <error type='cancel'>\n"
             "    <service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\n"
             "    <text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>no such user</text>\n"
             "  </error>\n</message>"),
             ("<c:message xmlns:c='jabber:client' xmlns:e='urn:ietf:params:xml:ns:xmpp-stanzas' from='example.com' "
              "to='juliet@example.com/balcony' type='error' id='m7'><c:error type='cancel'>"
              "<e:service-unavailable/></c:error></c:message>")],
}

_ERR = "<error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>"
_HEAD = "from='mercutio@example.com' to='juliet@example.com/balcony' type='error' id='m7'"
NEAR_MISSES = {
    "03.1": [("<message to='romeo@example.net' type='chat'><body>The nurse!</body></message>", "type='headline'"),
             ("<message to='romeo@example.net'><body>The nurse!</body></message>", "without a type"),
             ("<message to='romeo@example.net' type='news'><body>The nurse!</body></message>",
              "is not a message type"),
             ("<message to='romeo@example.net/orchard' type='headline'><body>The nurse!</body></message>",
              "reaches one session only"),
             ("<message to='juliet@example.com' type='headline'><body>The nurse!</body></message>",
              "should be Romeo's address"),
             ("<message to='romeo@example.net' type='headline' from='nurse@example.com'><body>!</body></message>",
              "her server adds it"),
             ("<message to='romeo@example.net' type='headline'/>", "needs a <body/> child")],
    "03.2": [(f"<message from='mercutio@example.com' to='juliet@example.com/balcony' id='m7'>{_ERR}</message>",
              "add a 'type'"),
             ((f"<message from='mercutio@example.com' to='juliet@example.com/balcony' type='error' id='m8'>"
              f"{_ERR}</message>"), "id='m8' is not right"),
             ((f"<message from='juliet@example.com/balcony' to='mercutio@example.com' type='error' id='m7'>"
              f"{_ERR}</message>"), "from='juliet@example.com/balcony' is not right"),
             (f"<message from='mercutio@example.com' to='juliet@example.com' type='error' id='m7'>{_ERR}</message>",
              "is Juliet's bare JID"),
             (f"<message {_HEAD}/>", "add an <error/> child"),
             ((f"<message from='mercutio@example.com' to='juliet@example.com/balcony' type='chat' id='m7'>"
              f"{_ERR}</message>"), "is for a message that worked"),
             ((f"<message {_HEAD}><error type='modify'><service-unavailable "
              "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>"),
              "retry after changing the message"),
             ((f"<message {_HEAD}><error><service-unavailable "
              "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>"), "needs type='cancel'"),
             (f"<message {_HEAD}><error type='cancel'><service-unavailable/></error></message>",
              "needs its namespace"),
             ((f"<message {_HEAD}><error type='cancel'><item-not-found "
              "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>"), "not <item-not-found/>"),
             (f"<message {_HEAD}><error type='cancel'/></message>", "needs a condition")],
}

LIVE = {}
