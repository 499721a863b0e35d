"""Chapter 15 (Live data beyond chat): solutions, and the answers tests/test_course.py tries on each check."""

PUBSUB = "http://jabber.org/protocol/pubsub"

SOLUTIONS = {
    "15.1": (f"<iq type='set' to='pubsub.example.com' id='m1'><pubsub xmlns='{PUBSUB}'><publish node='chess'>"
             "<item id='move-1'><move xmlns='urn:example:chess'>e2e4</move></item></publish></pubsub></iq>"),
}

# Right answers written differently: attribute order, namespace prefixes, whitespace, no item id.
REWRITTEN = {
    "15.1": [f"""<iq id="m2" to="PubSub.Example.com" type="set">
  <pubsub xmlns="{PUBSUB}">
    <publish node="chess">
      <item><c:move xmlns:c="urn:example:chess" from="e2" to="e4"/></item>
    </publish>
  </pubsub>
</iq>"""],
}

# Near misses, each with words its result must contain.
_MOVE = "<item id='move-1'><move xmlns='urn:example:chess'>e2e4</move></item>"
NEAR_MISSES = {
    "15.1": [
        (f"<iq type='set' to='example.com' id='m1'><pubsub xmlns='{PUBSUB}'><publish node='chess'>{_MOVE}"
         "</publish></pubsub></iq>", "has an address of its own"),
        (f"<iq type='get' to='pubsub.example.com' id='m1'><pubsub xmlns='{PUBSUB}'><publish node='chess'>{_MOVE}"
         "</publish></pubsub></iq>", "type='set'"),
        (f"<iq type='set' to='pubsub.example.com'><pubsub xmlns='{PUBSUB}'><publish node='chess'>{_MOVE}"
         "</publish></pubsub></iq>", "needs an 'id'"),
        (f"<iq type='set' to='pubsub.example.com' id='m1'><pubsub xmlns='{PUBSUB}'><publish node='chess'>"
         "<item id='move-1'><move>e2e4</move></item></publish></pubsub></iq>", "a namespace of its own"),
        (f"<iq type='set' to='pubsub.example.com' id='m1'><pubsub xmlns='{PUBSUB}'><publish node='chess'/>"
         "</pubsub></iq>", "needs an <item/>"),
        (f"<iq type='set' to='pubsub.example.com' id='m1'><pubsub xmlns='{PUBSUB}'><publish node='games'>{_MOVE}"
         "</publish></pubsub></iq>", "'node' should be 'chess'"),
        (f"<iq type='set' to='pubsub.example.com' id='m1'><pubsub xmlns='{PUBSUB}'><subscribe node='chess' "
         "jid='juliet@example.com'/></pubsub></iq>", "to *receive*"),
        ("<message to='romeo@example.net'><move xmlns='urn:example:chess'>e2e4</move></message>",
         "should be <iq/>"),
    ],
}


async def _greenhouse(lab):
    sensor = await lab.connect("juliet@example.com/sensor")
    await sensor.iq(f"<iq type='set' to='pubsub.example.com'><pubsub xmlns='{PUBSUB}'><create node='greenhouse'/>"
                    "</pubsub></iq>")
    return await lab.connect("benvolio@example.net/square")


async def solve_15_2(lab):
    """The greenhouse node exists; Benvolio subscribes his bare JID."""
    benvolio = await _greenhouse(lab)
    await benvolio.iq(f"<iq type='set' to='pubsub.example.com'><pubsub xmlns='{PUBSUB}'>"
                      "<subscribe node='greenhouse' jid='benvolio@example.net'/></pubsub></iq>")


async def near_miss_15_2(lab):
    """Benvolio logs in and asks for the items, but never subscribes."""
    benvolio = await _greenhouse(lab)
    await benvolio.iq(f"<iq type='get' to='pubsub.example.com'><pubsub xmlns='{PUBSUB}'>"
                      "<items node='greenhouse'/></pubsub></iq>")


# Live exercises (checked against a running Lab): id -> (async solve(lab), async near_miss(lab), words).
LIVE = {
    "15.2": (solve_15_2, near_miss_15_2, "not subscribed to 'greenhouse' yet"),
}
