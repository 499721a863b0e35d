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

A handler may raise :class:`~xmpplab.errors.StanzaError`; the error goes
back to the sender. A storage fault is one (:class:`~xmpplab.server.storage.StorageFault`:
a full disk is ``resource-constraint``, RFC 6120 8.3.3), logged in one line
where it happened; any other exception is a bug, logged with its traceback
and answered with ``internal-server-error``. Other events (``session-bound``, ``presence-available``,
``session-closed``, ``account-removed``) carry other payloads.
"""

from __future__ import annotations

import bisect
import logging
from dataclasses import dataclass, field

from ..errors import StanzaError, error_reply
from ..xml import element, local_name

log = logging.getLogger("xmpplab.server")


class Hooks:
    """Named events with handlers called in priority order (higher first)."""

    def __init__(self):
        self._handlers: dict[str, list[tuple[int, int, object]]] = {}
        self._seq = 0

    def add(self, name: str, handler, priority: int = 0) -> None:
        self._seq += 1
        bisect.insort(self._handlers.setdefault(name, []), (-priority, self._seq, handler))

    def remove(self, name: str, handler) -> None:
        self._handlers[name] = [h for h in self._handlers.get(name, []) if h[2] is not handler]

    def has(self, name: str) -> bool:
        return bool(self._handlers.get(name))

    def names(self) -> list[str]:
        return sorted(n for n, h in self._handlers.items() if h)

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
