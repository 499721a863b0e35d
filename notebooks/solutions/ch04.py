"""Chapter 04 (Presence): solutions, and the answers tests/test_course.py tries on each check."""

SOLUTIONS = {
    "04.1": "<presence><show>dnd</show><status>Speaking with the Nurse</status></presence>",
    "04.2": "<presence><priority>20</priority></presence>",
}

# Right answers written differently: attribute order, namespace prefixes, whitespace, other valid values.
REWRITTEN = {
    "04.1": ['<presence xmlns="jabber:client">\n  <status>Busy</status>\n  <show> dnd </show>\n</presence>',
             "<c:presence xmlns:c='jabber:client'><c:show>dnd</c:show><c:status>Busy</c:status>"
             "<c:priority>1</c:priority></c:presence>"],
    "04.2": ["<presence><show>chat</show><priority>127</priority></presence>",
             '<presence xmlns="jabber:client">\n  <priority> 11 </priority>\n</presence>'],
}

# Near misses, each with words its result must contain.
NEAR_MISSES = {
    "04.1": [("<presence type='dnd'><status>Busy</status></presence>", "'dnd' is not a presence type"),
             ("<presence><show>busy</show><status>Busy</status></presence>", "not 'busy'"),
             ("<presence><show>away</show><status>Busy</status></presence>", "'do not disturb' is dnd"),
             ("<presence><show>dnd</show></presence>", "needs a <status/> child"),
             ("<presence to='romeo@example.net'><show>dnd</show><status>x</status></presence>",
              "leave out the 'to' attribute"),
             ("<presence type='unavailable'><show>dnd</show><status>x</status></presence>", "you are offline"),
             ("<message><show>dnd</show><status>x</status></message>", "should be <presence/>")],
    "04.2": [("<presence><priority>10</priority></presence>", "a tie"),
             ("<presence><priority>5</priority></presence>", "pc would still get the messages"),
             ("<presence><priority>-1</priority></presence>", "negative"),
             ("<presence><priority>200</priority></presence>", "from -128 to 127"),
             ("<presence><priority>high</priority></presence>", "whole number"),
             ("<presence/>", "needs a <priority/> child"),
             ("<presence type='unavailable'><priority>20</priority></presence>", "you are offline"),
             ("<presence><priority>20</priority><prio>1</prio></presence>", "<prio/> is not part of presence")],
}

# Live exercises (checked against a running Lab): id -> (async solve(lab), async near_miss(lab), words).
LIVE = {}
