"""slixmpp's client, recording every byte of its stream (what :class:`~xmpplab.client.Client` drives).

Each TCP connection gets an id (``client-juliet-1``) and becomes a connection
of the recording: ``open``, ``tls``, ``data`` in and out, ``auth``, ``bound``
and ``close`` events, the same ones the server records (RFC 6120 §4: one XML
stream each way per connection).
"""

from __future__ import annotations

import codecs
import itertools

import slixmpp

from .sockaddr import format_address as _fmt_addr

__all__ = ["RecordingClientXMPP", "next_conn_id"]

_conn_counters: dict[str, itertools.count] = {}


def next_conn_id(name: str) -> str:
    """``client-juliet-1``, ``client-juliet-2``...: a new connection id for the user ``name``."""
    counter = _conn_counters.setdefault(name, itertools.count(1))
    return f"client-{name}-{next(counter)}"


class RecordingClientXMPP(slixmpp.ClientXMPP):
    """slixmpp's ``ClientXMPP`` that records every byte of its stream.

    slixmpp writes to its transport in exactly one place, :meth:`send_raw`, and
    reads in :meth:`data_received`; both are overridden here, so the recording
    is what crossed the socket (above TLS), not slixmpp's re-serialised log.
    Wrapping ``self.transport`` instead would not work: slixmpp passes that
    transport to ``loop.start_tls``, so a wrapper would see the TLS ciphertext.

    ``record(event_type, **fields)`` is called for each event; ``conn_id()``
    names each new TCP connection.
    """

    def __init__(self, jid, password, *, record, conn_id, **kwargs):
        super().__init__(jid, password, **kwargs)
        self._record_event = record
        self._new_conn_id = conn_id
        self.conn_id: str | None = None
        self.mechanism: str | None = None
        self.tls_version: str | None = None
        self._in_decoder = self._out_decoder = None
        self._footer_seen = False
        self.add_event_handler("auth_success", self._recorded_auth)
        self.add_event_handler("session_bind", self._recorded_bind)

    def _record(self, type_: str, **fields) -> None:
        if self.conn_id is not None:
            self._record_event(self.conn_id, type_, **fields)

    def connection_made(self, transport, send_event: bool = True) -> None:
        """A connection (or its TLS upgrade) is made: start recording it (slixmpp's asyncio callback)."""
        ssl_object = transport.get_extra_info("ssl_object")
        if send_event:  # a new TCP connection (after STARTTLS slixmpp calls this again with send_event=False)
            self.conn_id = self._new_conn_id()
            self._in_decoder = codecs.getincrementaldecoder("utf-8")("replace")
            self._out_decoder = codecs.getincrementaldecoder("utf-8")("replace")
            self._footer_seen = False
            self.mechanism = self.tls_version = None
            self._record("open", peer=_fmt_addr(transport.get_extra_info("peername")),
                         local=_fmt_addr(transport.get_extra_info("sockname")), kind="c2s", role="initiating")
        if ssl_object is not None:
            self.tls_version = ssl_object.version()
            cipher = ssl_object.cipher()
            self._record("tls", version=self.tls_version, cipher=cipher[0] if cipher else None)
        super().connection_made(transport, send_event)  # sends the stream header through send_raw

    def data_received(self, data) -> None:
        """Record the text received, then hand the bytes to slixmpp."""
        if self._in_decoder is not None:
            text = data if isinstance(data, str) else self._in_decoder.decode(data)
            if "</stream:stream>" in text:
                self._footer_seen = True
            self._record("data", dir="in", data=text)
        super().data_received(data)

    def send_raw(self, data) -> None:
        """Send through slixmpp, then record the text that was written."""
        super().send_raw(data)  # raises NotConnectedError, then nothing was written
        if self._out_decoder is not None:
            text = data if isinstance(data, str) else self._out_decoder.decode(data)
            if text == self.stream_footer:
                self._footer_seen = True
            self._record("data", dir="out", data=text)

    def connection_lost(self, exception) -> None:
        """Record the close (clean if the stream's end tag was seen), then tell slixmpp."""
        if self.conn_id is not None:
            fields = {"clean": self._footer_seen}
            if exception is not None:
                fields["error"] = str(exception)
            self._record("close", **fields)
        super().connection_lost(exception)

    def _recorded_auth(self, _stanza) -> None:
        mech = getattr(self.plugin.get("feature_mechanisms", None), "mech", None)
        self.mechanism = getattr(mech, "name", None)
        self._record("auth", mechanism=self.mechanism, user=str(self.boundjid.bare))

    def _recorded_bind(self, jid) -> None:
        self._record("bound", jid=str(jid))
