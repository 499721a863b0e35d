"""Chapter 11, Replay: write an exchange in the RFCs' notation (11.1), and make the live server answer the
way an RFC-style example says it should (11.2)."""

from __future__ import annotations

from ..jid import JID
from ..ns import NS_PING, NS_ROSTER
from ..xml import split_qname
from .core import Checker, exercise, jid_or_none

JULIET = JID("juliet@example.com")
ROMEO = JID("romeo@example.net")

#: The end of sample_streams/rfc/c2s-negotiation.txt (step 13 and 14), in the same notation: what the
#: live server must answer for exercise 11.2. Kept here so the check does not depend on the samples folder.
RFC_ROSTER_EXAMPLE = """
   C: <iq from='juliet@example.com/balcony'
          id='roster_1'
          type='get'>
        <query xmlns='jabber:iq:roster'/>
      </iq>

   S: <iq id='roster_1'
          to='juliet@example.com/balcony'
          type='result'>
        <query xmlns='jabber:iq:roster' ver='ver1'>
          <item jid='romeo@example.net'
                name='Romeo'
                subscription='both'/>
        </query>
      </iq>

   C: <message to='romeo@example.net'
               type='chat'
               id='msg_1'>
        <body>Wherefore art thou, Romeo?</body>
      </message>
"""


@exercise("11.1", "Write a ping in the RFCs' notation", hints=[
    "Two lines: one starting with C: (what Juliet's client sends), one starting with S: (what the server answers). "
    "Each holds one stanza; a stanza may go on over several lines, indented.",
    "The ping is an <iq type='get'> to example.com with an id and a <ping xmlns='urn:xmpp:ping'/> inside "
    "(XEP-0199 §4.2). The answer is an <iq type='result'> with the same id (RFC 6120 §8.2.3).",
    "C: <iq to='example.com' id='ping1' type='get'><ping xmlns='urn:xmpp:ping'/></iq>\n"
    "S: <iq from='example.com' to='juliet@example.com/balcony' id='ping1' type='result'/>",
])
def _(answer, **context):
    from ..transcript import Transcript, TranscriptError

    c = Checker()
    if not isinstance(answer, str):
        c.fail("the answer is text: lines starting with C: and S:, between triple quotes")
        return c
    try:
        t = Transcript.from_rfc_text(answer)
    except TranscriptError as exc:
        c.fail(f"the lab could not read it as RFC example text: {exc}")
        return c
    except Exception as exc:  # a parser message is feedback too
        c.fail(f"the lab could not read it as RFC example text: {exc}")
        return c
    items = list(t.items())
    problems = [i for i in items if i.is_problem]
    if problems:
        c.fail(f"some XML could not be read: {problems[0].problem}")
        return c
    requests = [i for i in items if i.stanza_kind == "iq" and str(i.direction) == "C→S"]
    if not requests:
        c.fail("there is no C: line with an <iq/>: the client's ping goes on a line that starts with C:")
        return c
    request = requests[0]
    c.ok("a C: line holds the client's <iq/>")
    if request.type == "get":
        c.ok("type='get': a question")
    else:
        c.fail(f"the ping is an iq of type 'get', not {request.type!r} (XEP-0199 §4.2)")
    if not request.id:
        c.fail("the <iq/> needs an id: the answer will carry the same one (RFC 6120 §8.2.3)")
    payload = request.payload
    if payload is None:
        c.fail("put a <ping xmlns='urn:xmpp:ping'/> inside the <iq/>: an iq get carries exactly one question")
    else:
        ns, name = split_qname(payload.tag)
        if name != "ping":
            c.fail(f"the question inside is <ping/>, not <{name}/>")
        elif ns != NS_PING:
            c.fail(f"<ping/> needs xmlns='{NS_PING}' (XEP-0199), not {ns or 'no namespace'}")
        else:
            c.ok("it asks <ping xmlns='urn:xmpp:ping'/>")
    to = jid_or_none(request.to)
    if request.to is None or to in (JID("example.com"), JULIET):
        c.ok(f"addressed to {request.to or 'nobody: the server answers for Juliet'} (XEP-0199 §4.2)")
    else:
        c.fail(f"Juliet pings her server: to='example.com', not to='{request.to}'")

    if not request.id:
        return c
    answer_item = t.answer_to(request)
    if answer_item is None:
        others = [i for i in items if i.stanza_kind == "iq" and str(i.direction) == "S→C"]
        if others:
            c.fail(f"the server's <iq/> has id='{others[0].id}'; an answer carries the id of the request, "
                   f"'{request.id}' (RFC 6120 §8.2.3)")
        else:
            c.fail("add the server's answer on a line that starts with S:")
        return c
    c.ok(f"an S: line answers it, with the same id '{request.id}'")
    if answer_item.type == "result":
        c.ok("type='result': the pong (XEP-0199 §4.2)")
    else:
        c.fail(f"the server supports ping, so it answers type='result', not {answer_item.type!r} (XEP-0199 §4.2)")
    back_to = jid_or_none(answer_item.to)
    if answer_item.to is not None and (back_to is None or back_to.bare != JULIET or back_to.resource is None):
        c.fail(f"the answer goes back to the session that asked, juliet@example.com/balcony, not "
               f"'{answer_item.to}'")
    sender = jid_or_none(answer_item.from_)
    expected_from = to if to is not None else None
    if answer_item.from_ is not None and expected_from is not None and sender != expected_from:
        c.fail(f"the answer comes from the address the ping was sent to, '{request.to}', not "
               f"'{answer_item.from_}'")
    return c


# ---------------------------------------------------------------------------------------------
# 11.2: the live server answers the roster request as the RFC-style example does.

def _roster_of(report) -> dict:
    """Juliet's roster as the live server answered the re-drive's roster request: contact -> its <item/>."""
    back = report.jids.inverse()  # the live addresses (a class server's practice accounts) as the example writes them
    for outcome in report.outcomes:
        got = outcome.got
        if got is None or split_qname(got.tag)[1] != "iq" or got.get("type") != "result":
            continue
        query = next((q for q in got if isinstance(q.tag, str) and split_qname(q.tag) == (NS_ROSTER, "query")), None)
        if query is not None:
            return {str(jid_or_none(back(item.get("jid"))) or item.get("jid")): item for item in query
                    if isinstance(item.tag, str) and item.get("jid")}
    return {}


def _roster_points(c: Checker, roster: dict) -> None:
    """Say in words how Juliet's roster differs from the example's (Romeo, name 'Romeo', subscription both)."""
    romeo = roster.get(str(ROMEO))
    if romeo is None:
        c.fail("Romeo is not on Juliet's roster: add him with a roster set (RFC 6121 §2.3), as Juliet")
    else:
        c.ok("Romeo is on Juliet's roster")
        name, subscription = romeo.get("name"), romeo.get("subscription") or "none"
        if name == "Romeo":
            c.ok("with name='Romeo'")
        elif name:
            c.fail(f"his name on the roster is '{name}'; the example says name='Romeo'")
        else:
            c.fail("he has no name on the roster; the example has name='Romeo' (the item's 'name' attribute, set "
                   "with a roster set, RFC 6121 §2.3)")
        if subscription == "both":
            c.ok("subscription='both': each sees the other's presence")
        else:
            missing = {"none": "neither sees the other's presence yet",
                       "to": "Juliet sees Romeo's presence, but he does not see hers yet",
                       "from": "Romeo sees Juliet's presence, but she does not see his yet"}
            c.fail(f"subscription is '{subscription}': {missing.get(subscription, '')}; the example "
                   "says 'both' (RFC 6121 §3: a request and an approval in each direction)")
        if romeo.get("ask"):
            c.fail("Juliet's request to see Romeo's presence is still pending: Romeo has to approve it")
    others = sorted(contact for contact in roster if contact != str(ROMEO))
    if others:
        c.fail(f"Juliet's roster also has {', '.join(others)}; the example's has only Romeo")


@exercise("11.2", "Make the live server agree with the example", hints=[
    "The re-drive said the roster result differs: in the example, Juliet's roster holds Romeo, with "
    "name='Romeo' and subscription='both'. Make the lab's Juliet have exactly that.",
    "A roster set adds him with a name (RFC 6121 §2.3): await juliet.iq(\"<iq type='set'><query "
    "xmlns='jabber:iq:roster'><item jid='romeo@example.net' name='Romeo'/></query></iq>\"). 'both' needs a "
    "subscription each way, each one asked and approved (chapter 06): subscribe() and approve().",
    "await juliet.iq(\"<iq type='set'><query xmlns='jabber:iq:roster'><item jid='romeo@example.net' "
    "name='Romeo'/></query></iq>\")\nawait juliet.subscribe(\"romeo@example.net\")\n"
    "await romeo.approve(\"juliet@example.com\")\nawait romeo.subscribe(\"juliet@example.com\")\n"
    "await juliet.approve(\"romeo@example.net\")\nawait juliet.roster()",
], live=True)
async def _(answer=None, *, lab=None, **context):
    """Re-drive the example's roster request and message against the Lab (its own server or the class server,
    as Juliet's account there) and say how Juliet's roster, as the server answered it, differs from the example's."""
    from ..rawclient import RawClientError
    from ..replay import redrive
    from ..transcript import Transcript

    c = Checker()
    if lab is None:
        c.fail("this exercise looks at your Lab: write `await acheck(\"11.2\", lab=lab)`")
        return c
    try:
        server = lab.server_for("example.com")
    except ValueError:
        c.fail("this Lab does not serve example.com: start one with `lab = await xmpplab.Lab.start()`")
        return c
    if not server.accounts.exists(str(JULIET)):
        c.fail("Juliet has no account yet: log her in once with `juliet = await lab.connect(\"juliet@example.com/"
               "balcony\")`")
        return c
    try:
        report = await redrive(Transcript.from_rfc_text(RFC_ROSTER_EXAMPLE), jid="juliet@example.com/replay", lab=lab)
    except RawClientError as exc:
        c.fail(f"the re-drive could not log in as Juliet with the lab's password: {exc}")
        return c
    _roster_points(c, _roster_of(report))
    if report.ok:
        c.ok("the re-drive of the example now comes out all the same")
    else:
        differences = [d for o in report.outcomes for d in o.differences] or \
            [f"{o.what}: {o.status}" for o in report.outcomes if str(o.status) != "same"]
        c.fail("the re-drive still differs: " + "; ".join(differences[:3]))
    return c
