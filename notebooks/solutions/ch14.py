"""Chapter 14 (Trace detectives): solutions, and the answers tests/test_course.py tries on each check.
The checks read the expected answers from the recordings in sample_streams/."""

SOLUTIONS = {
    "14.1": {"id": "m2", "to": "romeo@example.net/orchad", "why": "b"},
    "14.2": {"juliet_sent": "subscribe", "ask": "subscribe", "fix": "subscribed"},
    "14.3": {"domain": "example.net", "condition": "not-authorized", "why": "b"},
}

# Right answers written differently: a prepared JID in other case, letters in capitals, the condition as XML.
REWRITTEN = {
    "14.1": [{"id": "m2", "to": "Romeo@Example.NET/orchad", "why": "B"},
             {"id": " m2 ", "to": "romeo@example.net/orchad", "why": "(b)"}],
    "14.2": [{"juliet_sent": " subscribe", "ask": "subscribe ", "fix": "subscribed"}],
    "14.3": [{"domain": "EXAMPLE.NET", "condition": "<not-authorized/>", "why": "B"}],
}

# Near misses, each with words its result must contain.
NEAR_MISSES = {
    "14.1": [({"id": "m1", "to": "romeo@example.net/orchad", "why": "b"}, "did arrive"),
             ({"id": "m2", "to": "romeo@example.net/orchard", "why": "b"}, "letter by letter"),
             ({"id": "m2", "to": "romeo@example.net/orchad", "why": "a"}, "received the message just before"),
             ({"id": "m2", "to": "romeo@example.net/orchad", "why": "c"}, "nothing of type 'error'"),
             ({"id": "m2", "to": "romeo@example.net/orchad", "why": "d"}, "never had it"),
             ({"id": "m3", "to": "romeo@example.net/orchad", "why": "b"}, "no message of Juliet's"),
             ({"id": "m2", "to": "juliet@example.com", "why": "b"}, "copy its 'to'"),
             ({"id": "m2", "to": "romeo@example.net/orchad", "why": "e"}, "one letter"),
             ({"id": "m2", "to": "?", "why": "b"}, "fill in 'to'"),
             ("m2", "the answer is a dict")],
    "14.2": [({"juliet_sent": "subscribed", "ask": "subscribe", "fix": "subscribed"}, "read its type"),
             ({"juliet_sent": "subscribe", "ask": "none", "fix": "subscribed"}, "read its <item/>"),
             ({"juliet_sent": "subscribe", "ask": "subscribe", "fix": "subscribe"}, "approving is 'subscribed'"),
             ({"juliet_sent": "subscribe", "ask": "subscribe", "fix": "available"}, "does not approve"),
             ({"juliet_sent": "subscribe", "ask": "subscribe"}, "fill in 'fix'")],
    "14.3": [({"domain": "example.com", "condition": "not-authorized", "why": "b"}, "where Juliet's account is"),
             ({"domain": "example.org", "condition": "not-authorized", "why": "b"}, "does not say to="),
             ({"domain": "example.net", "condition": "bad-auth", "why": "b"}, "does not hold <bad-auth/>"),
             ({"domain": "example.net", "condition": "not-authorized", "why": "a"}, "the same answer"),
             ({"domain": "example.net", "condition": "not-authorized", "why": "c"}, "with a challenge"),
             ({"domain": "example.net", "condition": "not-authorized", "why": "d"}, "TLS worked")],
}
