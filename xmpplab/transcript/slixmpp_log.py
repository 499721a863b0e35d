"""Import slixmpp debug logs (``logging.DEBUG``): ``SEND:`` and ``RECV:`` lines become a transcript.

A log of ``logging.basicConfig(level=logging.DEBUG, format="%(levelname)-8s %(message)s")``
looks like this (any prefix works: the default ``DEBUG:slixmpp.xmlstream.xmlstream:``,
one with ``%(asctime)s``, or none)::

    DEBUG    SEND: <stream:stream to='example.com' xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:client' xml:lang='en' version='1.0'>
    DEBUG    RECV: <stream:stream:stream xmlns="http://etherx.jabber.org/streams" from="example.com" id="f75a1b28" version="1.0" xml:lang="en">
    DEBUG    RECV: <stream:stream:features xmlns="http://etherx.jabber.org/streams"><starttls xmlns="urn:ietf:params:xml:ns:xmpp-tls" />...</stream:stream:features>
    DEBUG    SEND: <starttls xmlns="urn:ietf:params:xml:ns:xmpp-tls" />
    DEBUG    Event triggered: tls_success
    DEBUG    End of stream received

The log is the client's side: ``SEND`` is C→S, ``RECV`` is S→C. Lines that
follow a ``SEND``/``RECV`` line without a logging prefix continue it (a body
with line breaks). ``Event triggered: connecting`` starts a new connection
(slixmpp reconnects, e.g. after trying direct TLS); ``tls_success``,
``auth_success``, ``JID set to:`` and ``connection_lost`` become the
transcript's ``tls``, ``auth``, ``bound`` and ``close`` events, and ``End of
stream received`` the server's ``</stream:stream>``.

What is lost, and why:

* ``SEND`` lines are exact: slixmpp logs the very string it writes
  (``send_raw``), one line per write.
* ``RECV`` lines are **not** what the server sent. slixmpp parses what it
  receives and logs its own re-serialisation of each element: attribute
  quotes become double quotes, empty elements are written ``<x />``,
  characters may be escaped differently, namespace declarations are
  rewritten (each top-level element carries its own ``xmlns``; the streams
  namespace comes out mangled as ``<stream:stream:features
  xmlns="http://etherx.jabber.org/streams">``, which is not even namespace
  well-formed: the importer repairs it to ``<stream:features>``), and the
  server's stream header loses its ``<?xml?>`` declaration and its
  ``xmlns``/``xmlns:stream`` declarations (rebuilt from the client's header).
* The real chunk boundaries of received data are gone (one ``RECV`` per
  element, not per read), and so is any whitespace the server sent between
  elements, keepalives included.
* Timing is as precise as the log's ``%(asctime)s`` (milliseconds, local
  time) if the format has one; without it items are numbered 0, 1, 2...
* No addresses, no TLS version or cipher; the SASL mechanism is read from
  ``<auth mechanism=...>``; the JID from ``JID set to:``.
* slixmpp logs credentials in the clear (``SEND: <auth ...>AGp1bGlldABzZWNyZXQ=</auth>``):
  the transcript masks them in every view, but the log file still has them.
* Elements slixmpp dropped or could not parse, and anything filtered out of
  the log, are missing.
"""  # noqa: E501 - the example lines are records of the format (one a line): they cannot wrap

from __future__ import annotations

import datetime
import os
import re
from pathlib import Path

from ..xml import NS_CLIENT, NS_STREAM

_LEVEL = re.compile(r"^[^<]*?\b(DEBUG|INFO|WARNING|ERROR|CRITICAL)\b")
_VERB = re.compile(r"\b(SEND|RECV): ?")
_TIME = re.compile(r"(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d)(?:[,.](\d+))?")
_MANGLED = re.compile(r"<(/?)stream:stream:(?=[\w-])")
_STREAMS_XMLNS = re.compile(r"""\s+xmlns\s*=\s*(["'])http://etherx\.jabber\.org/streams\1""")
_HEADER = re.compile(r"^\s*<stream:stream\b")
_DEFAULT_NS = re.compile(r"""\sxmlns\s*=\s*(["'])([^"']*)\1""")
_MECHANISM = re.compile(r"""<auth\b[^>]*\bmechanism\s*=\s*(["'])([^"']*)\1""")
LOST = ("slixmpp logs its own re-serialisation of received elements (quotes, empty tags, namespace "
        "declarations differ from the wire; chunk boundaries and whitespace between elements are gone); "
        "sent text is exact")


def _records(lines):
    """Group log lines into records: ``(prefix, verb or None, message)``."""
    record = None
    for line in lines:
        verb = _VERB.search(line)
        level = _LEVEL.match(line)
        starts = line.startswith(("SEND:", "RECV:")) or (level is not None and (verb is None or
                                                                                 level.end() <= verb.start()))
        if not starts:
            if record is not None and record[1] is not None:
                record[2].append(line)
            continue
        if record is not None:
            yield record[0], record[1], "\n".join(record[2])
        if verb is not None and "<" not in line[:verb.start()]:
            record = [line[:verb.start()], verb.group(1), [line[verb.end():]]]
        else:
            record = [line, None, [line]]
    if record is not None:
        yield record[0], record[1], "\n".join(record[2])


def _when(prefix: str) -> float | None:
    m = _TIME.search(prefix)
    if not m:
        return None
    date, clock, frac = m.groups()
    when = datetime.datetime.fromisoformat(f"{date}T{clock}")
    seconds = when.timestamp()
    return seconds + (float("0." + frac) if frac else 0.0)


def repair_received(data: str, default_ns: str) -> str:
    """Undo slixmpp's mangling of the streams namespace in a ``RECV`` line."""
    if "stream:stream:" in data:
        data = _MANGLED.sub(r"<\1stream:", data)
        first_end = data.find(">")
        data = _STREAMS_XMLNS.sub("", data[:first_end], count=1) + data[first_end:]
    if _HEADER.match(data) and "xmlns:stream" not in data.split(">", 1)[0]:
        decls = f" xmlns='{default_ns}' xmlns:stream='{NS_STREAM}'"
        head, _, rest = data.partition("<stream:stream")
        data = head + "<stream:stream" + decls + rest
    return data


def add_slixmpp_log(t, source: str | os.PathLike, *, conn_prefix: str = "c2s") -> None:
    """Add a slixmpp debug log (its text, or a path) to the (empty) transcript ``t``, recorded by the client."""
    text = source if isinstance(source, str) and "\n" in source else Path(source).read_text(encoding="utf-8")
    state = {"n": 0, "conn": None, "has_data": False, "sent_header": False, "restart": False,
             "mechanism": None, "closed": False, "default_ns": NS_CLIENT, "clock": -1.0}
    repaired = 0

    def now(prefix: str) -> float:
        when = _when(prefix)
        state["clock"] = when if when is not None else state["clock"] + 1.0
        return state["clock"]

    def new_connection(when: float) -> str:
        if state["conn"] is not None and not state["closed"]:
            t.add({"t": when, "conn": state["conn"], "type": "close"})
        state["n"] += 1
        state.update(conn=f"{conn_prefix}-{state['n']}", has_data=False, sent_header=False, restart=False,
                     closed=False)
        t.add({"t": when, "conn": state["conn"], "type": "open", "kind": "c2s", "role": "initiating"})
        return state["conn"]

    def event(when: float, type_: str, **fields) -> None:
        if state["conn"] is None:
            new_connection(when)
        t.add({"t": when, "conn": state["conn"], "type": type_, **fields})

    for prefix, verb, message in _records(text.split("\n")):
        if verb is None:
            if "Event triggered: connecting" in message:
                if state["conn"] is None or state["has_data"]:
                    new_connection(now(prefix))
            elif "Event triggered: tls_success" in message:
                event(now(prefix), "tls")
            elif "Event triggered: auth_success" in message:
                event(now(prefix), "auth", mechanism=state["mechanism"])
            elif "JID set to:" in message:
                event(now(prefix), "bound", jid=message.split("JID set to:", 1)[1].strip())
            elif "End of stream received" in message:
                event(now(prefix), "data", dir="in", data="</stream:stream>")
            elif ("connection_lost" in message or "Event triggered: disconnected" in message) and \
                    state["conn"] is not None and not state["closed"]:
                event(now(prefix), "close")
                state["closed"] = True
            continue
        when = now(prefix)
        if verb == "SEND":
            if _HEADER.match(message):
                if state["conn"] is None or state["closed"] or (state["sent_header"] and not state["restart"]):
                    new_connection(when)
                state["sent_header"], state["restart"] = True, False
                m = _DEFAULT_NS.search(message.split(">", 1)[0])
                if m:
                    state["default_ns"] = m.group(2)
            m = _MECHANISM.search(message)
            if m:
                state["mechanism"] = m.group(2)
            data = message
        else:
            data = repair_received(message, state["default_ns"])
            repaired += data != message
            if re.match(r"\s*<(proceed|success|compressed)\b", data):
                state["restart"] = True
        event(when, "data", dir="out" if verb == "SEND" else "in", data=data)
        state["has_data"] = True
    if state["conn"] is None:
        from .model import TranscriptError
        raise TranscriptError("no SEND: or RECV: lines found: is this a slixmpp log at DEBUG level?")
    for conn in list(t.connections.values()):
        if not conn.chunk_count:
            t._forget(conn.id)
            t.notes.append(f"{conn.id} was a connection attempt that exchanged no XML; left out")
    t.notes.append(LOST)
    if repaired:
        t.notes.append(f"repaired {repaired} RECV lines where slixmpp mangles the streams namespace "
                       "(<stream:stream:features xmlns=...> became <stream:features>)")
    return t
