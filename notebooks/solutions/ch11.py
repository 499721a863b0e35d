"""Chapter 11 (Replay): solutions, and the answers tests/test_course.py tries on each check."""

SOLUTIONS = {
    "11.1": "C: <iq to='example.com' id='ping1' type='get'><ping xmlns='urn:xmpp:ping'/></iq>\n"
            "S: <iq from='example.com' to='juliet@example.com/balcony' id='ping1' type='result'/>\n",
}

# Right answers written differently: layout as in the RFCs, no 'to' (XEP-0199 allows it), other ids.
REWRITTEN = {
    "11.1": ["""
   C: <iq to='example.com'
          id='c2s1'
          type='get'>
        <ping xmlns='urn:xmpp:ping'/>
      </iq>

   S: <iq from='example.com'
          to='juliet@example.com/balcony'
          id='c2s1'
          type='result'/>
""",
             "C: <iq type=\"get\" id=\"p\"><ping xmlns=\"urn:xmpp:ping\"/></iq>\nS: <iq type=\"result\" id=\"p\"/>",
             "C: <iq to='juliet@example.com' id='x' type='get'><ping xmlns='urn:xmpp:ping'/></iq>\n"
             "S: <iq from='juliet@example.com' to='juliet@example.com/balcony' id='x' type='result'/>"],
}

_PING = "<ping xmlns='urn:xmpp:ping'/>"

# Near misses, each with words its result must contain.
NEAR_MISSES = {
    "11.1": [("<iq to='example.com' id='p1' type='get'>" + _PING + "</iq>", "could not read it"),
             ("C: <iq to='example.com' id='p1' type='get'>" + _PING + "</iq>", "add the server's answer"),
             ("C: <iq to='example.com' id='p1' type='get'>" + _PING + "</iq>\nS: <iq id='p2' type='result'/>",
              "carries the id of the request"),
             ("C: <iq to='example.com' id='p1' type='set'>" + _PING + "</iq>\nS: <iq id='p1' type='result'/>",
              "not 'set'"),
             ("C: <iq to='example.com' id='p1' type='get'><ping/></iq>\nS: <iq id='p1' type='result'/>",
              "needs xmlns='urn:xmpp:ping'"),
             ("C: <iq to='example.com' id='p1' type='get'/>\nS: <iq id='p1' type='result'/>",
              "put a <ping xmlns='urn:xmpp:ping'/>"),
             ("C: <iq to='romeo@example.net' id='p1' type='get'>" + _PING + "</iq>\nS: <iq id='p1' type='result'/>",
              "pings her server"),
             ("C: <iq to='example.com' id='p1' type='get'>" + _PING + "</iq>\n"
              "S: <iq id='p1' type='error'/>", "not 'error'"),
             ("C: <iq to='example.com' id='p1' type='get'>" + _PING + "</iq>\n"
              "S: <iq id='p1' to='juliet@example.com' type='result'/>", "the session that asked"),
             ("C: <iq to='example.com' id='p1' type='get'>" + _PING + "</iq>\n"
              "S: <iq id='p1' from='example.net' type='result'/>", "comes from the address"),
             ("S: <iq id='p1' type='result'/>", "no C: line with an <iq/>"),
             (42, "the answer is text")],
}


# Live exercises (checked against a running Lab): id -> (async solve(lab), async near_miss(lab), words).
async def solve_11_2(lab):
    juliet = await lab.connect("juliet@example.com/balcony")
    romeo = await lab.connect("romeo@example.net/orchard")
    await juliet.iq("<iq type='set'><query xmlns='jabber:iq:roster'>"
                    "<item jid='romeo@example.net' name='Romeo'/></query></iq>")
    await juliet.subscribe("romeo@example.net")
    await romeo.approve("juliet@example.com")
    await romeo.subscribe("juliet@example.com")
    await juliet.approve("romeo@example.net")
    await juliet.roster()      # a round trip: the server has handled all of the above
    await romeo.roster()


async def near_miss_11_2(lab):
    juliet = await lab.connect("juliet@example.com/balcony")
    romeo = await lab.connect("romeo@example.net/orchard")
    await juliet.subscribe("romeo@example.net")      # one way only, and no name
    await romeo.approve("juliet@example.com")
    await juliet.roster()
    await romeo.roster()


LIVE = {
    "11.2": (solve_11_2, near_miss_11_2, "subscription is 'to'"),
}
