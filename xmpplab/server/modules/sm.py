"""XEP-0198 Stream Management: acknowledgements, and a session that survives a train tunnel.

After binding a resource the client turns it on (XEP-0198 §3)::

    C: <enable xmlns='urn:xmpp:sm:3' resume='true'/>
    S: <enabled xmlns='urn:xmpp:sm:3' id='5f1c2a9e' resume='true' max='300'/>

From then on each side counts the stanzas it has handled, and says so when asked
(§4): ``<r/>`` asks, ``<a h='7'/>`` answers "I have handled 7". The server keeps
what it sent until the client acknowledges it, and asks every ``REQUEST_EVERY``
stanzas.

If the connection drops without the client closing its stream (§5), the session is
kept for ``max`` seconds: it stays online, and what is sent to it waits. A new
connection that logs in as the same account may then, instead of binding a resource,
resume it; the server answers with how much it had handled, and sends again what the
client had not acknowledged::

    C: <resume xmlns='urn:xmpp:sm:3' previd='5f1c2a9e' h='3'/>
    S: <resumed xmlns='urn:xmpp:sm:3' previd='5f1c2a9e' h='7'/>
    S: (the stanzas after the client's 3rd, in order)

A session that is not resumed in time ends like any other (its presence goes
unavailable), and the messages it was never seen to receive go to offline storage
(XEP-0160), not into the void. What waits is bounded (``MAX_QUEUE``); beyond it a
sender is told ``resource-constraint``.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import secrets

from ...errors import error_reply
from ...jid import JID
from ...xml import XMLInputError, element, parse_fragment, split_qname
from ..events import AFTER_AUTH, StanzaEvent
from ..slots import Slot

log = logging.getLogger("xmpplab.server")

NS_SM = "urn:xmpp:sm:3"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
RESUME_SECONDS = 300    # how long a dropped session waits for its client (the 'max' we announce)
MAX_QUEUE = 1000        # stanzas kept unacknowledged for one session at most
REQUEST_EVERY = 5       # the server asks for an acknowledgement after this many unacknowledged stanzas

#: Per session: its stream management state, once enabled.
STATE: Slot[SMState] = Slot("sm: state")
#: Per server: the sessions that may be resumed, by their id.
RESUMABLE: Slot[dict] = Slot("sm: resumable sessions", dict)


class Unacked(collections.deque):
    """What was sent and not yet acknowledged; asks for an acknowledgement every ``REQUEST_EVERY`` (§4)."""

    def __init__(self, session):
        super().__init__()
        self.session = session

    def append(self, text) -> None:
        """Keep ``text``; after every REQUEST_EVERY-th one, ask the client with ``<r/>`` (not while detached)."""
        super().append(text)
        if len(self) % REQUEST_EVERY == 0 and not self.session.detached:
            self.session.write(f"<r xmlns='{NS_SM}'/>")


class SMState:
    """One session's stream management: its id (when resumable), what the client acknowledged, the timer."""

    def __init__(self, session, resumable: bool):
        self.id = secrets.token_urlsafe(12) if resumable else None
        self.acked = 0          # the client's last 'h': stanzas it confirmed, counted since enable
        self.timer: asyncio.TimerHandle | None = None
        session.handled = 0
        session.unacked = Unacked(session)


def setup(server):
    """Offer stream management after login (§2), and serve enable (§3), acks (§4) and resumption (§5)."""
    server.hook(f"stream-features/{AFTER_AUTH}", lambda session: [element("sm", ns=NS_SM)])
    server.hook(f"nonza/{NS_SM}:enable", enable)
    server.hook(f"nonza/{NS_SM}:r", request)
    server.hook(f"nonza/{NS_SM}:a", acknowledge)
    server.hook(f"before-bind/{NS_SM}:resume", resume)
    server.hook(f"before-bind/{NS_SM}:enable", _too_early)
    server.hook("session-detached", detach)
    server.hook("session-closed", _closed)
    server.hook("server-stopped", _stopping)


def _closed(session) -> bool:
    """A session ended for good: it can no longer be resumed."""
    state = STATE.get(session)
    if state is not None and state.id is not None and RESUMABLE.of(session.server).get(state.id) is session:
        del RESUMABLE.of(session.server)[state.id]
    return False


def _failed(session, condition: str, text: str | None = None, h: int | None = None) -> None:
    """``<failed/>`` (§3, §5) with a stanza error condition; the stream goes on."""
    attrs = f" h='{h}'" if h is not None else ""
    words = f"<text xmlns='{NS_STANZAS}'>{text}</text>" if text else ""
    session.write(f"<failed xmlns='{NS_SM}'{attrs}><{condition} xmlns='{NS_STANZAS}'/>{words}</failed>")


def enable(event) -> bool:
    """§3: turn stream management on; with resume='true', the answer carries the id to resume with."""
    session = event.session
    if STATE.get(session) is not None:
        _failed(session, "unexpected-request", "stream management is already enabled on this stream")
        return True
    wants_resume = (event.stanza.get("resume") or "").lower() in ("true", "1")
    state = STATE.put(session, SMState(session, wants_resume))
    attrs = f" id='{state.id}' resume='true' max='{max(1, round(RESUME_SECONDS))}'" if state.id else ""
    session.write(f"<enabled xmlns='{NS_SM}'{attrs}/>")
    if state.id:
        RESUMABLE.of(session.server)[state.id] = session
    return True


def _too_early(event) -> bool:
    """§3: a client enables stream management after binding a resource, not before."""
    _failed(event.session, "unexpected-request", "bind a resource first, then enable stream management")
    return True


def request(event) -> bool:
    """§4: the client asks how many of its stanzas were handled."""
    session = event.session
    if STATE.get(session) is None:
        _failed(session, "unexpected-request", "stream management is not enabled on this stream")
        return True
    session.write(f"<a xmlns='{NS_SM}' h='{session.handled % 2**32}'/>")
    return True


def acknowledge(event) -> bool:
    """§4: the client has handled ``h`` stanzas; forget those, or end the stream if it claims more than sent."""
    session = event.session
    state = STATE.get(session)
    if state is None:
        _failed(session, "unexpected-request", "stream management is not enabled on this stream")
        return True
    try:
        h = int(event.stanza.get("h", ""))
    except ValueError:
        session.close("invalid-xml", "<a/> carries h, the number of stanzas handled (XEP-0198 §4)")
        return True
    if not _forget_acked(session, state, h):
        session.close("undefined-condition", f"h='{h}' is more than the {state.acked + len(session.unacked)} "
                                             "stanzas sent (XEP-0198 §4, handled-count-too-high)")
    return True


def _forget_acked(session, state: SMState, h: int) -> bool:
    """Drop what ``h`` acknowledges (counts wrap at 2**32, §4); False when ``h`` is more than was sent."""
    newly = (h - state.acked) % 2**32
    if newly > len(session.unacked):
        return False
    for _ in range(newly):
        session.unacked.popleft()
    state.acked = h
    return True


# ---------------------------------------------------------------------------------------------- §5 resumption
def detach(session) -> bool:
    """The connection dropped without a clean close: keep the session for RESUME_SECONDS if it is resumable."""
    state = STATE.get(session)
    if state is None or state.id is None:
        return False
    session.detached = True
    session.hold = lambda stanza: _queue_full(session, stanza)
    loop = asyncio.get_running_loop()
    state.timer = loop.call_later(RESUME_SECONDS, expire, session)
    log.info("%s: connection lost; %s kept %d s for a resume (XEP-0198)", session.conn_id, session.jid,
             RESUME_SECONDS)
    return True


def _queue_full(session, stanza) -> bool:
    """While detached: keep what comes (False) until MAX_QUEUE; then refuse, telling the sender (True).
    What is kept fires ``sm-held`` with ``(session, stanza)`` (push notifications, XEP-0357, follow it)."""
    if len(session.unacked) < MAX_QUEUE:
        hooks = session.server.hooks
        if hooks.has("sm-held"):
            hooks.fire("sm-held", (session, stanza))
        return False
    kind, stype = split_qname(stanza.tag)[1], stanza.get("type")
    if (kind == "message" and stype != "error") or (kind == "iq" and stype in ("get", "set")):
        session.server.router.route(error_reply(stanza, "resource-constraint",
                                                "the recipient's connection is down; try again later", "wait"))
    return True


def expire(session) -> None:
    """Nobody resumed the session in time: end it, and keep its unacknowledged messages offline."""
    state = STATE.get(session)
    if state is not None:
        if state.timer is not None:
            state.timer.cancel()
        RESUMABLE.of(session.server).pop(state.id, None)
    session.detached = False
    session.hold = None
    waiting = list(session.unacked or ())
    session.unacked = None
    session.server.session_closed(session)  # presence unavailable to contacts, like any session that ends
    kept = sum(_keep_offline(session, text) for text in waiting)
    if waiting:
        log.info("%s: %s was not resumed; %d of %d unacknowledged stanzas kept offline", session.conn_id,
                 session.jid, kept, len(waiting))


def _keep_offline(session, text: str) -> bool:
    """One unacknowledged stanza: a message goes to offline storage (XEP-0160) for the account."""
    try:
        el = parse_fragment(text)
    except XMLInputError:
        return False
    if split_qname(el.tag)[1] != "message" or (el.get("type") or "normal") not in ("normal", "chat"):
        return False
    server, bare = session.server, session.jid.bare
    frm = el.get("from")
    event = StanzaEvent(server, el, "message", JID(frm) if frm else None, bare, extra={"held": True})
    return bool(server.hooks.fire("message/offline", event))


def _stopping(server) -> None:
    """The server stops: every session still waiting for its client ends now, its messages kept offline."""
    for session in list(RESUMABLE.of(server).values()):
        if session.detached:
            expire(session)


def resume(event) -> bool:
    """§5: a new connection, logged in as the same account, takes over a kept session."""
    new, el = event.session, event.stanza
    server = new.server
    previd = el.get("previd") or ""
    old = RESUMABLE.of(server).get(previd)
    try:
        h = int(el.get("h", ""))
    except ValueError:
        _failed(new, "bad-request", "<resume/> carries h, the number of stanzas the client handled")
        return True
    if old is None or old.jid.local != new.username or old.jid.domain != new.host:
        _failed(new, "item-not-found", "there is no session to resume with that id (it may have expired)")
        return True
    if not old.detached:  # the old connection is still up (a NAT forgot it): drop it, keep the session
        old.close(abort=True)
        if not old.detached:
            _failed(new, "item-not-found", "that session could not be taken over")
            return True
    state = STATE.get(old)
    if not _forget_acked(old, state, h):
        _failed(new, "undefined-condition", f"h='{h}' is more than the server sent")
        return True
    if state.timer is not None:
        state.timer.cancel()
        state.timer = None
    waiting = list(old.unacked)
    _take_over(old, new)
    new.write(f"<resumed xmlns='{NS_SM}' previd='{previd}' h='{new.handled % 2**32}'/>")
    new.unacked = Unacked(new)
    for text in waiting:  # §5: what the client did not acknowledge, again, in order
        new.write_stanza(text)
    server.hooks.fire("session-resumed", new)
    log.info("%s: resumed %s (from %s), %d stanzas sent again", new.conn_id, new.jid, old.conn_id, len(waiting))
    return True


def _take_over(old, new) -> None:
    """The new connection becomes the session: its JID, presence, the modules' state, the counters."""
    server = old.server
    new.jid, new.jid_str = old.jid, old.jid_str
    new.available, new.priority, new.presence = old.available, old.priority, old.presence
    new.slots = old.slots  # every module's per-session state (roster interest, carbons, ...) moves with it
    new.handled = old.handled
    new.resumed_from = old
    old.detached = False
    old.unacked = None
    old._unregistered = True  # the old connection never ends the session now: it is the new one's
    server.sessions.setdefault(old.jid.bare, {})[old.jid.resource] = new
    state = STATE.get(new)
    RESUMABLE.of(server)[state.id] = new
    new.neg.resumed(new.jid)
    if new._timer is not None:
        new._timer.cancel()
        new._timer = None
    if server.recorder is not None:
        server.record(new.conn_id, "bound", jid=str(new.jid), resumed=old.conn_id)
