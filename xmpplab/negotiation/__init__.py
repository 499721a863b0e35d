"""XMPP stream negotiation, written once (RFC 6120 sections 4 to 7), sans-IO.

A client opens a TCP connection and both sides negotiate the stream before
any stanza flows. Read it in this order:

1. :mod:`.table`: the whole negotiation as one table of states and steps,
   each with what crosses the wire and its RFC 6120 section::

       connected --<stream:stream>--> open                      (4.2, 4.3.2: features offered)
       open --<starttls/> / <proceed/>--> tls                   (5.4.2)
       tls --handshake--> connected                             (5.4.3.3; the stream restarts, 4.3.3)
       open --<auth mechanism=...>--> sasl                      (6.4.2)
       sasl --<failure/>--> open  |  sasl --<success/>--> authenticated   (6.4.5, 6.4.6)
       authenticated --<stream:stream> again--> bind            (4.3.3: the second restart)
       bind --<iq type='set'><bind/></iq>--> ready              (7.6)

   Twice the stream restarts (section 4.3.3): after TLS and after SASL
   success both sides start a new XML document on the same connection, so
   the parser is reset (a :class:`~.actions.Restart` action).
2. :mod:`.server`: :class:`ServerNegotiator`, what the receiving entity
   answers; what depends on the server (domains, accounts, extra features,
   throttling) it asks a :class:`Policy`.
3. :mod:`.client`: :class:`ClientNegotiator`, the same path from the
   initiating entity.
4. :mod:`.s2s`: the server-to-server negotiation as its own table (STARTTLS, then the domain proved by
   SASL EXTERNAL or by Server Dialback, XEP-0220), along which both ends of an s2s stream move:
   :mod:`.s2s_receiving` (:class:`S2SReceivingNegotiator`, the server another server connected to) and
   :mod:`.s2s_initiating` (:class:`S2SInitiatingNegotiator`, the server that connected).

Neither touches a socket or asyncio: each is fed parser events (from
:class:`xmpplab.stream.StreamParser`) and returns :mod:`.actions` — text to
send, and what its owner must do (start TLS, reset the parser, hash a
password, bind a resource, close with a stream error; on s2s streams also check
a dialback key with the other domain's server, a validated pair of domains). The
xmpplab server's c2s and s2s connections, the replay fake server, :class:`xmpplab.rawclient.RawClient`,
the tests and the state-machine diagram (:mod:`xmpplab.render.statemachine`)
all use these, over any transport that delivers parser events.
"""

from .actions import (
    Authenticated,
    Bind,
    CheckKey,
    Close,
    Failed,
    GiveUp,
    Hash,
    PreAuth,
    Ready,
    Restart,
    SASLFailed,
    Send,
    Stanza,
    StartTLS,
    Validated,
    Verdict,
)
from .client import MECHANISMS, ClientNegotiator, error_condition, stream_error_text
from .s2s import S2S_TRANSITIONS, S2SState, dialback_key
from .s2s_initiating import S2SInitiatingNegotiator
from .s2s_receiving import S2SPolicy, S2SReceivingNegotiator
from .server import ENCRYPTION_REQUIRED, MAX_SASL_FAILURES, NO_TLS, Policy, ServerNegotiator, stream_header
from .table import TRANSITIONS, BadTransition, State, Transition, allows, next_state

__all__ = ["Authenticated", "BadTransition", "Bind", "CheckKey", "ClientNegotiator", "Close", "ENCRYPTION_REQUIRED",
           "Failed", "GiveUp", "Hash", "MAX_SASL_FAILURES", "MECHANISMS", "NO_TLS", "Policy", "PreAuth", "Ready",
           "Restart", "S2SInitiatingNegotiator", "S2SPolicy", "S2SReceivingNegotiator", "S2SState", "S2S_TRANSITIONS",
           "SASLFailed", "Send", "ServerNegotiator", "Stanza", "StartTLS", "State", "TRANSITIONS", "Transition",
           "Validated", "Verdict", "allows", "dialback_key", "error_condition", "next_state", "stream_error_text",
           "stream_header"]
