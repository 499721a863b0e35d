"""Explaining the nonzas of stream management (XEP-0198 §3 to §6) and client state indication (XEP-0352 §4.2).

    <enable xmlns='urn:xmpp:sm:3' resume='true'/>            §3: count stanzas from now on, allow a resume
    <r xmlns='urn:xmpp:sm:3'/>  <a xmlns='urn:xmpp:sm:3' h='7'/>      §4: "how many?" "7 handled"
    <resume xmlns='urn:xmpp:sm:3' previd='5f1c' h='3'/>      §5: a new connection takes the old session over
    <inactive xmlns='urn:xmpp:csi:0'/>                       XEP-0352 §4.2: the app went to the background
"""

from __future__ import annotations

from ...transcript.model import Direction
from ...xml import split_qname
from .. import specs
from .facts import STREAM_MANAGEMENT, cite
from .subject import _Subject
from .words import _cap, _their

C2S, S2C = Direction.C2S, Direction.S2C

#: XEP-0198 §6: what a <failed/> condition means here.
_FAILED = {"item-not-found": "the session to resume is unknown or has expired",
           "unexpected-request": "stream management is not possible at this point (bind a resource first)",
           "feature-not-implemented": "the server does not offer this",
           "bad-request": "the request was malformed"}


def _who(s: _Subject, client_names: tuple = ("enable", "resume")) -> str:
    """Who sent a nonza: the client (by name) or the server; from the element's name when no direction is known."""
    if s.direction is None:
        return "The client" if s.name in client_names else "The server" if s.name in (
            "enabled", "resumed", "failed") else "One side"
    return _cap(s.client) if s.direction is C2S else "The server"


def stream_management(s: _Subject):
    """One XEP-0198 nonza: enable/enabled (§3), r/a (§4), resume/resumed (§5), failed (§6)."""
    name, who = s.name, _who(s)
    topic = f"SM {name}" if name in STREAM_MANAGEMENT else "stream management"
    words = STREAM_MANAGEMENT.get(name, f"sends <{name}/>")
    h = s.get("h")
    if name == "enable":
        resume = s.get("resume") in ("true", "1")
        text = f"{who} {words}" + (", and to be able to resume the session if the connection drops" if resume
                                   else " (acknowledgements only, no resumption)")
    elif name == "enabled":
        resumable = s.get("resume") in ("true", "1")
        text = f"{who} {words}"
        if resumable:
            limit = f" for up to {s.get('max')} seconds" if s.get("max") else ""
            text += (f"; the session can be resumed (its id is {s.get('id') or '?'}): if the connection drops, the "
                     f"server keeps it{limit}")
    elif name == "r":
        text = f"{who} {words}; the answer is an <a/> with the count h"
    elif name == "a":
        what = ("received from the server" if s.direction is C2S else
                "received from the client" if s.direction is S2C else "received")
        text = (f"{who} {words}: h={h or '?'}, it has handled {h or '?'} stanzas {what} since stream management "
                "was enabled, so the sender may forget those")
    elif name == "resume":
        text = (f"{who} {words}: the session {s.get('previd') or '?'}, having handled {h or '?'} stanzas from "
                "the server; the server will send again what came after those")
    elif name == "resumed":
        text = (f"{who} {words} (session {s.get('previd') or '?'}): the server had handled {h or '?'} of the "
                "client's stanzas, so the client sends again what came after them, and the server sends again "
                "what the client had not acknowledged")
    elif name == "failed":
        cond = next((split_qname(c.tag)[1] for c in s.children()), None)
        why = f": {cond}, {_FAILED.get(cond, 'see the condition')}" if cond else ""
        text = f"{who} {words}{why}. Without a resumed session, the client binds a resource and starts a new one"
        cites = cite(topic)
        if cond in specs.STANZA_ERRORS:
            cites.append(specs.stanza_error(cond))
        return text + ".", cites, f"stream management {name}", (), "stream management"
    else:
        text = f"{who} {words}"
    old = getattr(s.conn, "resumed_from", None)
    if old and name in ("resume", "resumed"):
        text += f". This connection takes over the session of {old}, which was lost without closing its stream"
    return text + ".", cite(topic), f"stream management {name}", (), "stream management"


def client_state(s: _Subject):
    """A XEP-0352 nonza: ``<inactive/>`` or ``<active/>`` (§4.2), which the server never answers."""
    who = _cap(s.client) if s.direction is C2S else "The client"
    if s.name == "inactive":
        text = (f"{who} tells the server that {_their(s.client) if s.direction is C2S else 'its'} app is in the "
                "background (client state indication, inactive): the server may hold back what is not urgent "
                "(this server holds presence updates, never messages) until the client is active again. No reply "
                "comes.")
    elif s.name == "active":
        text = (f"{who} tells the server it is in use again (client state indication, active): the server sends "
                "what it held back. No reply comes.")
    else:
        text = f"{who} sends <{s.name}/> in the client state indication namespace."
    return text, cite("CSI"), f"client state {s.name}", (), None
