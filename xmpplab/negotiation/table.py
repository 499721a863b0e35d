"""The client-to-server negotiation as one table (RFC 6120 sections 4 to 7).

Each row of :data:`TRANSITIONS` is one step: the state it leaves, the event
that moves it (a short name: the element that arrives or the answer that is
sent), the state it reaches, what crosses the wire, and the RFC 6120 section
that says so. The server's negotiator (:mod:`.server`) moves only along these
rows, the client's (:mod:`.client`) walks the same path from the other side,
and :mod:`xmpplab.render.statemachine` draws them.

>>> next_state(State.OPEN, "starttls")
<State.TLS: 'tls'>
>>> [t.event for t in TRANSITIONS if t.source is State.SASL]
['failure', 'success']
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class State(enum.Enum):
    """Where a client connection is in its negotiation (RFC 6120 section 4.3)."""

    CONNECTED = "connected"          # TCP (or TLS) up, waiting for the stream header
    OPEN = "open"                    # stream open, features offered: STARTTLS, SASL
    TLS = "tls"                      # TLS handshake under way
    SASL = "sasl"                    # SASL exchange under way
    AUTHENTICATED = "authenticated"  # SASL done, waiting for the restarted stream header
    BIND = "bind"                    # features offered: resource binding
    READY = "ready"                  # resource bound: stanzas flow
    CLOSED = "closed"


@dataclass(frozen=True)
class Transition:
    """One row of the table. Unpacks as ``(source, trigger, target)``, the shape the diagram draws."""

    source: State
    event: str          # what moves it: the name the negotiators use
    target: State
    trigger: str        # the same in words, as the diagram labels the arrow
    client_sends: str   # what the client puts on the wire for this step ("" for nothing)
    server_sends: str   # what the server puts on the wire for this step
    section: str        # where RFC 6120 says so

    def __iter__(self):
        return iter((self.source, self.trigger, self.target))


#: The negotiation state machine as data: every state change either negotiator makes is one of these rows.
TRANSITIONS = (
    Transition(State.CONNECTED, "header", State.OPEN, "client sends <stream:stream>",
               "<stream:stream to='example.com' version='1.0'>",
               "<stream:stream from='example.com' id='…'> <stream:features>…", "4.2, 4.3.2"),
    Transition(State.OPEN, "starttls", State.TLS, "client sends <starttls/>, server answers <proceed/>",
               "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>",
               "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", "5.4.2"),
    Transition(State.TLS, "tls-done", State.CONNECTED, "TLS handshake completes; the stream restarts",
               "(TLS handshake)", "(TLS handshake)", "5.4.3.3, 4.3.3"),
    Transition(State.OPEN, "auth", State.SASL, "client sends <auth mechanism=...>",
               "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-256'>…</auth>",
               "<challenge>…</challenge>", "6.4.2"),
    Transition(State.SASL, "failure", State.OPEN, "server sends <failure/>",
               "", "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>", "6.4.5"),
    Transition(State.SASL, "success", State.AUTHENTICATED, "server sends <success/>",
               "", "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>…</success>", "6.4.6, 4.3.3"),
    Transition(State.AUTHENTICATED, "header", State.BIND, "client sends <stream:stream> again",
               "<stream:stream to='example.com' version='1.0'>",
               "<stream:stream …> <stream:features><bind/>…", "6.4.6, 7.2"),
    Transition(State.BIND, "bind", State.READY, "client binds a resource: <iq type='set'><bind/></iq>",
               "<iq type='set'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>…</resource></bind></iq>",
               "<iq type='result'><bind><jid>juliet@example.com/balcony</jid></bind></iq>", "7.6"),
    Transition(State.BIND, "resume", State.READY, "client resumes an earlier session: <resume/> (XEP-0198)",
               "<resume xmlns='urn:xmpp:sm:3' h='…' previd='…'/>", "<resumed xmlns='urn:xmpp:sm:3' h='…'/>",
               "XEP-0198 5"),
    Transition(State.READY, "close", State.CLOSED, "either side sends </stream:stream> or an error",
               "</stream:stream>", "</stream:stream>", "4.4, 4.9"),
)

_NEXT = {(t.source, t.event): t.target for t in TRANSITIONS}


class BadTransition(Exception):
    """A negotiator tried a step the table does not have (a bug, not the peer's fault)."""


def next_state(state: State, event: str) -> State:
    """The state ``event`` leads to from ``state``, by the table; a step it lacks raises :class:`BadTransition`."""
    try:
        return _NEXT[(state, event)]
    except KeyError:
        raise BadTransition(f"the negotiation table has no step {event!r} from {state.value}") from None


def allows(state: State, event: str) -> bool:
    """Whether the table has a step ``event`` out of ``state``."""
    return (state, event) in _NEXT
