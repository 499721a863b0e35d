"""The one table of protocol facts the explainers use: where each thing is defined, and what it means in a few words.

Section numbers and titles come from :mod:`xmpplab.render.specs` (checked
against the documents' tables of contents); this module says which sections
an explanation of each *topic* cites, most relevant first, and holds the short
texts for the values a protocol defines (show values, message types, MUC
status codes, SASL mechanisms...). An explainer names a topic
(``cite("roster get")``) instead of writing section numbers in its code.
"""

from __future__ import annotations

from ...ns import NS_BIND, NS_CSI, NS_PREAPPROVAL, NS_ROSTERVER, NS_SESSION, NS_SM, NS_TLS
from ...presence_values import SHOW_MEANINGS
from ..specs import RFC3921_SESSION, Citation, rfc6120, rfc6121, xep

#: topic -> the sections an explanation of it cites, most relevant first, as they are shown.
_SECTIONS = {
    # streams (RFC 6120 §4)
    "stream header": "RFC 6120 §4.2, RFC 6120 §4.7",
    "stream header (restart)": "RFC 6120 §4.3.3, RFC 6120 §4.2",
    "stream restart": "RFC 6120 §4.3.3",
    "stream close": "RFC 6120 §4.4",
    "stream error": "RFC 6120 §4.9",
    "not XML": "RFC 6120 §5",
    "restricted XML": "RFC 6120 §11.1",
    "stream features": "RFC 6120 §4.3.2",
    "stream features (none left)": "RFC 6120 §4.3.5, RFC 6120 §4.3.2",
    "SASL mechanisms": "RFC 6120 §6.4.1",
    # STARTTLS (RFC 6120 §5)
    "STARTTLS": "RFC 6120 §5.4.2.1, RFC 6120 §5",
    "TLS proceed": "RFC 6120 §5.4.2.3, RFC 6120 §5.4.3.3",
    "TLS failure": "RFC 6120 §5.4.2.2",
    "TLS other": "RFC 6120 §5",
    # SASL (RFC 6120 §6)
    "SASL auth": "RFC 6120 §6.4.2, RFC 6120 §6",
    "SASL challenge": "RFC 6120 §6.4.3",
    "SASL response": "RFC 6120 §6.4.3",
    "SASL success": "RFC 6120 §6.4.6",
    "SASL abort": "RFC 6120 §6.4.4",
    "SASL failure": "RFC 6120 §6.4.5",
    "SASL other": "RFC 6120 §6",
    "SASL2": "XEP-0388",
    "stream management": "XEP-0198",
    "SM enable": "XEP-0198 §3",
    "SM enabled": "XEP-0198 §3",
    "SM r": "XEP-0198 §4",
    "SM a": "XEP-0198 §4",
    "SM resume": "XEP-0198 §5",
    "SM resumed": "XEP-0198 §5",
    "SM failed": "XEP-0198 §6, XEP-0198 §5",
    "CSI": "XEP-0352 §4.2, XEP-0352 §5",
    "nonza": "XEP-0360",
    # server to server
    "dialback": "XEP-0220",
    # resource binding (RFC 6120 §7) and the old session (RFC 3921)
    "resource binding (client picks)": "RFC 6120 §7, RFC 6120 §7.7",
    "resource binding (server picks)": "RFC 6120 §7, RFC 6120 §7.6",
    "resource bound": "RFC 6120 §7",
    "session": "RFC 3921 §3",
    "session established": "RFC 3921 §3",
    # iq (RFC 6120 §8.2.3) and the XEPs answered with an iq
    "iq": "RFC 6120 §8.2.3",
    "empty result": "RFC 6120 §8.2.3",
    "pong": "XEP-0199, RFC 6120 §8.2.3",
    "ping": "XEP-0199",
    "ping from the server": "XEP-0199 §4.1",
    "ping to the server": "XEP-0199 §4.2",
    "disco#info": "XEP-0030 §3",
    "disco#items": "XEP-0030 §4",
    "software version": "XEP-0092",
    "software version result": "XEP-0092",
    "account removal": "XEP-0077",
    "registration": "XEP-0077 §3.1",
    "registration form": "XEP-0077 §3.1",
    # roster (RFC 6121 §2)
    "roster": "RFC 6121 §2",
    "roster get": "RFC 6121 §2.1.3, RFC 6121 §2.2",
    "roster versioning": "RFC 6121 §2.6",
    "roster result": "RFC 6121 §2.1.4",
    "roster set": "RFC 6121 §2.1.5, RFC 6121 §2.3",
    "roster set accepted": "RFC 6121 §2.1.5",
    "roster push": "RFC 6121 §2.1.6",
    "roster push acknowledged": "RFC 6121 §2.1.6",
    "roster remove": "RFC 6121 §2.5, RFC 6121 §2.1.5",
    "roster unchanged": "RFC 6121 §2.6",   # the empty result to a get with a current ver (2.6.3, not in specs)
    # presence (RFC 6121 §3, §4)
    "presence": "RFC 6121 §4",
    "initial presence": "RFC 6121 §4.2",
    "own presence": "RFC 6121 §4.2.2",
    "presence probe": "RFC 6121 §4.3",
    "probe answered unavailable": "RFC 6121 §4.3.2, RFC 6121 §4.3",
    "unavailable after unsubscribe": "RFC 6121 §3.3.3, RFC 6121 §3.3",
    "presence update": "RFC 6121 §4.4",
    "unavailable presence": "RFC 6121 §4.5",
    "directed presence": "RFC 6121 §4.6",
    "directed unavailable presence": "RFC 6121 §4.6, RFC 6121 §4.5",
    "show": "RFC 6121 §4.7.2.1",
    "status": "RFC 6121 §4.7.2.2",
    "priority": "RFC 6121 §4.7.2.3",
    "presence subscribe": "RFC 6121 §3.1",
    "presence subscribed": "RFC 6121 §3.1",
    "presence unsubscribe": "RFC 6121 §3.3",
    "presence unsubscribed": "RFC 6121 §3.2",
    # messages (RFC 6121 §5, §8.5) and what they carry
    "message": "RFC 6121 §5.2.2",
    "chat message": "RFC 6121 §5.1",
    "message to a bare JID": "RFC 6121 §8.5.2.1.1, RFC 6121 §5.2.2",
    "message to a full JID": "RFC 6121 §8.5.3, RFC 6121 §5.2.2",
    "groupchat message": "RFC 6121 §5.2.2, XEP-0045",
    "chat state": "XEP-0085",
    "receipt": "XEP-0184",
    "delay": "XEP-0203 §2, XEP-0160",
    "carbon": "XEP-0280",
    "carbon received": "XEP-0280 §7",
    "carbon sent": "XEP-0280 §8",
    "carbons enable": "XEP-0280 §4",
    "carbons disable": "XEP-0280 §5",
    "carbon private": "XEP-0280 §9",
    # blocking (XEP-0191)
    "blocklist get": "XEP-0191 §3.2",
    "blocklist": "XEP-0191 §3.2",
    "block": "XEP-0191 §3.3, XEP-0191 §6",
    "unblock": "XEP-0191 §3.4",
    "unblock all": "XEP-0191 §3.5",
    "blocked error": "XEP-0191 §3.3",
    # vCard (XEP-0054)
    "own vCard": "XEP-0054 §3.1",
    "vCard update": "XEP-0054 §3.2",
    "another's vCard": "XEP-0054 §3.3",
    # push notifications (XEP-0357)
    "push enable": "XEP-0357 §5",
    "push disable": "XEP-0357 §6",
    # private XML storage (XEP-0049)
    "private storage": "XEP-0049 §2.2, XEP-0049 §2.3",
    "another's private storage": "XEP-0049 §3",
    # the archive (XEP-0313) and result set management (XEP-0059)
    "archive query": "XEP-0313 §4, XEP-0313 §4.1",
    "archive result": "XEP-0313 §4.2",
    "archive fin": "XEP-0313 §4.2, XEP-0313 §4.3",
    "stanza id": "XEP-0313 §3.5, XEP-0359 §2.1",
    "room archive": "XEP-0313 §3.3.2, XEP-0313 §6.1.2",
    "room archive result": "XEP-0313 §6.1.2",
    "origin id": "XEP-0359 §2.2",
    "RSM limit": "XEP-0059 §2.1",
    "RSM after": "XEP-0059 §2.2",
    "RSM before": "XEP-0059 §2.3",
    "RSM last page": "XEP-0059 §2.5",
    "RSM page": "XEP-0059 §2.2, XEP-0059 §2.7",
    # multi-user chat
    "MUC": "XEP-0045",
    "MUC join": "XEP-0045",
    "MUC occupant presence": "XEP-0045",
    "joining a room": "XEP-0045, RFC 6121 §4.6",
    # stanza errors (RFC 6120 §8.3)
    "stanza error": "RFC 6120 §8.3.2, RFC 6120 §8.3",
}


def _citation(label: str) -> Citation:
    """``RFC 6121 §2.1.3`` or ``XEP-0199 §4.1`` or ``XEP-0045`` as a :class:`Citation` (checked against specs)."""
    spec, _, section = label.partition(" §")
    if spec.startswith("XEP-"):
        return xep(int(spec[4:]), section or None)
    if label == RFC3921_SESSION.label:
        return RFC3921_SESSION
    return {"RFC 6120": rfc6120, "RFC 6121": rfc6121}[spec](section)


SECTIONS: dict[str, tuple[Citation, ...]] = {
    topic: tuple(_citation(label) for label in labels.split(", ")) for topic, labels in _SECTIONS.items()}


def cite(*topics: str) -> list[Citation]:
    """The sections of one or more topics, in order, each once (a new list the caller may extend)."""
    out: list[Citation] = []
    for topic in topics:
        out += [c for c in SECTIONS[topic] if c not in out]
    return out


#: What a restart follows (RFC 6120 §4.3.3): the words and the section of that step.
RESTART_WORDS = {"tls": "Over the new TLS layer", "sasl": "Now authenticated", "compression": "Now compressed"}
RESTART_SECTION = {"tls": rfc6120("5.4.3.3"), "sasl": rfc6120("6.4.6")}

#: Stream features a server offers (RFC 6120 §4.3.2): (namespace, element) -> (words, section).
STREAM_FEATURES = {
    (NS_TLS, "starttls"): ("STARTTLS (encrypt the connection)", rfc6120("5.4.1")),
    (NS_BIND, "bind"): ("resource binding (choose the resource of the full JID)", rfc6120("7.4")),
    (NS_SESSION, "session"): ("session establishment (an old RFC 3921 step)", RFC3921_SESSION),
    (NS_ROSTERVER, "ver"): ("roster versioning", rfc6121("2.6")),
    (NS_PREAPPROVAL, "sub"): ("subscription pre-approval", rfc6121("3.4")),
    (NS_SM, "sm"): ("stream management (acknowledgements and resumption)", xep(198, "2")),
    (NS_CSI, "csi"): ("client state indication (tell the server when the app is in the background)", xep(352, "4.1")),
}
OPTIONAL_SESSION = "session establishment (optional: an old RFC 3921 step, nothing to do)"

#: SASL mechanisms (RFC 6120 §6.4.2; SCRAM: RFC 5802): what the initial response carries.
SASL_MECHANISMS = {
    "PLAIN": "PLAIN sends the user name and the password, only base64-encoded, so it needs TLS (masked here)",
    "SCRAM": "SCRAM sends the user name and a random nonce; the password itself never crosses the wire",
    "ANONYMOUS": "ANONYMOUS asks for a temporary account, no credentials",
    "EXTERNAL": "EXTERNAL uses the credentials of the TLS layer (a client certificate)",
}
OTHER_MECHANISM = "the initial response follows the mechanism's own rules"

#: XEP-0198 stream management elements: what each one does.
STREAM_MANAGEMENT = {
    "enable": "asks to enable stream management: from now on both sides count the stanzas they handle, so "
              "nothing is lost unnoticed",
    "enabled": "confirms stream management is on",
    "r": "asks the other side how many stanzas it has handled so far (an ack request)",
    "a": "acknowledges the stanzas it has handled so far",
    "resume": "asks to resume a session whose connection was lost, instead of starting a new one",
    "resumed": "confirms the session is resumed: it is the same session as before, with its presence and roster",
    "failed": "reports that stream management failed",
}

#: RFC 6121 §5.2.2: the message types.
MESSAGE_TYPES = {
    "chat": "chat message (one-to-one conversation)",
    "normal": "normal message (a standalone message, like an e-mail; the default type)",
    "headline": "headline (an alert or notice: no reply expected, not stored for later)",
    "groupchat": "groupchat message (to a multi-user chat room)",
}

#: XEP-0085 chat states.
CHAT_STATES = {"composing": "is typing", "paused": "has stopped typing",
               "active": "is paying attention to the conversation", "inactive": "is not paying attention",
               "gone": "has left the conversation"}

#: RFC 6121 §4.7.2.1: the show values.
SHOW = SHOW_MEANINGS

#: XEP-0045 status codes in an occupant's presence.
MUC_STATUS = {"100": "real JIDs are visible to everyone", "110": "this presence is about you",
              "170": "the room is logged", "201": "a new room was created", "210": "the room changed your nick",
              "303": "the occupant changes nickname", "307": "kicked", "301": "banned", "321": "removed: "
              "affiliation changed", "322": "removed: the room became members-only", "332": "removed: the service "
              "shuts down", "333": "removed: technical problem", "104": "the room configuration changed",
              "172": "the room is now non-anonymous", "173": "the room is now semi-anonymous"}
