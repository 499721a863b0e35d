"""Chapter 01, Addressing: split a JID into its parts (01.1), tell valid addresses from invalid ones (01.2)."""

from __future__ import annotations

from ..jid import JID, InvalidJID
from .core import Checker, exercise

# (text, (local, domain, resource), why) -- the splitting rules of RFC 7622 section 3.1
SPLIT_CASES = [
    ("juliet@example.com/balcony", ("juliet", "example.com", "balcony"),
     "the local part comes before the '@', the domain after it, and the resource after the '/'"),
    ("romeo@example.net", ("romeo", "example.net", None),
     "there is no '/', so there is no resource part: it is None"),
    ("example.com", (None, "example.com", None),
     "a domain on its own is a JID: no '@' means no local part"),
    ("user1@server1.com/phone1", ("user1", "server1.com", "phone1"),
     "the local part comes before the '@', the domain after it, and the resource after the '/'"),
    ("juliet@example.com/foo@bar", ("juliet", "example.com", "foo@bar"),
     "everything after the first '/' is the resource, an '@' in it included"),
    ("user1@server1.com/pc/home", ("user1", "server1.com", "pc/home"),
     "the resource starts at the FIRST '/'; a later '/' belongs to the resource"),
    ("a.example.com/b@example.net", (None, "a.example.com", "b@example.net"),
     "look for the '@' only before the first '/': there is none there, so there is no local part"),
]


def _show(value) -> str:
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join(_show(v) for v in value) + ")"
    return repr(value)


@exercise("01.1", "Take an address apart")
def _(answer, **context):
    """First find the resource: it is everything after the FIRST '/' (str.partition('/') splits there). Only then look
    for an '@' in what comes before it.

    Absent parts are None, not '': 'romeo@example.net' gives ('romeo', 'example.net', None), 'example.com' gives
    (None, 'example.com', None).

    One way: rest, slash, resource = jid.partition('/'); then local, at, domain = rest.partition('@'); when there is
    no '@', the whole rest is the domain."""
    c = Checker()
    if not callable(answer):
        c.fail("the answer is a function: define `def parts(jid): ...` and call check(\"01.1\", parts) "
               "(the name, without parentheses)")
        return c
    for text, expected, why in SPLIT_CASES:
        call = f"parts({text!r})"
        try:
            got = answer(text)
        except Exception as exc:  # noqa: BLE001 (the learner's code: any failure is feedback, not a crash)
            c.fail(f"{call} raised {type(exc).__name__}: {exc}")
            continue
        if not isinstance(got, (tuple, list)) or len(got) != 3:
            c.fail(f"{call} returned {got!r}; it should return three values: (local, domain, resource)")
            continue
        got = tuple(got)
        if got == expected:
            c.ok(f"{call} gives {_show(got)}")
            continue
        if tuple(None if v == "" else v for v in got) == expected:
            c.fail(f"{call} gives {_show(got)}: an absent part is None, not an empty string ''")
            continue
        c.fail(f"{call} should give {_show(expected)}, not {_show(got)}: {why} (RFC 7622 §3.1)")
    return c


# ---------------------------------------------------------------------------------------------
VALIDITY_CASES = [  # one valid by normalisation, one valid with a space, one broken rule per part
    "User1@Server1.COM",
    "user1@server1.com/",
    "user 1@server1.com",
    "user1@server1.com/my phone",
    "user1@server 2.com",
]
_PARTS = ("local", "domain", "resource")


def _verdict(value):
    """'valid', 'local', 'domain', 'resource', or None for something else."""
    if not isinstance(value, str):
        return None
    v = value.strip().lower().replace("-", " ").replace("_", " ")
    for suffix in (" part", "part"):
        if v.endswith(suffix):
            v = v[: -len(suffix)].strip()
    if v in ("valid", "ok", "fine"):
        return "valid"
    return v if v in _PARTS else None


@exercise("01.2", "Valid or not?")
def _(answer, **context):
    """Each part has its rules (RFC 7622 §3.2 to §3.4). Local part: letters, digits and some symbols, no spaces, none
    of " & ' / : < > @, case does not matter. Domain: a domain name, letters, digits, hyphens and dots. Resource:
    almost anything, spaces included, case kept.

    An empty part is an error: '@' with nothing before it, or '/' with nothing after it. An absent part is fine:
    'server3.com' has no local part and no resource.

    Upper case is not an error: it is normalised. 'User1@Server1.COM' is read as 'user1@server1.com'."""
    c = Checker()
    if not isinstance(answer, dict):
        c.fail("the answer is the dictionary `verdicts`: check(\"01.2\", verdicts)")
        return c
    for text in VALIDITY_CASES:
        if text not in answer:
            c.fail(f"'{text}' is missing from your dictionary: put it back")
            continue
        given = answer[text]
        if given is Ellipsis:
            c.fail(f"'{text}': not decided yet (replace ... with \"valid\", \"local\", \"domain\" or \"resource\")")
            continue
        said = _verdict(given)
        if said is None:
            c.fail(f"'{text}': {given!r} is not one of \"valid\", \"local\", \"domain\", \"resource\"")
            continue
        try:
            jid = JID(text)
            truth, reason = "valid", None
        except InvalidJID as exc:
            jid, truth, reason = None, exc.part, exc.reason
        if said == truth:
            if truth == "valid":
                c.ok(f"'{text}' is valid" + (f" (it is read as '{jid}')" if str(jid) != text else ""))
            else:
                c.ok(f"'{text}' is invalid: {reason}")
        elif truth == "valid":
            c.fail(f"'{text}' is valid: a server reads it as '{jid}'")
        elif said == "valid":
            c.fail(f"'{text}' is not valid: one of its parts breaks a rule. Which one?")
        else:
            c.fail(f"'{text}' is invalid, but not because of its {said} part: look at the others")
    return c

