"""Hooks: the server's extension API, in the style of Prosody's event names.

The router works out whether a stanza is addressed to a full JID, a bare JID,
the account itself ("self") or the server ("host"), and fires an event named
for it. Features hook those names; a handler that returns True has handled
the stanza. IQs of type get and set are also fired by payload, so a feature
hooks exactly what it serves::

    message/full   message/bare   message/host
    presence/full  presence/bare  presence/host
    iq/full  iq/bare  iq/self  iq/host
    iq-get/host/urn:xmpp:ping:ping          (type / to-kind / namespace:element)
    pre-presence/bare                       (a local client's stanza, before routing)
    remote-message/component                (another server's stanza, before routing)

A handler may raise :class:`~xmpplab.errors.StanzaError`; the error goes
back to the sender. A storage fault is one (:class:`~xmpplab.server.storage.StorageFault`:
a full disk is ``resource-constraint``, RFC 6120 8.3.3), logged in one line
where it happened; any other exception is a bug, logged with its traceback
and answered with ``internal-server-error``. Other events (``session-bound``, ``presence-available``,
``session-closed``, ``account-removed``) carry other payloads.

Modules also *contribute* through events, so the core names none of them
(:meth:`Hooks.collect` gathers what every handler returns):

* **Stream features** (RFC 6120 4.3.2), per stage of the negotiation:
  ``stream-features/before-tls`` (beside a required ``<starttls/>``),
  ``stream-features/before-auth`` (beside the SASL mechanisms: XEP-0077's
  ``<register/>``) and ``stream-features/after-auth`` (beside ``<bind/>``:
  RFC 6121 2.6.1 ``<ver/>``, 3.4 ``<sub/>``). A handler gets the session and
  returns elements.
* **Pre-authentication handlers**: what a stream that has not logged in may
  send, fired as ``pre-auth/iq/jabber:iq:register:query`` (an iq, by payload) or
  ``pre-auth/message``, ``pre-auth/presence``, with a :class:`PreAuthEvent`.
  Nothing handled it: the stream is closed with ``<not-authorized/>``.
* **Nonzas** after login: an element of an extension's own namespace beside the
  stanzas (XEP-0352 ``<inactive/>``) fires ``nonza/urn:xmpp:csi:0:inactive`` with a
  :class:`NonzaEvent`; nothing handled it: ``<unsupported-stanza-type/>``.
* **Service discovery** (XEP-0030 3.1, 4.1): ``disco-identities/host``,
  ``disco-features/host``, ``disco-items/host`` for the server's address and
  ``disco-identities/account``, ``disco-features/account`` for an account,
  with a :class:`DiscoQuery`; handlers return ``(category, type, name)``,
  feature vars and ``(jid, name)``. ``disco-may-see`` asks whether the asker
  may learn about an account (the roster answers).
* **Publish-subscribe** (XEP-0060): the pubsub service fires ``pubsub-iq`` with each iq's
  :class:`StanzaEvent` before serving it (a handler may refuse it) and ``pubsub-node-hidden`` with
  a :class:`DiscoQuery` naming each node its disco#items would list (True leaves it out); a class
  server keeps each student's nodes theirs this way.
"""

from __future__ import annotations

import bisect
import logging
from dataclasses import dataclass, field

from ..errors import StanzaError, error_reply
from ..xml import NS_CLIENT, element, local_name, serialize

log = logging.getLogger("xmpplab.server")


class Hooks:
    """Named events with handlers called in priority order (higher first)."""

    def __init__(self):
        self._handlers: dict[str, list[tuple[int, int, object]]] = {}
        self._seq = 0

    def add(self, name: str, handler, priority: int = 0) -> None:
        """Add a handler for the event ``name``; equal priorities run in the order they were added."""
        self._seq += 1
        bisect.insort(self._handlers.setdefault(name, []), (-priority, self._seq, handler))

    def remove(self, name: str, handler) -> None:
        """Remove a handler from the event ``name`` (nothing happens when it is not there). A bound method is the
        same handler as the one added when it is equal (``self.received`` is a new object at each access)."""
        self._handlers[name] = [h for h in self._handlers.get(name, []) if h[2] != handler]

    def has(self, name: str) -> bool:
        """Whether the event ``name`` has at least one handler."""
        return bool(self._handlers.get(name))

    def names(self) -> list[str]:
        """The names of the events that have handlers, sorted."""
        return sorted(n for n, h in self._handlers.items() if h)

    def collect(self, name: str, event) -> list:
        """Call every handler and gather what each returns (an iterable, or None for nothing)."""
        found: list = []
        for _, _, handler in self._handlers.get(name, ()):
            try:
                got = handler(event)
            except Exception:
                log.exception("hook %s failed in %r; its contribution is left out", name, handler)
                continue
            if got is not None:
                found.extend(got)
        return found

    def first(self, name: str, event) -> bool:
        """Call handlers until one returns True, as :meth:`fire`; an exception goes to the caller."""
        return any(handler(event) for _, _, handler in self._handlers.get(name, ()))

    def fire(self, name: str, event) -> bool:
        """Call handlers until one returns True; return whether one did."""
        handlers = self._handlers.get(name)
        if not handlers:
            return False
        for _, _, handler in handlers:
            try:
                if handler(event):
                    return True
            except StanzaError as exc:
                stanza = getattr(event, "stanza", None)
                if stanza is None:
                    raise
                event.error(exc.condition, exc.text, exc.type)
                return True
            except Exception:
                log.exception("hook %s failed in %r", name, handler)
                stanza = getattr(event, "stanza", None)
                if stanza is not None:
                    event.error("internal-server-error")
                    return True
        return False


@dataclass(slots=True)
class StanzaEvent:
    """A stanza on its way through the server.

    ``origin`` is the client session that sent it (None when the server or
    a remote domain generated it); ``to`` and ``from_`` are parsed JIDs.
    """

    server: object
    stanza: object
    kind: str
    from_: object
    to: object
    origin: object = None
    extra: dict = field(default_factory=dict)

    @property
    def type(self) -> str | None:
        """The stanza's ``type`` attribute, or None."""
        return self.stanza.get("type")

    @property
    def payload(self):
        """The first child element (the query of an iq)."""
        for child in self.stanza:
            if isinstance(child.tag, str):
                return child
        return None

    def reply(self, *children, **attrs):
        """Send an iq result (or a reply of the same kind) back to the sender."""
        st = self.stanza
        reply = element(local_name(st.tag), {"type": "result" if self.kind == "iq" else st.get("type"),
                                             "id": st.get("id"), "from": st.get("to") or None,
                                             "to": st.get("from")}, ns=st.tag[1:].partition("}")[0])
        for key, value in attrs.items():
            reply.set(key, value)
        for child in children:
            reply.append(child)
        self.server.send_back(reply, self)
        return reply

    def error(self, condition: str, text: str | None = None, type: str | None = None):
        """Answer with a stanza error; an error is never answered with an error (RFC 6120 8.3.1)."""
        if self.stanza.get("type") == "error":
            return None
        reply = error_reply(self.stanza, condition, text, type)
        if not self.stanza.get("to"):
            reply.set("from", str(self.to) if self.to is not None else self.server.default_domain)
        self.server.send_back(reply, self)
        return reply


# contributions -------------------------------------------------------------------
#: The stages of a client stream's negotiation at which modules offer stream features (RFC 6120 4.3.2),
#: as the negotiator (xmpplab.negotiation) asks for them.
from ..negotiation.server import AFTER_AUTH, BEFORE_AUTH, BEFORE_TLS, STAGES  # noqa: E402, F401 (re-exported)


def stream_features(hooks: Hooks, stage: str, session) -> list:
    """The ``<stream:features/>`` children the modules offer to ``session`` at ``stage``."""
    if stage not in STAGES:
        raise ValueError(f"{stage!r} is not a negotiation stage: one of {', '.join(STAGES)}")
    return hooks.collect(f"stream-features/{stage}", session)


def pre_auth_name(stanza) -> str:
    """``pre-auth/iq/<namespace>:<element>`` for an iq with a payload, else ``pre-auth/<kind>``."""
    kind = local_name(stanza.tag)
    payload = next((c for c in stanza if isinstance(c.tag, str)), None)
    if kind == "iq" and payload is not None:
        ns, _, name = payload.tag[1:].partition("}") if payload.tag[:1] == "{" else ("", "", payload.tag)
        return f"pre-auth/iq/{ns}:{name}"
    return f"pre-auth/{kind}"


@dataclass(slots=True)
class PreAuthEvent:
    """A stanza on a stream that has not logged in yet (``session.host`` is the domain it opened to)."""

    server: object
    session: object
    stanza: object

    @property
    def payload(self):
        """The first child element (the query of an iq)."""
        return next((c for c in self.stanza if isinstance(c.tag, str)), None)

    def send(self, el) -> None:
        """Write one element on the session's stream (there is no address to route to yet)."""
        self.session.write(serialize(el, NS_CLIENT))

    def reply(self, *children):
        """An iq result to the stanza, with ``children``."""
        reply = element("iq", {"type": "result", "id": self.stanza.get("id")})
        for child in children:
            reply.append(child)
        self.send(reply)
        return reply

    def error(self, condition: str, text: str | None = None, type: str | None = None):
        """A stanza error to the stanza (never to an error, RFC 6120 8.3.1)."""
        if self.stanza.get("type") == "error":
            return None
        reply = error_reply(self.stanza, condition, text, type)
        self.send(reply)
        return reply


@dataclass(slots=True)
class NonzaEvent(PreAuthEvent):
    """An element at depth 1 that is not a stanza, on a logged-in stream (``nonza/<namespace>:<element>``):
    an extension's own protocol beside the stanzas (XEP-0352 ``<active/>``, XEP-0198 ``<r/>``)."""


@dataclass(slots=True, frozen=True)
class DiscoQuery:
    """A disco#info or disco#items request (XEP-0030): about ``jid`` (a host or an account), from ``asker``."""

    server: object
    jid: object
    asker: object = None
    node: str | None = None

    @property
    def host(self) -> str:
        """The domain the query is about."""
        return self.jid.domain
