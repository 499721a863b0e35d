"""The trace detectives' recordings (chapter 14): three short sessions, each broken on purpose, played on a
fresh Lab and recorded by its server, and the facts a learner reads out of each recording.

``tools/record_sample_streams.py`` writes them into ``sample_streams/`` (so they are real recordings, made
again by running it); ``facts(name, transcript)`` reads the answers back out of a recording, so the exercises
of chapter 14 and the tests judge by what the file says, not by what we remember it says.

* ``lost-message``: Juliet sends Romeo a chat (it arrives), then a headline to a full JID with a mistyped
  resource. For a headline to a resource that is not connected, RFC 6121 §8.5.3.2.1 allows an error or
  silence; the lab server stays silent: no error, no delivery.
* ``pending-subscription``: Romeo asks to see Juliet's presence; she answers with type 'subscribe' (a
  request of her own) instead of 'subscribed' (the approval, RFC 6121 §3.1.5), so his request stays pending.
* ``failed-login``: Juliet's client opens its stream to example.net, where she has no account; SASL
  fails with not-authorized (RFC 6120 §6.5.10).
"""

from __future__ import annotations

from ..jid import JID
from ..ns import NS_ROSTER, NS_SASL
from ..transcript import Transcript
from ..xml import split_qname
from .core import same_account

ROMEO, JULIET = "romeo@example.net/orchard", "juliet@example.com/balcony"
MISTYPED = "romeo@example.net/orchad"
DESCRIPTIONS = {
    "lost-message": "broken on purpose: Juliet sends Romeo a chat that arrives, then a headline to a mistyped "
                    "full JID that never arrives",
    "pending-subscription": "broken on purpose: Romeo asks to see Juliet's presence; she answers with "
                            "type='subscribe' instead of 'subscribed', and his request stays pending",
    "failed-login": "broken on purpose: Juliet's client logs in to example.net, where she has no account, "
                    "and SASL fails",
}


async def _lost_message(lab) -> None:
    romeo = await lab.connect(ROMEO)
    juliet = await lab.connect(JULIET)
    await juliet.send_raw("<message to='romeo@example.net/orchard' id='m1' type='chat'>"
                          "<body>Art thou not Romeo, and a Montague?</body></message>")
    await romeo.next("message")
    await juliet.send_raw(f"<message to='{MISTYPED}' id='m2' type='headline'>"
                          "<body>Meet me at Friar Laurence's cell at nine.</body></message>")
    await juliet.iq("<iq type='get' id='ping1' to='example.com'><ping xmlns='urn:xmpp:ping'/></iq>")
    await romeo.iq("<iq type='get' id='ping2' to='example.net'><ping xmlns='urn:xmpp:ping'/></iq>")
    await juliet.disconnect()
    await romeo.disconnect()


async def _pending_subscription(lab) -> None:
    romeo = await lab.connect(ROMEO)
    juliet = await lab.connect(JULIET)
    await romeo.roster()
    await juliet.roster()
    await romeo.send_raw("<presence to='juliet@example.com' id='sub1' type='subscribe'/>")
    await juliet.next("presence", predicate=lambda p: p["type"] == "subscribe")
    await juliet.send_raw("<presence to='romeo@example.net' id='sub2' type='subscribe'/>")  # meant: subscribed
    await romeo.next("presence", predicate=lambda p: p["type"] == "subscribe")
    await romeo.iq("<iq type='get' id='roster-after'><query xmlns='jabber:iq:roster'/></iq>")
    await juliet.disconnect()
    await romeo.disconnect()


async def _failed_login(lab) -> None:
    from ..rawclient import LoginError, RawClient

    lab.add_account("juliet@example.com")
    client = await RawClient.connect(lab.server.address[0], lab.server.port, domain="example.net")
    try:
        await client.login("juliet@example.net/balcony", lab.password, mechanisms=("SCRAM-SHA-256",))
    except LoginError:
        pass
    else:  # pragma: no cover - the scenario is a failure
        raise AssertionError("the login to example.net should have failed")
    finally:
        await client.close()


SCENARIOS = {"lost-message": _lost_message, "pending-subscription": _pending_subscription,
             "failed-login": _failed_login}


async def record(name: str):
    """Play scenario ``name`` on a fresh Lab; return the server's recording (a Transcript)."""
    from ..lab import Lab
    from ..recording import header

    async with Lab.start(replace=False) as lab:
        await SCENARIOS[name](lab)
        events = [e for e in lab.events if not e["conn"].startswith("client-")]  # the server's side only
    transcript = Transcript(header("xmpplab server", description=DESCRIPTIONS[name]))
    transcript.extend(events)
    return transcript


# ---------------------------------------------------------------------------------- what the files say
def _conn_of(transcript, bare: str):
    return next((c for c in transcript.connections.values() if same_account(c.jid, JID(bare))), None)


def lost_message_facts(transcript) -> dict:
    """The message Juliet sent that reached no one: its id, to, type; Romeo's bound JID; errors sent back."""
    juliet = _conn_of(transcript, "juliet@example.com")
    romeo = _conn_of(transcript, "romeo@example.net")
    delivered = {item.id for item in transcript.items(kind="message", direction="S→C") if item.conn != juliet.id}
    sent = list(transcript.items(conn=juliet.id, kind="message", direction="C→S"))
    lost = [item for item in sent if item.id not in delivered]
    errors = list(transcript.items(conn=juliet.id, kind="message", direction="S→C", type="error"))
    return {"lost": [(m.id, m.to, m.type) for m in lost], "delivered": sorted(i for i in delivered if i),
            "romeo": romeo.jid, "errors": len(errors)}


def pending_subscription_facts(transcript) -> dict:
    """Juliet's answer to Romeo's request, and what Romeo's last roster result says about Juliet."""
    juliet = _conn_of(transcript, "juliet@example.com")
    romeo = _conn_of(transcript, "romeo@example.net")
    answers = [p.type for p in transcript.items(conn=juliet.id, kind="presence", direction="C→S")
               if same_account(p.to, JID("romeo@example.net"))]
    item = None
    for result in transcript.items(conn=romeo.id, kind="iq", direction="S→C", type="result",
                                   namespace=NS_ROSTER):
        for found in result.payload.iter(f"{{{NS_ROSTER}}}item"):
            if same_account(found.get("jid"), JID("juliet@example.com")):
                item = found
    return {"juliet_answered": answers, "subscription": item.get("subscription") if item is not None else None,
            "ask": item.get("ask") if item is not None else None}


def failed_login_facts(transcript) -> dict:
    """The domain the failed stream asked for, the SASL mechanism tried, the failure's condition."""
    conn = next(iter(transcript.connections.values()))
    headers = list(transcript.items(conn=conn.id, kind="stream-open", direction="C→S"))
    auth = transcript.first(conn=conn.id, namespace=NS_SASL, name="auth")
    failure = transcript.first(conn=conn.id, namespace=NS_SASL, name="failure")
    condition = None
    if failure is not None and len(failure.element):
        condition = split_qname(failure.element[0].tag)[1]
    return {"to": headers[0].attrs.get("to") if headers else None,
            "mechanism": auth.get("mechanism") if auth is not None else None, "condition": condition,
            "bound": conn.jid}


FACTS = {"lost-message": lost_message_facts, "pending-subscription": pending_subscription_facts,
         "failed-login": failed_login_facts}


def load(name: str):
    """The committed recording ``sample_streams/NAME.jsonl`` as a Transcript."""
    from .files import sample_streams

    return Transcript.load(sample_streams() / f"{name}.jsonl")


def facts(name: str, transcript=None) -> dict:
    """What recording ``name`` says (read from ``transcript``, by default the committed file)."""
    return FACTS[name](transcript if transcript is not None else load(name))
