"""From a recording to a scansion script: recorded sessions become regression tests.

Prosody's ``mod_scansion_record`` writes live traffic as a script; this does
the same from xmpplab's recordings, whoever made them (the lab server, a
:class:`~xmpplab.rawclient.RawClient` or a :class:`~xmpplab.client.Client`
with a recorder)::

    recorder = MemoryRecorder()
    ... clients talk to a server, recorded ...
    script = script_from_recording(recorder.events)      # or a Transcript, or a .jsonl path
    print(script.to_text())
    result = await run_script(script, "127.0.0.1", fresh_server.port, accounts=fresh_server.accounts)

How the events (:mod:`xmpplab.recording`) become steps, connection by connection:

* Stream negotiation (header, features, STARTTLS, SASL, bind) is left out;
  the ``bound`` event becomes ``Name connects``. The stanzas after it
  become ``Name sends:`` (client to server) and ``Name receives:`` (server to
  client), in the order they were recorded across all connections. The
  client closing its stream (or the connection closing) becomes
  ``Name disconnects``. Connections that never bound a resource, and s2s
  connections, are left out.
* Names: the account's user part, capitalised (``juliet@localhost`` is
  Juliet); further connections of the same account are named like Prosody
  names them, ``Juliet's phone``, ``Juliet's laptop``... ``names`` maps a
  full or bare JID to a name of your choice.
* ``[Client]`` blocks: the bare JID, with the resource when the client asked
  for one at bind time (so a replay binds the same one), and ``password``
  (recordings hold no passwords: ``passwords`` maps a bare JID to one,
  ``password`` is used for the others).
* Values that change from run to run are generalised: every full JID a
  connection bound becomes ``${Name's full JID}`` and every bare JID of a
  character ``${Name's JID}``; in what a client receives, an ``id`` that no
  client sent before (the server made it up: roster pushes, stanza-ids) and
  the attributes in ``wildcard_attributes`` (``stamp``, ``ver``...) become
  ``{scansion:any}``, as does the text of the elements in ``wildcard_text``.
  As Prosody's recorder does, ``from`` is dropped from what a client sends
  (the server stamps it) and ``to`` from what it receives when it is the
  client's own full JID.
"""

from __future__ import annotations

import copy
import datetime
import os

from ..jid import JID, InvalidJID
from ..stream import StanzaReceived, StreamClosed, StreamParser, StreamViolation
from ..transcript import iter_events
from ..xml import NS_BIND, NS_CLIENT, NS_SASL, NS_SESSION, NS_TLS, STANZA_KINDS, qname, split_qname
from .script import ANY, Action, Character, Script, Step

#: Attributes whose values change from run to run, in what a client receives.
DEFAULT_WILDCARD_ATTRIBUTES = ("stamp", "ver", "sessionid", "seconds")
#: Elements whose text changes from run to run (XEP-0202 entity time, XEP-0012 last activity...).
DEFAULT_WILDCARD_TEXT = ("{urn:xmpp:time}utc",)
#: How Prosody's mod_scansion_record names the second, third... connection of an account.
DEVICES = ("phone", "laptop", "tablet", "toaster", "fridge", "shoe")


def script_from_recording(recording, *, names: dict | None = None, password: str = "password",
                          passwords: dict | None = None, title: str | None = None,
                          wildcard_attributes=DEFAULT_WILDCARD_ATTRIBUTES,
                          wildcard_text=DEFAULT_WILDCARD_TEXT, role: str | None = None) -> Script:
    """A :class:`Script` replaying the client side of ``recording`` (see the module docstring).

    ``recording`` is a list of recorder events, a :class:`~xmpplab.recording.MemoryRecorder`,
    a :class:`~xmpplab.transcript.Transcript`, or the path of a JSON Lines recording.
    ``role`` says which side recorded when the ``open`` events do not (``"receiving"``:
    a server, ``"initiating"``: a client).
    """
    events, default_role = _events_of(recording)
    name = None
    if isinstance(recording, (str, os.PathLike)):
        name = os.path.basename(os.fspath(recording)).split(".")[0]
    builder = _Builder(names or {}, password, passwords or {}, set(wildcard_attributes), set(wildcard_text),
                       role or default_role)
    for event in events:
        builder.add(event)
    script = builder.script(title)
    script.name = name
    return script


def _events_of(recording) -> tuple[list[dict], str]:
    if isinstance(recording, (str, os.PathLike)):
        return list(iter_events(recording)), "receiving"
    if hasattr(recording, "events") and callable(recording.events):  # a Transcript
        return list(recording.events()), getattr(recording, "default_role", "receiving")
    if hasattr(recording, "events"):  # a MemoryRecorder
        return list(recording.events), "receiving"
    return list(recording), "receiving"


class _Connection:
    def __init__(self, conn_id: str, role: str):
        self.id = conn_id
        self.role = role
        self.parsers = {"c2s": StreamParser(max_stanza_bytes=64 * 1024 * 1024),
                        "s2c": StreamParser(max_stanza_bytes=64 * 1024 * 1024)}
        self.jid: str | None = None       # the full JID bound
        self.name: str | None = None      # the character
        self.resource_asked: str | None = None
        self.negotiation_ids: set[str] = set()
        self.skip = False                 # s2s, or the stream broke: ignore the rest
        self.disconnected = False


class _Builder:
    def __init__(self, names: dict, password: str, passwords: dict, wildcard_attributes: set,
                 wildcard_text: set, default_role: str):
        self.names = {str(k): v for k, v in names.items()}
        self.password, self.passwords = password, {str(k): v for k, v in passwords.items()}
        self.wildcard_attributes, self.wildcard_text = wildcard_attributes, wildcard_text
        self.default_role = default_role
        self.conns: dict[str, _Connection] = {}
        self.characters: dict[str, Character] = {}
        self.steps: list[Step] = []
        self.full_vars: dict[str, str] = {}   # full JID -> character bound to it (latest)
        self.bare_vars: dict[str, str] = {}   # bare JID -> first character of that account
        self.accounts: dict[str, int] = {}    # bare JID -> connections so far
        self.bases: dict[str, str] = {}       # bare JID -> the name of its first character
        self.sent_ids: set[str] = set()
        self.first_t: float | None = None

    # --- events ------------------------------------------------------------------------
    def add(self, event: dict) -> None:
        kind, conn_id = event.get("type"), event.get("conn")
        if self.first_t is None and isinstance(event.get("t"), (int, float)):
            self.first_t = event["t"]
        conn = self.conns.get(conn_id)
        if conn is None:
            conn = self.conns[conn_id] = _Connection(conn_id, event.get("role") or self.default_role)
        if kind == "open":
            conn.role = event.get("role") or conn.role
            conn.skip = event.get("kind", "c2s") != "c2s"
        elif kind == "data" and not conn.skip:
            inbound = event.get("dir") == "in"
            direction = "c2s" if inbound == (conn.role != "initiating") else "s2c"
            self._data(conn, direction, event.get("data", ""))
        elif kind == "bound" and not conn.skip and event.get("jid"):
            self._bound(conn, event["jid"])
        elif kind == "close":
            self._disconnect(conn)

    def _data(self, conn: _Connection, direction: str, data: str) -> None:
        for ev in conn.parsers[direction].feed(data):
            if isinstance(ev, StanzaReceived):
                self._element(conn, direction, ev.element)
            elif isinstance(ev, StreamClosed) and direction == "c2s":
                self._disconnect(conn)
            elif isinstance(ev, StreamViolation):
                conn.skip = True  # the recording of this stream cannot be followed any further
                return

    def _element(self, conn: _Connection, direction: str, el) -> None:
        ns, name = split_qname(el.tag)
        if el.tag in (qname(NS_TLS, "proceed"), qname(NS_SASL, "success")):
            for parser in conn.parsers.values():  # both streams restart (RFC 6120 5.4.3.3, 6.4.6)
                parser.reset()
            return
        if ns != NS_CLIENT or name not in STANZA_KINDS:
            return  # negotiation and other nonzas (stream management...)
        if name == "iq" and self._is_negotiation(conn, direction, el):
            return
        if conn.name is None:
            return  # before binding
        if direction == "c2s":
            self._collect_ids(el)
            self.steps.append(Step(conn.name, Action.SENDS, self._generalise(conn, el, sent=True)))
        else:
            self.steps.append(Step(conn.name, Action.RECEIVES, self._generalise(conn, el, sent=False)))

    def _is_negotiation(self, conn: _Connection, direction: str, el) -> bool:
        """Resource binding and the legacy session iq (and their answers) are part of logging in."""
        if el.get("type") in ("result", "error"):
            return el.get("id") in conn.negotiation_ids
        bind = el.find(qname(NS_BIND, "bind"))
        if direction == "c2s" and bind is not None:
            conn.resource_asked = (bind.findtext(qname(NS_BIND, "resource")) or "").strip() or None
            conn.negotiation_ids.add(el.get("id"))
            return True
        if direction == "c2s" and el.find(qname(NS_SESSION, "session")) is not None:
            conn.negotiation_ids.add(el.get("id"))
            return True
        return False

    def _bound(self, conn: _Connection, jid: str) -> None:
        if conn.name is not None:
            return
        try:
            j = JID(jid)
        except InvalidJID:
            conn.skip = True
            return
        bare = str(j.bare)
        n = self.accounts.get(bare, 0)
        self.accounts[bare] = n + 1
        name = self.names.get(str(j)) or self._name_for(bare, n)
        if name in self.characters:  # a later connection with a name already taken
            name = self._unique(f"{name} ({n + 1})")
        conn.name, conn.jid = name, str(j)
        props = {"jid": bare + (f"/{conn.resource_asked}" if conn.resource_asked else ""),
                 "password": self.passwords.get(bare, self.password)}
        self.characters[name] = Character(name, props)
        self.full_vars[str(j)] = name
        self.bare_vars.setdefault(bare, name)
        self.steps.append(Step(name, Action.CONNECTS))

    def _name_for(self, bare: str, n: int) -> str:
        base = self.bases.get(bare)
        if base is None:
            local, _, domain = bare.rpartition("@")
            base = self.names.get(bare) or (local[:1].upper() + local[1:] if local else domain)
            if base in self.bases.values():  # juliet@example.com and juliet@example.net
                base = f"{base} of {domain}"
            self.bases[bare] = base
        if n == 0:
            return base
        device = DEVICES[n - 1] if n - 1 < len(DEVICES) else f"device {n + 1}"
        return f"{base}'s {device}"

    def _unique(self, name: str) -> str:
        candidate, k = name, 2
        while candidate in self.characters:
            candidate, k = f"{name} {k}", k + 1
        return candidate

    def _disconnect(self, conn: _Connection) -> None:
        if conn.name is not None and not conn.disconnected:
            conn.disconnected = True
            self.steps.append(Step(conn.name, Action.DISCONNECTS))

    # --- generalising ----------------------------------------------------------------------
    def _collect_ids(self, el) -> None:
        for node in el.iter():
            if isinstance(node.tag, str) and node.get("id"):
                self.sent_ids.add(node.get("id"))

    def _variable(self, value: str) -> str | None:
        if value in self.full_vars:
            return f"${{{self.full_vars[value]}'s full JID}}"
        if value in self.bare_vars:
            return f"${{{self.bare_vars[value]}'s JID}}"
        return None

    def _generalise(self, conn: _Connection, el, sent: bool):
        el = copy.deepcopy(el)
        if sent:
            el.attrib.pop("from", None)
        elif el.get("to") == conn.jid:
            del el.attrib["to"]
        for node in el.iter():
            if not isinstance(node.tag, str):
                continue
            for key, value in node.attrib.items():
                local = split_qname(key)[1]
                if not sent and (local in self.wildcard_attributes or
                                 (local == "id" and value not in self.sent_ids)):
                    node.set(key, ANY)
                    continue
                var = self._variable(value)
                if var is not None:
                    node.set(key, var)
            if node.text and node.text.strip():
                if not sent and node.tag in self.wildcard_text:
                    node.text = ANY
                else:
                    var = self._variable(node.text.strip())
                    if var is not None:
                        node.text = var
        return el

    # --- result ----------------------------------------------------------------------------------
    def script(self, title: str | None) -> Script:
        if title is None:
            when = ""
            if self.first_t is not None and self.first_t > 86400 * 365:
                when = " on " + datetime.datetime.fromtimestamp(self.first_t, datetime.UTC).strftime(
                    "%Y-%m-%d %H:%M:%S UTC")
            title = f"Recorded with xmpplab{when}"
        return Script(dict(self.characters), list(self.steps), title=title)

