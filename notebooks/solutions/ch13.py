"""Chapter 13 (Accounts): solutions, and the answers tests/test_course.py tries on each check."""

from xmpplab.rawclient import RawClient

REGISTER = "<query xmlns='jabber:iq:register'>{}</query>"

SOLUTIONS = {
    "13.1": "<iq type='set' id='reg2'><query xmlns='jabber:iq:register'><username>mercutio</username>"
            "<password>queenmab</password></query></iq>",
    "13.2": "<iq type='set' id='unreg1'><query xmlns='jabber:iq:register'><remove/></query></iq>",
}

# Right answers written differently: to the domain, a prefix, other ids, attributes in another order.
REWRITTEN = {
    "13.1": ["<iq id='r' to='example.com' type='set'><r:query xmlns:r='jabber:iq:register'>"
             "<r:password>s3cret!</r:password><r:username> mercutio </r:username></r:query></iq>",
             '<iq type="set" id="x"><query xmlns="jabber:iq:register"><username>mercutio</username>'
             '<password>queenmab</password><email>m@example.org</email></query></iq>'],
    "13.2": ["<iq to='example.com' id='u' type='set'><query xmlns='jabber:iq:register'><remove/></query></iq>",
             '<iq type="set" id="u2"><q:query xmlns:q="jabber:iq:register"><q:remove></q:remove></q:query></iq>'],
}

_MERCUTIO = "<username>mercutio</username><password>queenmab</password>"

# Near misses, each with words its result must contain.
NEAR_MISSES = {
    "13.1": [("<iq type='get' id='r1'>" + REGISTER.format(_MERCUTIO) + "</iq>", "asks for the registration form"),
             ("<iq type='set' id='r1'><query>" + _MERCUTIO + "</query></iq>", "needs xmlns='jabber:iq:register'"),
             ("<iq type='set' id='r1'/>", "needs a <query xmlns='jabber:iq:register'/>"),
             ("<iq type='set' id='r1'>" + REGISTER.format("<username>mercutio@example.com</username>"
                                                          "<password>x</password>") + "</iq>", "only the local part"),
             ("<iq type='set' id='r1'>" + REGISTER.format("<username>mercutio</username>") + "</iq>",
              "needs a <password/>"),
             ("<iq type='set' id='r1'>" + REGISTER.format("<username>mercutio</username><password/>") + "</iq>",
              "the <password/> is empty"),
             ("<iq type='set' id='r1'>" + REGISTER.format("<username>romeo</username><password>x</password>")
              + "</iq>", "should be 'mercutio'"),
             ("<iq type='set'>" + REGISTER.format(_MERCUTIO) + "</iq>", "give the <iq/> an id"),
             ("<iq type='set' id='r1' to='juliet@example.com'>" + REGISTER.format(_MERCUTIO) + "</iq>",
              "goes to the server"),
             ("<iq type='set' id='r1'>" + REGISTER.format("<remove/>") + "</iq>", "<remove/> cancels an account"),
             ("<message/>", "should be <iq/>")],
    "13.2": [("<iq type='get' id='u1'>" + REGISTER.format("<remove/>") + "</iq>", "asks whether you are registered"),
             ("<iq type='set' id='u1'>" + REGISTER.format("") + "</iq>", "put <remove/> inside"),
             ("<iq type='set' id='u1'>" + REGISTER.format("<password>new</password>") + "</iq>",
              "changes the password"),
             ("<iq type='set' id='u1'>" + REGISTER.format("<remove xmlns='urn:example'/>") + "</iq>",
              "belongs to the query's namespace"),
             ("<iq type='set' id='u1'><query xmlns='jabber:iq:roster'><remove/></query></iq>",
              "not jabber:iq:roster"),
             ("<iq type='set' id='u1' to='romeo@example.net'>" + REGISTER.format("<remove/>") + "</iq>",
              "goes to the server")],
}


# Live exercises (checked against a running Lab): id -> (async solve(lab), async near_miss(lab), words).
async def solve_13_3(own):
    raw = await RawClient.connect("127.0.0.1", own.server.port)
    await raw.send("<stream:stream to='example.com' version='1.0' xmlns='jabber:client' "
                   "xmlns:stream='http://etherx.jabber.org/streams'>")
    await raw.recv()                                     # the stream features: <register/> is among them
    await raw.request("<iq type='set' id='b1'><query xmlns='jabber:iq:register'><username>balthasar</username>"
                      "<password>horses</password></query></iq>")
    await raw.close()
    await own.connect("balthasar@example.com/mantua", "horses", create=False)


async def near_miss_13_3(own):
    own.add_account("balthasar@example.com", "horses")   # made by the Lab, not by XMPP
    await own.connect("balthasar@example.com/mantua", "horses", create=False)


LIVE = {
    "13.3": (solve_13_3, near_miss_13_3, "no in-band registration of balthasar"),
}
