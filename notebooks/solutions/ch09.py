"""Chapter 09 (Federation): solutions, and the answers tests/test_course.py tries on each check."""

SOLUTIONS = {
    "09.1": "<message from='user1@server1.com/pc' to='user3@server3.com/phone2' type='chat'>"
            "<body>Meet me on server3!</body></message>",
    "09.2": "<message from='user9@server9.com' to='user1@server1.com/pc' id='m9' type='error'>"
            "<error type='cancel'><remote-server-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
            "</error></message>",
}

# Right answers written differently: attribute order, namespace prefixes, whitespace, an id, a <text/>.
REWRITTEN = {
    "09.1": ['<message type="chat" to="user3@server3.com/phone2" from="User1@Server1.com/pc" id="x1">\n'
             '  <body> Meet me on server3! </body>\n</message>',
             "<s:message xmlns:s='jabber:server' to='user3@server3.com/phone2' from='user1@server1.com/pc' "
             "type='chat'><s:body>Meet me on server3!</s:body></s:message>",
             "<message xmlns='jabber:server' from='user1@server1.com/pc' to='user3@server3.com/phone2' "
             "type='chat' xml:lang='en'><body>Meet me on server3!</body></message>"],
    "09.2": ['<message type="error" id="m9" to="user1@server1.com/pc" from="user9@server9.com">\n'
             '  <error type="cancel">\n'
             '    <remote-server-not-found xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/>\n'
             '    <text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas">no server for server9.com</text>\n'
             '  </error>\n</message>',
             "<message from='user9@server9.com' to='user1@server1.com/pc' id='m9' type='error'>"
             "<body>Anyone there?</body><error type='cancel' by='server1.com'>"
             "<e:remote-server-not-found xmlns:e='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>"],
}

_OK_09_1 = "type='chat'><body>Meet me on server3!</body></message>"
_ERR = "<error type='cancel'><remote-server-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>"

# Near misses, each with words its result must contain.
NEAR_MISSES = {
    "09.1": [("<message to='user3@server3.com/phone2' " + _OK_09_1, "every stanza carries one"),
             ("<message from='user1@server1.com' to='user3@server3.com/phone2' " + _OK_09_1, "bare JID"),
             ("<message from='server1.com' to='user3@server3.com/phone2' " + _OK_09_1, "the server itself"),
             ("<message from='user1@server1.com/pc' to='user3@server3.com' " + _OK_09_1, "should stay"),
             ("<message xmlns='jabber:client' from='user1@server1.com/pc' to='user3@server3.com/phone2' "
              + _OK_09_1, "leave out xmlns='jabber:client'"),
             ("<message from='user1@server1.com/pc' to='user3@server3.com/phone2' type='chat'>"
              "<body>Hi</body></message>", "should still say 'Meet me on server3!'"),
             ("<message from='user1@server1.com/pc' to='user3@server3.com/phone2' type='normal'>"
              "<body>Meet me on server3!</body></message>", "should stay 'chat'"),
             ("<presence from='user1@server1.com/pc' to='user3@server3.com/phone2'/>", "should be <message/>")],
    "09.2": [("<message to='user1@server1.com/pc' id='m9' type='error'>" + _ERR + "</message>",
              "needs from='user9@server9.com'"),
             ("<message from='server1.com' to='user1@server1.com/pc' id='m9' type='error'>" + _ERR + "</message>",
              "on behalf of the address"),
             ("<message from='user9@server9.com' to='user1@server1.com' id='m9' type='error'>" + _ERR
              + "</message>", "the very session"),
             ("<message from='user9@server9.com' to='user1@server1.com/pc' type='error'>" + _ERR + "</message>",
              "needs id='m9'"),
             ("<message from='user9@server9.com' to='user1@server1.com/pc' id='m9'>" + _ERR + "</message>",
              "needs type='error'"),
             ("<message from='user9@server9.com' to='user1@server1.com/pc' id='m9' type='error'>"
              "<error type='wait'><remote-server-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
              "</error></message>", "should be type='cancel'"),
             ("<message from='user9@server9.com' to='user1@server1.com/pc' id='m9' type='error'>"
              "<error type='cancel'><remote-server-not-found/></error></message>", "must be in the namespace"),
             ("<message from='user9@server9.com' to='user1@server1.com/pc' id='m9' type='error'>"
              "<error type='wait'><remote-server-timeout xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
              "</error></message>", "did not answer in time"),
             ("<message from='user9@server9.com' to='user1@server1.com/pc' id='m9' type='error'>"
              "<error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
              "</error></message>", "could even reach server9.com"),
             ("<message from='user9@server9.com' to='user1@server1.com/pc' id='m9' type='error'/>",
              "needs an <error/> child")],
}

# Live exercises (checked against a running Lab): id -> (async solve(lab), async near_miss(lab), words).
LIVE = {}
