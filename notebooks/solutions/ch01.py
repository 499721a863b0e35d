"""Chapter 01 (Addressing): solutions, and the answers tests/test_course.py tries on each check."""

import re


def parts(jid):
    """RFC 7622 section 3.1: the resource starts at the first '/', the local part ends at the first '@' before it."""
    rest, slash, resource = jid.partition("/")
    local, at, domain = rest.partition("@")
    if not at:
        local, domain = None, rest
    return local, domain, (resource if slash else None)


def parts_with_find(jid):
    slash = jid.find("/")
    resource = None
    if slash >= 0:
        jid, resource = jid[:slash], jid[slash + 1:]
    if "@" in jid:
        local, domain = jid.split("@", 1)
        return [local, domain, resource]          # a list is fine too
    return [None, jid, resource]


def parts_with_a_regex(jid):
    m = re.fullmatch(r"(?:([^@/]*)@)?([^/]*)(?:/(.*))?", jid, re.DOTALL)
    return m.group(1), m.group(2), m.group(3)


def parts_with_the_lab(jid):
    from xmpplab import JID
    j = JID(jid)
    return j.local, j.domain, j.resource


def parts_split_at_at_first(jid):           # splits at '@' before looking for '/'
    local, domain, resource = None, jid, None
    if "@" in jid:
        local, domain = jid.split("@", 1)
    if "/" in domain:
        domain, resource = domain.split("/", 1)
    return local, domain, resource


def parts_with_empty_strings(jid):           # '' for absent parts
    rest, _, resource = jid.partition("/")
    local, at, domain = rest.partition("@")
    if not at:
        local, domain = "", rest
    return local, domain, resource


def parts_with_rsplit(jid):                  # the resource starts at the last '/'
    rest, slash, resource = jid.rpartition("/")
    if not slash:
        rest, resource = resource, None
    local, at, domain = rest.partition("@")
    if not at:
        local, domain = None, rest
    return local, domain, resource


def parts_that_crash(jid):
    local, domain = jid.split("@")
    return local, domain, None


VERDICTS = {
    "User1@Server1.COM": "valid",
    "user1@server1.com/": "resource",
    "user 1@server1.com": "local",
    "user1@server1.com/my phone": "valid",
    "user1@server 2.com": "domain",
}

SOLUTIONS = {
    "01.1": parts,
    "01.2": VERDICTS,
}

# Right answers written differently.
REWRITTEN = {
    "01.1": [parts_with_find, parts_with_a_regex, parts_with_the_lab],
    "01.2": [{**VERDICTS, "user1@server1.com/": "Resource part", "user 1@server1.com": "localpart",
              "user1@server 2.com": "DOMAIN", "User1@Server1.COM": " Valid "},
             dict(reversed(list(VERDICTS.items())))],
}

# Near misses, each with words its result must contain.
NEAR_MISSES = {
    "01.1": [(parts_split_at_at_first, "there is no local part"),
             (parts_with_empty_strings, "an absent part is None"),
             (parts_with_rsplit, "the resource starts at the FIRST '/'"),
             (parts_that_crash, "raised ValueError"),
             ("juliet@example.com/balcony", "the answer is a function")],
    "01.2": [({**VERDICTS, "User1@Server1.COM": "local"}, "is valid: a server reads it as 'user1@server1.com'"),
             ({**VERDICTS, "user1@server1.com/my phone": "resource"}, "is valid"),
             ({**VERDICTS, "user 1@server1.com": "valid"}, "one of its parts breaks a rule"),
             ({**VERDICTS, "user1@server 2.com": "local"}, "not because of its local part"),
             ({**VERDICTS, "user1@server1.com/": ...}, "not decided yet"),
             ({k: v for k, v in VERDICTS.items() if k != "user1@server 2.com"}, "is missing from your dictionary"),
             ({**VERDICTS, "user 1@server1.com": "bad"}, "is not one of")],
}

LIVE = {}
