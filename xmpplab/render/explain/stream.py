"""Explaining the stream itself (RFC 6120 §4): headers and restarts, the close, stream errors, refused input."""

from __future__ import annotations

from ...ns import NS_STREAMS
from ...transcript.model import Direction, ItemKind
from ...xml import split_qname
from .. import specs
from .facts import RESTART_SECTION, RESTART_WORDS, cite
from .subject import _Subject
from .words import _quote, _their

C2S, S2C = Direction.C2S, Direction.S2C


def _stream_open(s: _Subject):
    version = s.get("version")
    cause = s.facts.restart.get(s.item.index) if (s.facts and s.item) else None
    if s.direction is S2C:
        sid = s.get("id")
        who = s.get("from") or "The server"
        if cause:
            text = (f"{who} answers the restart with a fresh stream header"
                    f"{f' and a new stream id ({sid})' if sid else ''}, then sends the features available now.")
            return text, cite("stream header (restart)"), "stream header (restart)", (), "stream header"
        text = (f"{who} answers with its own stream header{f' (stream id {sid})' if sid else ''}: "
                "the server's XML document, flowing the other way, starts here"
                f"{'; version 1.0 means stream features come next' if version == '1.0' else ''}.")
        return text, cite("stream header"), "stream header", (), "stream header"
    to = s.get("to")
    if s.s2s:
        who, its = "The initiating server", "its"
    elif s.client == "the client":
        who, its = "The client", "its"
    else:
        who, its = s.client, _their(s.client)
    to_words = f" to {to}" if to else ""
    if cause:
        why = RESTART_WORDS.get(cause, "After a restart")
        subject = who[0].lower() + who[1:] if who.startswith("The ") else who
        text = (f"{why}, {subject} opens a fresh stream{to_words}: after STARTTLS and after SASL success both "
                "sides restart their streams, forgetting what was negotiated before.")
        sections = [*cite("stream restart"), RESTART_SECTION.get(cause)]
        return text, sections, "stream header (restart)", (), "stream header"
    text = (f"{who} opens an XML stream{to_words}: this header starts the XML document {its} side sends for the "
            f"whole session{'; version 1.0 asks for stream features' if version == '1.0' else ''}.")
    return text, cite("stream header"), "stream header", (), "stream header"


def _stream_close(s: _Subject):
    who = "The server" if s.direction is S2C else ("The client" if s.client == "the client" else s.client)
    return ((f"{who} closes {'its' if who.startswith('The') else _their(who)} stream: </stream:stream> ends "
            "the XML document; once both sides have closed, the TCP connection ends."),
            cite("stream close"), "stream close", (), "stream close")


def _stream_error(s: _Subject):
    cond = None
    text_el = None
    for c in s.children():
        ns, name = split_qname(c.tag)
        if ns == NS_STREAMS and name == "text":
            text_el = c.text
        elif ns == NS_STREAMS and cond is None:
            cond = name
    who = "The client" if s.direction is C2S else "The server"
    what = specs.STREAM_ERRORS.get(cond, "an application-specific problem")
    text = (f"{who} ends the stream with a stream error, {cond or 'without a condition'}: {what}. "
            "A stream error is fatal: the stream closes right after it.")
    notes = (f"Its text: {_quote(text_el, 120)}",) if text_el else ()
    sections = [specs.stream_error(cond) if cond else None, *cite("stream error")]
    return text, sections, f"stream error {cond or ''}".strip(), notes, "stream error"


def _problem(s: _Subject):
    cond = s.condition or "not-well-formed"
    if s.kind is ItemKind.NON_XML:
        text = ("This is not XML at all (binary data): typically a client starting TLS directly on a port that "
                "expects a plaintext XML stream (STARTTLS), or the wrong protocol. A server answers with the "
                f"stream error {cond} and closes the connection.")
        return text, [specs.stream_error(cond), *cite("not XML")], "not XML", ((s.problem,) if s.problem else ()), \
            "problem"
    cites = [specs.stream_error(cond)]
    if cond == "restricted-xml":
        cites += cite("restricted XML")
    text = (f"The stream parser refused this text ({s.problem or 'it is not acceptable XML'}); a server answers "
            f"with the stream error {cond} and closes the stream.")
    return text, cites, f"problem: {cond}", (), "problem"
