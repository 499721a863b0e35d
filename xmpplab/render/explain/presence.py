"""Explaining presence (RFC 6121 §3, §4): availability, show/status/priority, subscriptions, probes, and
multi-user chat presence (XEP-0045)."""

from __future__ import annotations

from ...ns import NS_MUC, NS_MUC_USER
from ...transcript.model import Direction
from .facts import MUC_STATUS, SHOW, cite
from .pep import avatar_detail, caps_detail
from .subject import _s2s_prefix, _sender, _Subject
from .words import _cap, _domain, _local, _name, _quote, _their, _they

C2S, S2C = Direction.C2S, Direction.S2C


def _muc_presence(s: _Subject):
    """XEP-0045 presence: joining a room, or the room telling who is in it."""
    join = s.element.find(f"{{{NS_MUC}}}x")
    user = s.element.find(f"{{{NS_MUC_USER}}}x")
    frm, to = s.get("from") or "", s.get("to") or ""
    if join is not None and user is None:
        room, _, nick = to.partition("/")
        if s.get("type") == "unavailable":
            return None
        return ((f"{_cap(_sender(s))} enters the room {room} with the nickname {nick!r}: presence to room/nick, "
                 "with an <x/> in the MUC namespace."), cite("MUC join"), "MUC join")
    if user is None:
        return None
    room, _, nick = frm.partition("/")
    item = user.find(f"{{{NS_MUC_USER}}}item")
    codes = [c.get("code") for c in user.findall(f"{{{NS_MUC_USER}}}status")]
    role = item.get("role") if item is not None else None
    affiliation = item.get("affiliation") if item is not None else None
    gone = s.get("type") == "unavailable"
    text = (f"The room {room} tells {s.client} that {nick!r} " + ("has left" if gone else "is in the room")
            + (f" (role {role}, affiliation {affiliation})" if role or affiliation else "") + ".")
    meanings = [f"{c}: {MUC_STATUS[c]}" for c in codes if c in MUC_STATUS]
    if meanings:
        text += " Status " + "; ".join(meanings) + "."
    return text, cite("MUC occupant presence"), "MUC occupant presence"


def _presence(s: _Subject):
    muc = _muc_presence(s)
    if muc is not None:
        return muc
    ptype = s.get("type")
    sender, to = _sender(s), s.get("to")
    ns = s.ns
    show = s.element.findtext(f"{{{ns}}}show")
    status = s.element.findtext(f"{{{ns}}}status")
    priority = s.element.findtext(f"{{{ns}}}priority")
    details, cites = [], []
    if show:
        details.append(f"show '{show.strip()}' ({SHOW.get(show.strip(), 'an unknown value')})")
        cites += cite("show")
    if status:
        details.append(f"status {_quote(status, 50)}")
        cites += cite("status")
    if priority:
        p = priority.strip()
        extra = ("; negative: this session never gets messages sent to the bare JID"
                 if p.startswith("-") else "")
        details.append(f"priority {p}{extra}")
        cites += cite("priority")
    caps = caps_detail(s.element) if ptype is None else None  # XEP-0115 <c/>
    if caps is not None:
        details.append(caps[0])
        cites += caps[1]
    avatar = avatar_detail(s.element) if ptype is None else None
    if avatar is not None:
        details.append(avatar[0])
        cites += avatar[1]
    detail = f" ({'; '.join(details)})" if details else ""
    prefix = _s2s_prefix(s)
    outbound = s.direction is not S2C
    me = s.client
    if ptype in ("subscribe", "subscribed", "unsubscribe", "unsubscribed"):
        other = _name(to, "the contact") if outbound else sender
        if outbound:
            text = {
                "subscribe": f"{_cap(sender)} asks to see {other}'s presence: a subscription request. {other} "
                             "may approve (subscribed) or refuse (unsubscribed).",
                "subscribed": f"{_cap(sender)} approves {other}'s request: {other} will now see {sender}'s "
                              "presence.",
                "unsubscribe": f"{_cap(sender)} stops watching {other}'s presence (unsubscribes).",
                "unsubscribed": f"{_cap(sender)} refuses or cancels {other}'s subscription: {other} no longer "
                                f"sees {sender}'s presence.",
            }[ptype]
        else:
            text = {
                "subscribe": f"{_cap(other)} asks to see {me}'s presence; {me} may approve (subscribed) or "
                             "refuse (unsubscribed).",
                "subscribed": f"{_cap(other)} approved: {me} now receives {other}'s presence.",
                "unsubscribe": f"{_cap(other)} no longer wants {me}'s presence.",
                "unsubscribed": f"{_cap(other)} cancelled or refused {me}'s subscription to {_their(other)} "
                                "presence.",
            }[ptype]
        return prefix + text, cite(f"presence {ptype}") + cites, f"presence {ptype}"
    if ptype == "probe":
        return ((f"{prefix}{_cap(sender)}'s server asks for {_name(to, 'the contact')}'s current presence (a presence "
                "probe, sent by servers on a user's behalf)."), cite("presence probe"), "presence probe")
    if ptype == "unavailable":
        if outbound and not to:
            text = (f"{_cap(sender)} goes offline (unavailable presence){detail}; the server tells {_their(sender)} "
                    "contacts.")
            return prefix + text, cite("unavailable presence") + cites, "unavailable presence"
        if outbound:
            return ((f"{prefix}{_cap(sender)} tells {_name(to, 'someone')} directly that {_their(sender)} session "
                    f"ends (directed unavailable presence){detail}."), cite("directed unavailable presence") + cites,
                    "directed unavailable presence")
        return _inbound_unavailable(s, sender, detail, cites)
    if ptype is not None:
        return (f"A presence of type '{ptype}', which RFC 6121 does not define.", cite("presence"),
                f"presence {ptype}")
    # available
    if outbound and to:
        muc = s.child(NS_MUC)
        if muc is not None:
            room, _, nick = to.partition("/")
            return ((f"{_cap(sender)} joins the room {room} as '{nick}' (presence to the room with the "
                    f"multi-user chat element){detail}."), cite("joining a room") + cites, "joining a room")
        return ((f"{prefix}{_cap(sender)} sends presence straight to {_name(to, 'someone')} (directed presence), "
                f"outside {_their(sender)} subscriptions{detail}."), cite("directed presence") + cites,
                "directed presence")
    if outbound:
        first = s.facts is None or s.item is None or s.facts.first_presence in (None, s.item.index)
        if first:
            text = (f"{_cap(sender)} tells {_their(sender)} server {_they(sender)} "
                    f"{'are' if _they(sender) == 'they' else 'is'} available{detail}: this initial "
                    f"presence goes to every contact subscribed to {_their(sender)} presence, and the server "
                    "probes the contacts for theirs.")
            return text, cite("initial presence") + cites, "initial presence"
        return ((f"{_cap(sender)} updates {_their(sender)} presence{detail}; the server broadcasts it to "
                f"{_their(sender)} subscribers."), cite("presence update") + cites, "presence update")
    if s.get("from") and _local(s.get("from")) == _local(s.client_jid) and \
            _domain(s.get("from")) == _domain(s.client_jid):
        return ((f"The server sends {me}'s own presence back to {_their(me)} session{detail}: a user is "
                "subscribed to their own presence, so every session learns about the others."),
                cite("own presence") + cites, "own presence")
    return ((f"{_cap(sender)} is available{detail}: presence from {_domain(s.get('from')) and s.get('from') or sender}"
            f" reaches {me}."), cite("presence") + cites, "presence")


def _inbound_unavailable(s: _Subject, sender: str, detail: str, cites: list):
    """An unavailable presence that reaches the client, explained from what came before it on the stream."""
    frm = s.get("from") or ""
    bare = frm.split("/", 1)[0]
    index = s.item.index if s.item is not None else None
    facts = s.facts
    client = s.client
    if facts is not None and index is not None and facts.last_sent_to(index, bare) == "unsubscribe":
        return ((f"{_cap(sender)}'s server tells {client} that {sender} is unavailable{detail}: {client} "
                 f"unsubscribed from {_their(sender)} presence, so {client}'s client must stop showing {sender} as "
                 "online; no more of that presence will come."),
                cite("unavailable after unsubscribe") + cites, "unavailable presence")
    if "/" not in frm and facts is not None and index is not None and facts.acknowledges_subscribe(index, bare):
        return ((f"{_cap(sender)}'s server acknowledges {client}'s subscription request with an unavailable "
                 f"presence from {_their(sender)} bare JID{detail}. It says nothing about whether {sender} is "
                 "online (some servers, Prosody and this one, send it; RFC 6121 neither asks for it nor forbids it): "
                 f"{_their(sender)} presence comes once the request is approved."),
                cite("presence subscribe") + cites, "unavailable presence")
    if "/" not in frm and facts is not None and facts.first_presence is not None and index is not None \
            and index > facts.first_presence:
        return ((f"{_cap(sender)} has no session online{detail}: this is the answer to the presence probe "
                 f"{client}'s server sent when {client} came online (initial presence)."),
                cite("probe answered unavailable") + cites, "unavailable presence")
    if "/" in frm:
        return ((f"{_cap(sender)}'s session {frm.split('/', 1)[1]!r} ends or goes offline (unavailable "
                 f"presence){detail}."), cite("unavailable presence") + cites, "unavailable presence")
    return ((f"{_cap(sender)} is not available (unavailable presence from the bare JID){detail}: no session of "
             f"{_their(sender)} account is online."), cite("unavailable presence") + cites, "unavailable presence")
