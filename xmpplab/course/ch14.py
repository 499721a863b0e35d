"""Chapter 14, Trace detectives: questions only a recording can answer. Each check reads the expected answers
out of the recording itself (xmpplab.course.traces.facts), so it judges by what the file says."""

from __future__ import annotations

from ..jid import JID, InvalidJID
from . import traces
from .core import Checker, exercise

LOST_CHOICES = {
    "a": "Romeo was offline, so the server kept it for later",
    "b": "it was addressed to a resource Romeo was not using, and the server drops such a headline in silence",
    "c": "the server sent an error back, and Juliet's client ignored it",
    "d": "Romeo's client received it but did not show it",
}
LOGIN_CHOICES = {
    "a": "Juliet typed a wrong password",
    "b": "the client asked for an account on example.net, where Juliet has none",
    "c": "the server does not offer the mechanism the client used",
    "d": "the TLS handshake failed",
}


def _fields(c: Checker, answer, keys: tuple[str, ...]) -> dict | None:
    """The answer as a dict with these keys (a ✗ for each one missing), or None when it is not a dict."""
    if not isinstance(answer, dict):
        c.fail("the answer is a dict, as in the cell: {" + ", ".join(f"'{k}': ..." for k in keys) + "}")
        return None
    for key in keys:
        if answer.get(key) in (None, "", "?"):
            c.fail(f"fill in '{key}'")
    return {k: str(answer[k]).strip() for k in keys if answer.get(k) not in (None, "", "?")}


def _about(trace: str, keys: tuple[str, ...]):
    """Make ``judge(c, got, facts)`` the check of a dict answer about the recording ``trace``: ``got`` holds the keys
    the answer filled in, ``facts`` what the recording says (xmpplab.course.traces.facts)."""
    def wrap(judge):
        def check(answer, **context):
            c = Checker()
            got = _fields(c, answer, keys)
            if got is not None:
                judge(c, got, traces.facts(trace))
            return c
        check.__doc__ = judge.__doc__  # the hints, one a paragraph (see exercise())
        return check
    return wrap


def _same_jid(given: str, expected: str) -> bool:
    try:
        return JID(given) == JID(expected)
    except InvalidJID:
        return False


def _choice(c: Checker, given: str | None, right: str, choices: dict, wrong: dict) -> None:
    if given is None:
        return
    letter = given.lower().strip("() .")
    if letter not in choices:
        c.fail(f"'why' is one letter: {', '.join(choices)}")
    elif letter == right:
        c.ok(f"why: {choices[letter]}")
    else:
        c.fail(f"({letter}) {choices[letter]}? {wrong[letter]}")


@exercise("14.1", "The message that never arrived")
@_about("lost-message", ("id", "to", "why"))
def _(c, got, facts):
    """Find Juliet's messages on her stream (C→S) and look for each id on Romeo's stream (S→C):
    lost.filter(kind='message') shows them all, connection by connection.

    Compare the 'to' of the lost message with the JID bound on Romeo's connection (the heading of his block). Then
    look at what came back on Juliet's stream after it.

    {'id': 'm2', 'to': 'romeo@example.net/orchad', 'why': 'b'}"""
    lost_id, lost_to, lost_type = facts["lost"][0]
    if "id" in got:
        if got["id"] == lost_id:
            c.ok(f"id '{lost_id}': that message never left the server towards Romeo")
        elif got["id"] in facts["delivered"]:
            c.fail(f"the message with id '{got['id']}' did arrive: it is on Romeo's stream (S→C)")
        else:
            c.fail(f"no message of Juliet's has id '{got['id']}': read the ids on her stream (C→S)")
    if "to" in got:
        if got["to"] == lost_to:
            c.ok(f"it was sent to {lost_to}, while Romeo was {facts['romeo']}")
        elif _same_jid(got["to"], lost_to):
            c.ok(f"it was sent to {lost_to}")
        elif _same_jid(got["to"], facts["romeo"]):
            c.fail(f"{facts['romeo']} is where Romeo really was; the lost message was addressed differently: "
                   "compare the two letter by letter")
        else:
            c.fail(f"the lost message was not sent to '{got['to']}': copy its 'to' from the recording")
    wrong = {"a": "Romeo's connection was open and bound, and it received the message just before",
             "c": f"nothing of type 'error' came back on Juliet's stream ({facts['errors']} errors)",
             "d": f"the server never sent id '{lost_id}' down Romeo's stream: his client never had it"}
    _choice(c, got.get("why"), "b", LOST_CHOICES, wrong)


@exercise("14.2", "The subscription stuck in pending")
@_about("pending-subscription", ("juliet_sent", "ask", "fix"))
def _(c, got, facts):
    """Look at the presence stanzas (pending.filter(kind='presence')): what did Juliet send to Romeo after his request
    arrived? Its 'type' is the clue.

    Romeo's last roster result (an iq of type result with jabber:iq:roster) has an <item/> for Juliet: read its
    'ask' attribute. The fix is the type that approves a request (RFC 6121 §3.1.5).

    {'juliet_sent': 'subscribe', 'ask': 'subscribe', 'fix': 'subscribed'}"""
    sent = facts["juliet_answered"][0]
    if "juliet_sent" in got:
        if got["juliet_sent"] == sent:
            c.ok(f"Juliet answered with type='{sent}': a request of her own, not an approval")
        else:
            c.fail(f"the presence Juliet sent to Romeo does not have type='{got['juliet_sent']}': read its type")
    if "ask" in got:
        if got["ask"] == facts["ask"]:
            c.ok(f"Romeo's roster says ask='{facts['ask']}' (subscription='{facts['subscription']}'): "
                 "his request is still pending")
        else:
            c.fail(f"Romeo's last roster result does not say ask='{got['ask']}' for Juliet: read its <item/>")
    if "fix" in got:
        if got["fix"] == "subscribed":
            c.ok("the fix: <presence to='romeo@example.net' type='subscribed'/> approves his request")
        elif got["fix"] == "subscribe":
            c.fail("'subscribe' asks for something; approving is 'subscribed' (RFC 6121 §3.1.5)")
        else:
            c.fail(f"'{got['fix']}' does not approve a request; the type that does is in RFC 6121 §3.1.5")


@exercise("14.3", "The failed login")
@_about("failed-login", ("domain", "condition", "why"))
def _(c, got, facts):
    """Read the first stream header the client sent (C→S): which domain is in its 'to'? Juliet's account is
    juliet@example.com.

    The answer to the SASL exchange is a <failure/>: the condition is the element inside it.

    {'domain': 'example.net', 'condition': 'not-authorized', 'why': 'b'}"""
    if "domain" in got:
        if got["domain"].lower() == facts["to"]:
            c.ok(f"the stream asked for {facts['to']}")
        elif got["domain"].lower() == "example.com":
            c.fail("example.com is where Juliet's account is; read the 'to' of the client's stream header")
        else:
            c.fail(f"the client's stream header does not say to='{got['domain']}'")
    if "condition" in got:
        condition = got["condition"].strip("<>/ ")
        if condition == facts["condition"]:
            c.ok(f"the server answered <failure><{condition}/></failure>")
        else:
            c.fail(f"the <failure/> does not hold <{condition}/>: read the element inside it")
    wrong = {"a": "a wrong password gets the same answer (the server does not say which), but look at the "
                  "stream header: the account the client asked for is not Juliet's",
             "c": f"the features offered {facts['mechanism']}, and the server answered it with a challenge",
             "d": "after <proceed/> both sides opened new streams: TLS worked"}
    _choice(c, got.get("why"), "b", LOGIN_CHOICES, wrong)
