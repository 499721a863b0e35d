"""Explaining stream negotiation: features (RFC 6120 §4.3.2), STARTTLS (§5), SASL (§6), dialback (XEP-0220),
and the other first-level elements that are not stanzas (SASL2, stream management, XEP-0360 nonzas)."""

from __future__ import annotations

import base64
import binascii
import re

from ...ns import NS_CSI, NS_DIALBACK, NS_SASL, NS_SASL2, NS_SM, NS_STREAM, NS_TLS
from ...transcript.model import Direction
from ...xml import split_qname
from .. import specs
from .facts import (
    OPTIONAL_SESSION,
    OTHER_MECHANISM,
    SASL_MECHANISMS,
    STREAM_FEATURES,
    cite,
)
from .sm import client_state, stream_management
from .subject import _Subject
from .words import _and, _cap, _or, _unique

C2S, S2C = Direction.C2S, Direction.S2C
MASK = "[masked]"


def _features(s: _Subject):
    parts, cites = [], cite("stream features")
    for c in s.children():
        ns, name = split_qname(c.tag)
        required = any(split_qname(g.tag)[1] == "required" for g in c if isinstance(g.tag, str))
        if ns == NS_SASL and name == "mechanisms":
            mechs = [m.text.strip() for m in c if isinstance(m.tag, str) and m.text]
            parts.append("SASL authentication with " + _or(mechs) if mechs else "SASL authentication")
            cites += cite("SASL mechanisms")
        elif (ns, name) in STREAM_FEATURES:
            words, section = STREAM_FEATURES[(ns, name)]
            if name == "session" and any(split_qname(g.tag)[1] == "optional" for g in c if isinstance(g.tag, str)):
                words = OPTIONAL_SESSION
            parts.append(words + (" (required)" if required else ""))
            cites.append(section)
        else:
            known = specs.namespace_xep(ns)
            if known:
                parts.append(f"{known[1]} ({known[0].label})")
                cites.append(known[0])
            else:
                parts.append(f"{name} ({ns})")
    if not parts:
        return ("The server offers no more features: stream negotiation is complete and stanzas may flow.",
                cite("stream features (none left)"), "stream features (none left)", (), "stream features")
    text = f"The server lists the stream features that can be negotiated now: {_and(parts)}."
    return text, _unique(cites), "stream features", (), "stream features"


def _tls(s: _Subject):
    name = s.name
    if name == "starttls":
        return ((f"{_cap(s.client)} asks to upgrade this TCP connection to TLS (STARTTLS), so what follows is "
                "encrypted."), cite("STARTTLS"), "STARTTLS", (), "STARTTLS")
    if name == "proceed":
        return (("The server agrees: both sides now run the TLS handshake on the same TCP connection (not shown: "
                "the transcript records the plaintext above TLS), then the client opens a new stream."),
                cite("TLS proceed"), "TLS proceed", (), "TLS proceed")
    if name == "failure":
        return ("The server refuses STARTTLS: it closes the stream and the TCP connection.",
                cite("TLS failure"), "TLS failure", (), "TLS failure")
    return (f"A <{name}/> element of the STARTTLS namespace.", cite("TLS other"), f"TLS {name}", (), "STARTTLS")


def _sasl(s: _Subject):
    name = s.name
    decoded = _sasl_note(s.element)
    notes = (decoded,) if decoded else ()
    if name == "auth":
        mech = s.get("mechanism") or "?"
        how = SASL_MECHANISMS.get("SCRAM" if mech.startswith("SCRAM") else mech, OTHER_MECHANISM)
        return (f"{_cap(s.client)} starts SASL authentication with the {mech} mechanism: {how}.",
                cite("SASL auth"), f"SASL auth ({mech})", notes, "SASL auth")
    if name == "challenge":
        return (("The server sends a SASL challenge: the next step of the mechanism (for SCRAM: the combined "
                "nonce, the salt and the iteration count)."), cite("SASL challenge"), "SASL challenge", notes,
                "SASL challenge")
    if name == "response":
        return ((f"{_cap(s.client)} answers the challenge (for SCRAM: proof of knowing the password, masked here, "
                "without sending it)."), cite("SASL response"), "SASL response", notes, "SASL response")
    if name == "success":
        signed = " (with the server's SCRAM signature, proving it knows the password too)" if decoded else ""
        return ((f"Authentication succeeded{signed}. Both sides now restart their streams; binding a resource comes "
                "next."),
                cite("SASL success"), "SASL success", notes, "SASL success")
    if name == "abort":
        return (f"{_cap(s.client)} aborts the SASL handshake.", cite("SASL abort"), "SASL abort", (), "SASL abort")
    if name == "failure":
        cond = next((split_qname(c.tag)[1] for c in s.children() if split_qname(c.tag)[1] != "text"), None)
        what = specs.SASL_ERRORS.get(cond, "the server gives no reason")
        return (f"Authentication failed: {cond or 'no condition'}: {what}. The client may try again.",
                [specs.sasl_error(cond) if cond else None, *cite("SASL failure")], f"SASL failure {cond or ''}".strip(),
                (), "SASL failure")
    if name == "mechanisms":
        return _features(s)
    return (f"A <{name}/> element of the SASL namespace.", cite("SASL other"), f"SASL {name}", notes, "SASL")


def _dialback(s: _Subject):
    """XEP-0220: how one server proves to another that it really is the domain it claims."""
    frm, to, kind = s.get("from") or "?", s.get("to") or "?", s.get("type")
    if s.name == "result" and kind is None:
        return ((f"{frm} asks {to} to accept this stream as coming from {frm}: it sends a dialback key that only "
                 f"{frm}'s own server can confirm. {to} will check it by asking {frm}'s server on a connection of its "
                 "own."), cite("dialback"), "dialback key", (), "dialback")
    if s.name == "result":
        verdict = "accepts" if kind == "valid" else "refuses"
        return (f"{frm} {verdict} the stream: {to} {'has' if kind == 'valid' else 'has not'} proved it is {to}"
                f"{'; stanzas from ' + to + ' may now flow on it' if kind == 'valid' else ''}.",
                cite("dialback"), f"dialback {kind}", (), "dialback")
    if kind is None:
        return ((f"{frm} asks {to}, the authoritative server for {to}, whether this dialback key (for stream id "
                 f"{s.get('id') or '?'}) is really one it issued."), cite("dialback"), "dialback verify", (),
                "dialback")
    return (f"{frm} answers: the key is {'its own (valid)' if kind == 'valid' else 'not one it issued (invalid)'}.",
            cite("dialback"), f"dialback verify {kind}", (), "dialback")


def _nonza(s: _Subject):
    ns, name = s.ns, s.name
    if ns == NS_STREAM and name == "features":
        return _features(s)
    if ns == NS_DIALBACK:
        return _dialback(s)
    if ns == NS_TLS:
        return _tls(s)
    if ns == NS_SASL:
        return _sasl(s)
    if ns == NS_SASL2:
        return ((f"SASL2 <{name}/>: authentication with the Extensible SASL Profile, which can bind and resume in "
                "the same round trips."), cite("SASL2"), f"SASL2 {name}", (), "SASL2")
    if ns == NS_SM:
        return stream_management(s)
    if ns == NS_CSI:
        return client_state(s)
    known = specs.namespace_xep(ns)
    if known:
        return (f"<{name}/> in {ns}: {known[1]}, outside the three stanza kinds (a 'nonza').",
                [known[0], *cite("nonza")], known[1], (), None)
    return ((f"A <{name}/> element in {ns or 'no namespace'}: a first-level element that is not a stanza (a "
            "'nonza')."), cite("nonza"), name, (), None)


def _sasl_note(el) -> str | None:
    """What a SASL payload decodes to (base64), so the masked parts can be seen."""
    payload = "".join((el.text or "").split()) if el is not None else ""
    if not payload:
        return None
    if payload == "=":
        return "Payload '=': an empty response."
    if payload == MASK:
        return "Payload: [masked] (the credentials are hidden; reveal_credentials=True shows them)."
    try:
        raw = base64.b64decode(payload, validate=True)
        text = raw.decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    if not text.isprintable():
        text = text.replace("\0", "\\0")
        if not text.isprintable():
            return None
    what = ""
    if text.startswith(("n,", "y,", "p=")) and ",n=" in text:
        user = re.search(r",n=([^,]*)", text)
        what = f" (SCRAM client-first: user {user.group(1) if user else '?'} and a client nonce)"
    elif re.match(r"^(?:m=[^,]*,)?r=[^,]+,s=[^,]+,i=\d+", text):
        iterations = re.search(r",i=(\d+)", text)
        what = f" (SCRAM server-first: the combined nonce, the salt, {iterations.group(1)} iterations)"
    elif text.startswith("c=") and ",p=" in text:
        what = " (SCRAM client-final: channel binding, the nonce and the client proof)"
    elif text.startswith("v="):
        what = " (SCRAM server-final: the server signature)"
    shown = text if len(text) <= 160 else text[:157] + "..."
    return f"Base64 payload decodes to: {shown}{what}"
