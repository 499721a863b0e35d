"""Replay: step through a recording, re-drive it against a live server, or play it back as a fake server.

* :class:`Stepper` (:mod:`.step`): one item at a time, with its connection,
  its direction and what answered it::

      s = Stepper("sample_streams/juliet-login-starttls-scram.jsonl", kinds="stanza")
      s.next()    # <Step stanza 1 of 8: C→S iq set urn:ietf:params:xml:ns:xmpp-bind on c2s-1 — answered by stanza 2>

* :func:`redrive` (:mod:`.redrive`): log in live (STARTTLS, SASL, bind), send
  the recorded client stanzas with ids and JIDs remapped, and diff the
  server's answers against the recorded ones; a :class:`RedriveReport`.
* :class:`FakeServer` (:mod:`.fake`): negotiate live with a connecting
  client, then answer it with the recorded server stanzas.
* :func:`load_transcript` and :func:`convert` (:mod:`.files`): every
  transcript format xmpplab reads and writes, by extension.

Recorded TLS and SASL cannot be sent again (nonces, proofs and keys are
fresh each time), so re-drive and the fake server negotiate live and
replay what comes after the resource is bound (:mod:`.exchanges`).
"""

from .exchanges import DEFAULT_IGNORE, Exchange, IdMap, JidMap, session_items, split_exchanges
from .fake import FakeServer
from .files import convert, load_transcript
from .redrive import Outcome, RedriveReport, Status, redrive
from .step import Step, Stepper

__all__ = ["DEFAULT_IGNORE", "Exchange", "FakeServer", "IdMap", "JidMap", "Outcome", "RedriveReport", "Status",
           "Step", "Stepper", "convert", "load_transcript", "redrive", "session_items", "split_exchanges"]
