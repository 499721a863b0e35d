"""Scansion conversation scripts: read, write, match, run, and make them from recordings.

Scansion (https://matthewwild.co.uk/projects/scansion/) is the XMPP testing
tool Prosody's test suite uses: a script names its characters and says, in
plain words, who sends what and who should receive what::

    [Client] Romeo
        jid: romeo@localhost
        password: password
    -----
    Romeo connects
    Romeo sends:
        <presence/>
    Romeo receives:
        <presence from="${Romeo's full JID}"/>
    Romeo disconnects

* :func:`load_script` / :func:`parse_script` read one into a :class:`Script`;
  :meth:`Script.to_text` writes it back (:mod:`.script`).
* :func:`compare` and :func:`matches` apply scansion's matching rules to two
  stanzas and say what differs (:mod:`.match`).
* :func:`run_script` plays a script against a live server with one
  :class:`~xmpplab.rawclient.RawClient` per character (:mod:`.runner`).
* :func:`script_from_recording` turns a recording (recorder events or a
  :class:`~xmpplab.transcript.Transcript`) into a script that replays it
  (:mod:`.convert`).

See docs/scansion.md for the semantics and the results of Prosody's scripts
against the lab server.
"""

from .convert import script_from_recording
from .match import Difference, UnknownVariable, compare, expand, expand_element, is_strict, matches, value_matches
from .runner import RunResult, Status, StepResult, accounts_of, create_accounts, run_script, summary_table, wire_element
from .script import (
    ANY,
    SCANSION_NS,
    Action,
    Character,
    Script,
    ScriptError,
    Step,
    canonical_xml,
    load_script,
    parse_script,
    parse_xml,
    to_scansion_xml,
    write_script,
)

__all__ = [
    "ANY",
    "SCANSION_NS",
    "Action",
    "Character",
    "Difference",
    "RunResult",
    "Script",
    "ScriptError",
    "Status",
    "Step",
    "StepResult",
    "UnknownVariable",
    "accounts_of",
    "canonical_xml",
    "compare",
    "create_accounts",
    "expand",
    "expand_element",
    "is_strict",
    "load_script",
    "matches",
    "parse_script",
    "parse_xml",
    "run_script",
    "script_from_recording",
    "summary_table",
    "to_scansion_xml",
    "value_matches",
    "wire_element",
    "write_script",
]
