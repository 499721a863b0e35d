"""Transcripts: lossless recordings of XMPP streams, a parsed view of them, and other formats.

>>> from xmpplab.transcript import Transcript
>>> t = Transcript.from_rfc_text('''
...    C: <stream:stream to='example.com' version='1.0'
...         xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>
...    S: <stream:stream from='example.com' id='s1' version='1.0'
...         xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>
...    C: <iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>
...    S: <iq type='result' id='r1'><query xmlns='jabber:iq:roster'/></iq>
... ''')
>>> request = t.first(kind="iq", type="get")
>>> request
<Item c2s-1#2 C→S stanza iq type='get' id='r1' jabber:iq:roster>
>>> t.answer_to(request).text
"<iq type='result' id='r1'><query xmlns='jabber:iq:roster'/></iq>"

Modules: :mod:`.model` (Direction, Chunk, Item), :mod:`.connection`,
:mod:`.transcript`, :mod:`.query` (filters and answers), :mod:`.view` (the
parsed view), :mod:`.wire` (exact source text of each item), :mod:`.mask`
(SASL credentials), :mod:`.jsonl` (files), :mod:`.rfc` (RFC example text),
:mod:`.streamfile` (the client XML stream file), :mod:`.slixmpp_log`.
"""

from .connection import Connection
from .jsonl import iter_events, read_header
from .mask import MASK
from .model import Chunk, Direction, Item, ItemKind, TranscriptError
from .query import Criteria, Selection
from .transcript import Transcript, iter_items, read_stream_file

__all__ = [
           "MASK",
           "Chunk",
           "Connection",
           "Criteria",
           "Direction",
           "Item",
           "ItemKind",
           "Selection",
           "Transcript",
           "TranscriptError",
           "iter_events",
           "iter_items",
           "read_header",
           "read_stream_file",
]
