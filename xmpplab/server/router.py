"""Stanza routing (RFC 6120 section 10, RFC 6121 section 8).

The router checks what a client sent (``from`` stamped, ``to`` parsed, iq
shape), names the kind of address (full, bare, self, host, or remote) and
fires hook events; features answer them. The handlers at the bottom of this
file are the defaults of RFC 6121 section 8.5 that apply when no feature
claims a stanza: deliver to a resource, to the highest-priority resources of
an account, or answer ``service-unavailable``.
"""

from __future__ import annotations

import logging
import time
from collections import deque

from ..errors import StanzaError, error_reply
from ..jid import JID, InvalidJID
from ..xml import NS_CLIENT, STANZA_KINDS, split_qname
from .events import NonzaEvent, StanzaEvent

log = logging.getLogger("xmpplab.server")

LOWEST = -1000
#: How many routing decisions the router keeps for :meth:`Server.snapshot` (the most recent ones).
RECENT_ROUTES = 50


def address_kind(to: JID, hosts, components=()) -> str:
    """``host`` (a domain we serve), ``bare``, ``full``, ``component`` (e.g. the MUC service), or ``remote``."""
    if to.domain not in hosts:
        return "component" if to.domain in components else "remote"
    if to.local is None:
        return "host"
    return "bare" if to.resource is None else "full"


class Router:
    """Routes stanzas from local clients and from the server itself."""

    def __init__(self, server):
        self.server = server
        # (t, event, where) of the latest stanzas routed, for snapshots (see recent_routes)
        self.recent: deque[tuple] = deque(maxlen=RECENT_ROUTES)
        hooks = server.hooks
        for kind in ("message", "presence", "iq"):
            for to in ("full", "bare", "self", "host"):
                handler = getattr(self, f"_{kind}_{to}", None)
                if handler is not None:
                    hooks.add(f"{kind}/{to}", handler, LOWEST)
        hooks.add("route/remote", self._remote, LOWEST)

    # from a client --------------------------------------------------------
    def from_client(self, session, el) -> None:
        """A stanza from a bound client resource (RFC 6120 section 8.1.2.1 and 10)."""
        ns, kind = split_qname(el.tag)
        if ns != NS_CLIENT or kind not in STANZA_KINDS:
            # A nonza of an extension a module serves (XEP-0352 <active/>, XEP-0198 <r/>...): ``nonza/ns:name``
            if self.server.hooks.first(f"nonza/{ns}:{kind}", NonzaEvent(self.server, session, el)):
                return None
            return session.close("unsupported-stanza-type", f"<{kind}/> is not a stanza of jabber:client")
        own = session.jid_str
        frm = el.get("from")
        if frm is not None and frm != own:
            # We stamp 'from' ourselves; a different one is a spoof: RFC 6120 4.9.3.9 <invalid-from/>.
            try:
                claimed = JID(frm)
            except InvalidJID:
                claimed = None
            if claimed is None or claimed not in (session.jid, session.jid.bare):
                return session.close("invalid-from", f"this stream is authenticated as {own}, not {frm}")
        el.set("from", own)
        stype = el.get("type")
        if kind == "iq":
            children = [c for c in el if isinstance(c.tag, str)]
            if stype not in ("get", "set", "result", "error") or not el.get("id"):
                if stype != "error":
                    session.send(error_reply(el, "bad-request", "an iq needs an id and a type of get, set, "
                                                                "result or error (RFC 6120 8.2.3)"))
                return
            if stype in ("get", "set") and len(children) != 1:
                session.send(error_reply(el, "bad-request", f"an iq of type {stype} carries exactly one "
                                                            "child element (RFC 6120 8.2.3)"))
                return
        to_s = el.get("to")
        to = None
        if to_s is not None:
            try:
                to = JID(to_s)
            except InvalidJID as exc:
                if stype != "error":
                    reply = error_reply(el, "jid-malformed", str(exc))
                    reply.set("from", session.jid.domain)  # the broken address cannot be 'from'; the server is
                    session.send(reply)
                return
            if to_s != str(to):
                el.set("to", str(to))
        event = StanzaEvent(self.server, el, kind, session.jid, to, session)
        hooks = self.server.hooks
        if to is None:
            self._note(event, "self" if kind == "iq" else "bare")
            if hooks.fire(f"pre-{kind}/bare", event):
                return
            if kind == "presence":
                return  # a presence broadcast nobody handled
            event.to = session.jid.bare
            return self._local(event, "self" if kind == "iq" else "bare")
        where = address_kind(to, self.server.hosts, self.server.components)
        self._note(event, "self" if where == "bare" and kind == "iq" and to == session.jid.bare else where)
        if where != "remote" and hooks.fire(f"pre-{kind}/{where}", event):
            return
        if where == "component":
            self._component(event)
            return
        if where == "remote":
            if hooks.fire(f"pre-{kind}/remote", event):
                return
            hooks.fire("route/remote", event)
            return
        if where == "bare" and kind == "iq" and to == session.jid.bare:
            where = "self"
        self._local(event, where)

    # from the server or a component ---------------------------------------
    def route(self, el, origin=None, remote: bool = False) -> None:
        """Route a stanza the server (or a remote domain, or a component) produced. ``remote``: it came from
        another server (s2s), and ``remote-<kind>/<where>`` hooks see it first (a handler may claim or refuse it)."""
        try:
            to = JID(el.get("to")) if el.get("to") else None
            frm = JID(el.get("from")) if el.get("from") else None
        except InvalidJID as exc:
            log.warning("dropping a stanza with a bad address: %s", exc)
            return
        if to is None:
            return
        kind = split_qname(el.tag)[1]
        event = StanzaEvent(self.server, el, kind, frm, to, origin)
        where = address_kind(to, self.server.hosts, self.server.components)
        self._note(event, where)
        if remote and self.server.hooks.fire(f"remote-{kind}/{where}", event):
            return
        if where == "remote":
            self.server.hooks.fire("route/remote", event)
        elif where == "component":
            self._component(event)
        else:
            self._local(event, where)

    def _note(self, event: StanzaEvent, where: str) -> None:
        """Keep one routing decision (RFC 6120 section 10) for the snapshot's recent routes."""
        self.recent.append((time.time(), event, where))  # read only when a snapshot is taken: cheap per stanza

    def recent_routes(self) -> list[tuple]:
        """(t, kind, type, from, to, where, origin conn id) of the latest stanzas routed, oldest first."""
        return [(t, e.kind, e.stanza.get("type"), e.stanza.get("from"), e.stanza.get("to"), where,
                 getattr(e.origin, "conn_id", None)) for t, e, where in self.recent]

    def _component(self, event: StanzaEvent) -> None:
        """Hand a stanza to the component serving its domain; its failures become stanza errors."""
        try:
            self.server.components[event.to.domain](event)
        except StanzaError as exc:
            event.error(exc.condition, exc.text, exc.type)
        except Exception:
            log.exception("the component %s failed on a stanza", event.to.domain)
            event.error("internal-server-error")

    def _local(self, event: StanzaEvent, where: str) -> None:
        hooks = self.server.hooks
        kind = event.kind
        if kind == "iq":
            stype = event.stanza.get("type")
            if stype in ("get", "set"):
                payload = event.payload
                ns, name = split_qname(payload.tag)
                if hooks.fire(f"iq-{stype}/{where}/{ns}:{name}", event):
                    return
                if where == "self" and hooks.fire(f"iq-{stype}/bare/{ns}:{name}", event):
                    return
        hooks.fire(f"{kind}/{where}", event)

    # default handlers (RFC 6121 section 8.5) --------------------------------
    def _message_full(self, event) -> bool:
        session = self.server.session_for(event.to)
        if session is not None:
            session.send(event.stanza)
            self._delivered(event, (session,))
            return True
        mtype = event.stanza.get("type") or "normal"
        if mtype == "chat":  # RFC 6121 8.5.3.2.1: a chat message may go to the account's other resources
            return self._message_bare(event)
        if mtype in ("normal", "groupchat"):  # ... the other types are ignored or answered with an error
            event.error("service-unavailable", f"{event.to} is not connected")
        return True  # headline and error: silently ignored

    def _message_bare(self, event) -> bool:
        server = self.server
        stanza = event.stanza
        mtype = stanza.get("type") or "normal"
        bare = event.to.bare
        if mtype == "error":
            return True
        if not server.user_exists(bare):
            if mtype != "headline":
                event.error("service-unavailable")
            return True
        if mtype == "groupchat":
            event.error("service-unavailable")
            return True
        candidates = [s for s in server.resources(bare) if s.available and s.priority >= 0]
        if mtype == "headline":
            for s in candidates:
                s.send(stanza)
            return True
        if candidates:
            top = max(s.priority for s in candidates)
            chosen = [s for s in candidates if s.priority == top]
            for s in chosen:
                s.send(stanza)
            self._delivered(event, chosen)
            return True
        if server.hooks.fire("message/offline", event):
            return True
        event.error("service-unavailable")
        return True

    def _delivered(self, event, sessions) -> None:
        """Tell modules which sessions a message went to (``message/delivered``: carbons copy it to the others)."""
        hooks = self.server.hooks
        if hooks.has("message/delivered"):
            event.extra["delivered"] = sessions
            hooks.fire("message/delivered", event)

    def _message_host(self, event) -> bool:
        if (event.stanza.get("type") or "normal") not in ("error", "headline", "groupchat"):
            event.error("service-unavailable")
        return True

    def _presence_full(self, event) -> bool:
        session = self.server.session_for(event.to)
        if session is not None and event.stanza.get("type") in (None, "unavailable", "error"):
            session.send(event.stanza)
        return True

    def _presence_bare(self, event) -> bool:
        if event.stanza.get("type") in (None, "unavailable"):
            for s in self.server.resources(event.to.bare):
                if s.available:
                    s.send(event.stanza)
        return True

    def _presence_host(self, event) -> bool:
        return True

    def _iq_full(self, event) -> bool:
        session = self.server.session_for(event.to)
        if session is not None:
            session.send(event.stanza)
            return True
        return self._iq_unhandled(event)

    def _iq_bare(self, event) -> bool:
        return self._iq_unhandled(event)

    _iq_self = _iq_bare
    _iq_host = _iq_bare

    def _iq_unhandled(self, event) -> bool:
        stype = event.stanza.get("type")
        if stype in ("get", "set"):
            event.error("service-unavailable")  # RFC 6120 8.4: an unknown payload namespace
        else:
            self.server.iq_response(event)
        return True

    def _remote(self, event) -> bool:
        event.error("remote-server-not-found", f"this server does not know how to reach {event.to.domain}")
        return True
