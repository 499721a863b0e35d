"""Chapter 08 (Multi-user chat): solutions, and the answers tests/test_course.py tries on each check."""

SOLUTIONS = {
    "08.1": "<presence to='garden@conference.example.com/user1'><x xmlns='http://jabber.org/protocol/muc'/></presence>",
}

# Right answers written differently: attribute order, prefixes, whitespace, a history request, a status.
REWRITTEN = {
    "08.1": ['<presence xmlns="jabber:client" to="Garden@Conference.Example.com/user1">\n'
             '  <x xmlns="http://jabber.org/protocol/muc">\n    <history maxstanzas="5"/>\n  </x>\n</presence>',
             "<c:presence xmlns:c='jabber:client' to='garden@conference.example.com/user1'><c:show>chat</c:show>"
             "<m:x xmlns:m='http://jabber.org/protocol/muc'/></c:presence>"],
}

_X = "<x xmlns='http://jabber.org/protocol/muc'/>"

# Near misses, each with words its result must contain.
NEAR_MISSES = {
    "08.1": [("<presence to='garden@conference.example.com'>" + _X + "</presence>", "jid-malformed"),
             ("<presence to='garden@conference.example.com/romeo'>" + _X + "</presence>", "should be 'user1'"),
             ("<presence to='garden@example.com/user1'>" + _X + "</presence>", "rooms live on the chat service"),
             ("<presence to='garden@conference.example.com/user1'/>", "a MUC client MUST include it"),
             ("<presence to='garden@conference.example.com/user1'>"
              "<x xmlns='http://jabber.org/protocol/muc#user'/></presence>", "without '#user'"),
             ("<presence to='garden@conference.example.com/user1' type='unavailable'>" + _X + "</presence>",
              "how you leave a room"),
             ("<presence to='garden@conference.example.com/user1' type='subscribe'>" + _X + "</presence>",
              "MUST NOT have a 'type'"),
             ("<presence>" + _X + "</presence>", "it needs a 'to'"),
             ("<message to='garden@conference.example.com/user1'>" + _X + "</message>", "should be <presence/>")],
}


# Live exercises (checked against a running Lab): id -> (async solve(lab), async near_miss(lab), words).
async def _garden(lab):
    """Juliet creates the garden (an instant room, XEP-0045 10.1.2) and Romeo joins it."""
    juliet = await lab.connect("juliet@example.com/balcony")
    romeo = await lab.connect("romeo@example.net/orchard")
    await juliet.send_raw("<presence to='garden@conference.example.com/juliet'>"
                          "<x xmlns='http://jabber.org/protocol/muc'/></presence>")
    await juliet.next("message", from_="garden@conference.example.com")          # the subject: she is in
    await juliet.iq("<iq type='set' to='garden@conference.example.com'><query xmlns='http://jabber.org/protocol/"
                    "muc#owner'><x xmlns='jabber:x:data' type='submit'/></query></iq>")
    await romeo.send_raw("<presence to='garden@conference.example.com/romeo'>"
                         "<x xmlns='http://jabber.org/protocol/muc'/></presence>")
    await romeo.next("message", from_="garden@conference.example.com")           # the subject: he is in
    return juliet, romeo


async def solve_08_2(lab):
    juliet, _ = await _garden(lab)
    await juliet.send_raw("<message to='garden@conference.example.com' type='groupchat'>"
                          "<body>Welcome to the garden!</body></message>")


async def near_miss_08_2(lab):
    juliet, _ = await _garden(lab)
    await juliet.send_raw("<message to='garden@conference.example.com/romeo' type='chat'>"
                          "<body>Welcome to the garden!</body></message>")


LIVE = {
    "08.2": (solve_08_2, near_miss_08_2, "private message"),
}
