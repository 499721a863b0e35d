"""Explaining iqs (RFC 6120 §8.2.3): binding, the old session, ping, version, registration, any XEP's
namespace, and answers without a payload (the roster is in :mod:`.roster`, service discovery in :mod:`.disco`,
publish-subscribe in :mod:`.pubsub`, personal eventing in :mod:`.pep`, blocking, vCards and carbons in
:mod:`.account`, the archive in :mod:`.archive`, file upload in :mod:`.upload`)."""

from __future__ import annotations

from ...ns import NS_BIND, NS_DISCO_INFO, NS_DISCO_ITEMS, NS_PING, NS_REGISTER, NS_ROSTER, NS_SESSION, NS_VERSION
from ...transcript.model import Direction
from ...xml import split_qname
from .. import specs
from .account import account_iq
from .archive import archive_iq, is_archive
from .disco import _disco
from .facts import cite
from .pep import is_pep_address, pep_iq
from .pubsub import is_pubsub, pubsub_iq
from .roster import _roster
from .subject import _sender, _Subject
from .upload import NS_UPLOAD, upload_iq
from .words import _cap, _domain, _local, _name, _their

C2S, S2C = Direction.C2S, Direction.S2C


def _iq(s: _Subject):
    itype = s.get("type") or "?"
    payload = s.children()[0] if s.children() else None
    pns, pname = split_qname(payload.tag) if payload is not None else (None, None)
    sender, me = _sender(s), s.client
    to = s.get("to")
    target = _name(to, f"{_their(sender)} server") if s.direction is not S2C else _name(to, me)
    if s.direction is not S2C and to and _domain(to) and not _local(to) and _domain(to) == _domain(s.client_jid):
        target = f"{_their(sender)} server"
    iq_words = f"an iq of type {itype} in the {pns} namespace" if pns else f"an iq of type {itype}"
    # answers without a payload: say what they answer
    if payload is None:
        req = s.facts.request_of.get(s.item.index) if (s.facts and s.item) else None
        if itype == "result" and req is not None:
            rns = req.payload_ns
            if rns == NS_PING:
                return (f"{_cap(sender)} answers the ping: an empty result (a 'pong'): the connection works.",
                        cite("pong"), "pong")
            if rns == NS_ROSTER:
                if req.type == "set" and req.direction is not S2C:
                    return (f"The server accepts {me}'s roster set with an empty result; it then pushes the change "
                            "to every session that asked for the roster.", cite("roster set accepted"),
                            "roster set accepted")
                if req.type == "set":
                    return (f"{_cap(sender)} acknowledges the roster push with an empty result.",
                            cite("roster push acknowledged"), "roster push acknowledged")
                return ((f"The server answers {me}'s roster get with an empty result: with roster versioning, nothing "
                         "changed since the version the client has."), cite("roster unchanged"), "roster unchanged")
            if rns == NS_SESSION:
                return ("The server confirms the session.", cite("session established"), "session established", (),
                        "session")
            return (f"{_cap(sender)} answers the {req.type} request {req.id!r} with an empty result: it worked.",
                    cite("empty result"), "empty result")
        if itype == "result":
            return (("An empty iq result: the request with this id succeeded (every get or set gets exactly one "
                    "result or error)."), cite("empty result"), "empty result")
        return (f"An iq of type {itype} without a payload.", cite("iq"), f"iq {itype}")
    if pns == NS_BIND:
        if itype == "set":
            resource = payload.findtext(f"{{{NS_BIND}}}resource")
            if resource:
                return ((f"{_cap(me)} asks to bind the resource {resource!r}: {_their(me)} session's name, the part "
                        "after the '/' of the full JID."), cite("resource binding (client picks)"), "resource binding",
                        (), "resource binding")
            return ((f"{_cap(me)} asks the server to pick a resource for this session (the part after the '/' of "
                    "the full JID)."), cite("resource binding (server picks)"), "resource binding", (),
                    "resource binding")
        jid = payload.findtext(f"{{{NS_BIND}}}jid")
        return (f"The server binds the session: {_name(jid, me)}'s full JID is {jid or '?'}; stanzas can flow now.",
                cite("resource bound"), "resource bound", (), "resource binding")
    if pns == NS_SESSION:
        return ((f"{_cap(me)} asks to establish a session, a step from RFC 3921 that RFC 6121 removed; servers still "
                "accept it for older clients."), cite("session"), "session", (), "session")
    if pns == NS_ROSTER:
        return _roster(s, itype, payload, sender, me)
    if pns in (NS_DISCO_INFO, NS_DISCO_ITEMS):
        return _disco(pns == NS_DISCO_INFO, itype, payload, sender, target, iq_words)
    if pns == NS_PING:
        if s.direction is S2C and not _local(s.get("from")):
            topic = "ping from the server"
        elif s.direction is C2S and not _local(to):
            topic = "ping to the server"
        else:
            topic = "ping"
        return ((f"{_cap(sender)} pings {target}: is the other side still there? The answer is an empty result "
                "(or an error if pings are not supported)."), cite(topic, "iq"), "ping")
    if pns == NS_VERSION:
        if itype == "get":
            return (f"{_cap(sender)} asks {target} which software it runs.", cite("software version"),
                    "software version")
        name = payload.findtext(f"{{{NS_VERSION}}}name")
        version = payload.findtext(f"{{{NS_VERSION}}}version")
        os_ = payload.findtext(f"{{{NS_VERSION}}}os")
        return (f"{_cap(sender)} runs {name or '?'} {version or ''}{f' on {os_}' if os_ else ''}.".replace(" .", "."),
                cite("software version result"), "software version result")
    if pns == NS_REGISTER:
        if payload.find(f"{{{NS_REGISTER}}}remove") is not None:
            return (f"{_cap(sender)} asks to delete {_their(sender)} account (in-band registration).",
                    cite("account removal"), "account removal")
        if itype == "get":
            return (f"{_cap(sender)} asks which fields registering an account needs (in-band registration).",
                    cite("registration form"), "registration form")
        if itype == "set":
            user = payload.findtext(f"{{{NS_REGISTER}}}username")
            return (f"{_cap(sender)} registers{f' the account {user!r}' if user else ''} (in-band registration).",
                    cite("registration"), "registration")
        return (f"{_cap(sender)} sends the registration form: the fields to fill in.", cite("registration form"),
                "registration form")
    if is_pubsub(pns):
        found = pep_iq(itype, payload, sender, to) if is_pep_address(to) else None  # XEP-0163: an account's own
        found = found or pubsub_iq(itype, payload, sender, target)
        if found is not None:
            return found
    if pns == NS_UPLOAD:
        found = upload_iq(itype, payload, sender, target)
        if found is not None:
            return found
    found = archive_iq(itype, payload, sender, to, s.get("from")) if is_archive(pns) else \
        account_iq(s, itype, payload, sender)
    if found is not None:
        return found
    known = specs.namespace_xep(pns)
    if known:
        verb = {"get": "asks", "set": "sets", "result": "answers"}.get(itype, itype)
        return (f"{_cap(sender)} {verb} {'' if itype == 'result' else target + ' '}about {known[1]}: {iq_words}.",
                [known[0], *cite("iq")], known[1])
    if itype in ("get", "set"):
        return ((f"{_cap(sender)} sends {target} {iq_words}. The receiver must answer with exactly one result or "
                "error: service-unavailable if nobody handles this namespace."),
                [*cite("iq"), specs.stanza_error("service-unavailable")], f"iq {itype} ({pname})")
    return (f"{_cap(sender)} answers with {iq_words}.", cite("iq"), f"iq {itype}")
