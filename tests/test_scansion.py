"""xmpplab.scansion: Prosody's conversation scripts parsed, written back, matched and run.

Prosody's scripts live in the shared folder beside the repository
(``../shared/scansion-prosody``; ``XMPPLAB_SHARED`` names another shared
folder). Tests that need them are skipped with the reason when it is absent.
"""

import os
import textwrap
from pathlib import Path

import pytest

from tests.peers import INSTALL_HINT, need_program
from xmpplab.rawclient import RawClient
from xmpplab.recording import MemoryRecorder
from xmpplab.scansion import (
    ANY,
    Action,
    Script,
    ScriptError,
    Status,
    UnknownVariable,
    compare,
    expand,
    expand_element,
    load_script,
    matches,
    parse_script,
    parse_xml,
    run_script,
    script_from_recording,
    summary_table,
)
from xmpplab.server import Server
from xmpplab.transcript import Transcript


def _scripts_dir() -> Path:
    shared = os.environ.get("XMPPLAB_SHARED")
    base = Path(shared) if shared else Path(__file__).resolve().parents[2] / "shared"
    return base / "scansion-prosody"


SCRIPTS = _scripts_dir()
ALL_SCRIPTS = sorted(p.stem for p in SCRIPTS.glob("*.scs")) if SCRIPTS.is_dir() else []
#: Core IM scripts the lab server must pass unchanged.
CORE = ["basic", "basic_message", "basic_roster", "keep_full_sub_req", "presence_preapproval", "disco_self",
        "issue1121"]
MUC = ["issue1224", "issue505", "issue978", "issue978-multi", "muc_create_destroy", "muc_mediated_invite",
       "muc_nickname_change", "muc_password", "muc_presence_probe", "muc_subject_issue_667"]
#: Scripts the lab server is known to fail, with exactly the differences expected (none at the moment:
#: the offline <delay/> used to carry the text "Offline Storage", which Prosody's script matches strictly).
KNOWN_DIFFERENCES: dict[str, list[str]] = {}


def script_path(name: str) -> Path:
    if not SCRIPTS.is_dir():
        pytest.skip(f"Prosody's scansion scripts are not at {SCRIPTS} (the shared/ folder beside the "
                    "repository; set XMPPLAB_SHARED to its path)")
    path = SCRIPTS / f"{name}.scs"
    if not path.exists():
        pytest.skip(f"{path} is missing")
    return path


def params(names):
    return names or [pytest.param("none", marks=pytest.mark.skip(reason=f"no scripts at {SCRIPTS}"))]


async def run_on_lab(script, **options):
    async with Server(["localhost"]) as srv:
        return await run_script(script, "127.0.0.1", srv.port, accounts=srv.accounts, **options)


# --- parsing and writing ------------------------------------------------------------------

@pytest.mark.parametrize("name", params(ALL_SCRIPTS))
def test_parse_every_prosody_script(name):
    script = load_script(script_path(name))
    assert script.name == name and script.clients
    assert script.steps and script.steps[0].action is Action.CONNECTS
    lines = [s.line for s in script.steps]
    assert lines == sorted(lines)
    for step in script.steps:
        assert step.actor in script.characters
        has_xml = step.action in (Action.SENDS, Action.RECEIVES) and not step.nothing
        assert (step.element is not None) == has_xml, step
        if has_xml:  # namespaces default to jabber:client
            assert step.element.tag.startswith("{jabber:client}"), step


def test_parse_details_of_prosody_scripts():
    message = load_script(script_path("basic_message"))
    assert list(message.clients) == ["Romeo", "Juliet", "Juliet's phone"]
    assert message.clients["Juliet's phone"].resource == "mobile"
    assert message.title == "Basic message routing and delivery"
    step = next(s for s in message.steps if s.actor == "Juliet's phone" and s.action is Action.SENDS)
    assert step.comments == ("Juliet sends presence on her phone, and should receive the message there",)
    delay = message.steps[12].element.find("{urn:xmpp:delay}delay")
    assert delay.get("stamp") == ANY
    # issue1121 writes "Romeo sends" without the colon
    issue = load_script(script_path("issue1121"))
    assert [s.action for s in issue.steps[:3]] == [Action.CONNECTS, Action.SENDS, Action.RECEIVES]
    assert issue.steps[2].element.get("from") == "${Romeo's full JID}"
    # a resource in the jid, and the bare JID of a character
    keep = load_script(script_path("keep_full_sub_req"))
    assert keep.clients["Bob's phone"].resource == "phone"
    assert keep.clients["Bob's phone"].bare_jid == "pars-b@localhost"
    destroy = load_script(script_path("muc_create_destroy"))
    assert destroy.trailer == ["recording ended on 2019-08-31T13:45:32Z"]
    note = destroy.steps[-2].element.find(".//{http://jabber.org/protocol/commands}note")
    assert note.text == "The following rooms were destroyed:\nelsewhere@conference.localhost"


@pytest.mark.parametrize("name", params(ALL_SCRIPTS))
def test_writer_round_trip(name):
    script = load_script(script_path(name))
    text = script.to_text()
    again = parse_script(text, name=name)
    assert again == script  # same characters and steps (step equality compares the XML)
    assert again.steps == script.steps
    assert [s.comments for s in again.steps] == [s.comments for s in script.steps]
    assert (again.title, again.description, again.trailer) == (script.title, script.description, script.trailer)
    assert again.to_text() == text  # writing is stable


def test_writer_format():
    script = parse_script(textwrap.dedent("""\
        # A title
        # more words

        [Client] Romeo
        \tjid: romeo@localhost
        \tpassword: password

        ---

        # say hello
        Romeo connects
        Romeo sends: <message to="${Romeo's JID}"><body>a &amp; b&#10;c</body></message>
        Romeo receives: nothing
        Romeo receives:
        \t<iq type="result" id="x"><query xmlns="jabber:iq:version" scansion:strict="false"/></iq>
        """))
    assert script.to_text() == textwrap.dedent("""\
        # A title
        # more words

        [Client] Romeo
        \tjid: romeo@localhost
        \tpassword: password

        -----

        # say hello
        Romeo connects

        Romeo sends:
        \t<message to="${Romeo's JID}">
        \t\t<body>a &amp; b&#10;c</body>
        \t</message>

        Romeo receives: nothing

        Romeo receives:
        \t<iq type='result' id='x'>
        \t\t<query xmlns='jabber:iq:version' scansion:strict='false'/>
        \t</iq>
        """)
    assert parse_script(script.to_text()) == script


@pytest.mark.parametrize("text, message", [
    ("[Client] A\n\tjid: a@localhost\n", "no '---' line separates"),
    ("---\nA connects\n", "line 1: no characters"),
    ("[Client] A\n\tjid: a@l\n---\nB connects\n", "line 4: 'B connects' does not start with a declared character (A)"),
    ("[Client] A\n\tjid: a@l\n---\nA dances\n", "line 4: unknown action 'A dances'"),
    ("[Client] A\n\tjid: a@l\n---\nA sends:\n\n", "line 4: 'A sends:' has no XML below it"),
    ("[Client] A\n\tjid: a@l\n---\nA sends:\n\t<presence>\n", "line 4: the XML is not well-formed"),
    ("[Client] A\n\tjid: a@l\n---\nA sends:\n\t<a/>\n\t<b/>\n", "line 4: expected one XML element, found 2"),
    ("[Client] A\n\tjid: a@l\n---\n\t<presence/>\n", "line 4: indented text outside"),
    ("[Client] A\n[Client] A\n---\n", "line 2: [Client] A is declared twice"),
    ("[Client] A\n---\nA sends:\n\t<!DOCTYPE x><x/>\n", "DTDs and entity declarations are not allowed"),
])
def test_parse_errors_name_the_line(text, message):
    with pytest.raises(ScriptError) as info:
        parse_script(text, name="t")
    assert message in str(info.value)


# --- matching ---------------------------------------------------------------------------------

def x(text):
    return parse_xml(text)


def diffs(expected, got):
    return [str(d) for d in compare(x(expected), x(got))]


def test_stanzas_are_matched_loosely_payloads_strictly():
    # jabber:client elements: extra attributes and children are fine, order does not matter
    assert matches(x("<message type='chat'><body>hi</body></message>"),
                   x("<message type='chat' id='1' xml:lang='en'><thread>t</thread><body>hi</body></message>"))
    assert matches(x("<message><subject/><body>b</body></message>"),
                   x("<message><body>b</body><subject>s</subject></message>"))  # no text expected: any
    # a payload (own namespace) is strict: attributes both ways, children in order, text equal
    assert diffs("<iq><query xmlns='jabber:iq:roster'/></iq>", "<iq><query xmlns='jabber:iq:roster' ver='2'/></iq>") \
        == ["iq/query: unexpected attribute ver='2' (strict match)"]
    assert diffs("<iq><query xmlns='q'><a/><b/></query></iq>", "<iq><query xmlns='q'><b/><a/></query></iq>") \
        == [("iq/query: children are <b/>, <a/>; expected <a/>, <b/> (strict match: the same children in the "
             "same order)")]
    assert diffs("<message><delay xmlns='urn:xmpp:delay'/></message>",
                 "<message><delay xmlns='urn:xmpp:delay'>Offline Storage</delay></message>") \
        == ["message/delay: text is 'Offline Storage', expected none (strict match)"]


def test_scansion_strict_overrides_the_default():
    loose = "<iq><query xmlns='d' scansion:strict='false'><feature var='a'/></query></iq>"
    assert matches(x(loose), x("<iq><query xmlns='d' node='n'><feature var='z'/><feature var='a'/></query></iq>"))
    # the children of a loose payload are still strict themselves (their own namespace)
    assert diffs(loose, "<iq><query xmlns='d'><feature var='a' extra='1'/></query></iq>") \
        == ["iq/query/feature: unexpected attribute extra='1' (strict match)"]
    strict = "<message scansion:strict='true'><body>x</body></message>"
    assert diffs(strict, "<message id='1'><body>x</body></message>") \
        == ["message: unexpected attribute id='1' (strict match)"]
    # version.scs: <version scansion:strict='false'/> accepts any version text
    assert matches(x("<query xmlns='jabber:iq:version'><name>P</name><version scansion:strict='false'/></query>"),
                   x("<query xmlns='jabber:iq:version'><name>P</name><version>13.0</version></query>"))


def test_wildcards():
    assert matches(x("<iq id='{scansion:any}' type='set'/>"), x("<iq id='push-7' type='set'/>"))
    assert diffs("<iq id='{scansion:any}'/>", "<iq/>") == ["iq: attribute id is missing (expected '{scansion:any}')"]
    assert matches(x("<message><body>{scansion:any}</body></message>"), x("<message><body>whatever</body></message>"))
    # inside a longer value it stands for any run of characters (an xmpplab extension)
    assert matches(x("<presence from='room@muc.localhost/{scansion:any}'/>"),
                   x("<presence from='room@muc.localhost/x'/>"))
    assert not matches(x("<presence from='room@muc.localhost/{scansion:any}'/>"), x("<presence from='other@x/y'/>"))


def test_variables_are_expanded_before_matching():
    variables = {"Romeo's full JID": "romeo@localhost/orchard", "Juliet's phone's JID": "juliet@localhost"}
    assert expand("${Juliet's phone's JID}/mobile", variables) == "juliet@localhost/mobile"
    expected = expand_element(x("<message from=\"${Romeo's full JID}\"><body>${Romeo's full JID}</body></message>"),
                              variables)
    assert matches(expected,
                   x("<message from='romeo@localhost/orchard'><body>romeo@localhost/orchard</body></message>"))
    with pytest.raises(UnknownVariable, match=r"\$\{Tybalt's JID\} has no value here"):
        expand("${Tybalt's JID}", variables)


def test_a_near_miss_reads_well():
    expected = ("<iq type='result' id='lx2' from='localhost'><query xmlns='jabber:iq:version' scansion:strict='true'>"
                "<name>Prosody</name><version scansion:strict='false'/></query></iq>")
    got = ("<iq type='result' id='lx2' from='localhost' to='romeo@localhost/r'><query xmlns='jabber:iq:version'>"
           "<name>xmpplab</name><version>0.1.0</version><os>Linux</os></query></iq>")
    assert diffs(expected, got) == [
        ("iq/query: children are <name/>, <version/>, <os/>; expected <name/>, <version/> (strict match: the same "
         "children in the same order)")]
    got = got.replace("<os>Linux</os>", "")
    assert diffs(expected, got) == ["iq/query/name: text is 'xmpplab', expected 'Prosody'"]
    assert diffs("<presence type='unavailable'/>", "<message/>") == ["presence: expected <presence/>, got <message/>"]
    assert diffs("<message><x xmlns='muc#user'/></message>", "<message><body/></message>") \
        == ["message/x: <x xmlns='muc#user'/> is missing"]
    assert diffs("<iq><q xmlns='d' scansion:strict='false'><f var='a'/></q></iq>",
                 "<iq><q xmlns='d'><f var='b'/><f var='c'/></q></iq>") \
        == ["iq/q/f: none of the 2 received <f/> matches <f var='a'/>"]


# --- running against the lab server -----------------------------------------------------------

@pytest.mark.parametrize("name", CORE)
async def test_core_prosody_scripts_pass_on_the_lab_server(name):
    result = await run_on_lab(load_script(script_path(name)), stop_on_failure=False)
    known = KNOWN_DIFFERENCES.get(name)
    if known and not result.passed:
        found = [str(d) for r in result.failures for d in r.differences]
        assert found == known and len(result.failures) == 1, result.report()
        pytest.xfail(f"{name}: known difference of the lab server: {'; '.join(known)}")
    assert result.passed, result.report()


async def test_version_differs_exactly_on_the_software_name():
    result = await run_on_lab(load_script(script_path("version")), stop_on_failure=False)
    assert [r.status for r in result.steps] == [Status.PASSED, Status.PASSED, Status.FAILED, Status.PASSED]
    failed = result.first_failure
    assert [str(d) for d in failed.differences] == ["iq/query/name: text is 'xmpplab', expected 'Prosody'"]
    assert failed.step.line == 18
    assert result.summary() == ("failed at step 3, line 18 (Romeo receives:): "
                                "iq/query/name: text is 'xmpplab', expected 'Prosody'")
    report = result.report()
    assert "expected:\n\t<iq id='lx2' from='localhost' type='result'>" in report
    assert "\t\t\t<name>xmpplab</name>" in report


# The MUC scripts run in tests/test_muc_scansion.py.


# --- runner semantics on small scripts ----------------------------------------------------------

TWO = textwrap.dedent("""\
    [Client] Romeo
    \tjid: romeo@localhost/orchard
    \tpassword: pw
    [Client] Juliet
    \tjid: juliet@localhost
    \tpassword: pw
    -----
""")


def two(steps: str) -> Script:
    return parse_script(TWO + textwrap.dedent(steps), name="inline")


async def test_receives_nothing_and_variables():
    result = await run_on_lab(two("""\
        Romeo connects
        Juliet connects
        Juliet receives: nothing
        Romeo sends:
        \t<message to="${Juliet's full JID}"><body>hi</body></message>
        Juliet receives:
        \t<message from="${Romeo's full JID}" to="${Juliet's full JID}"><body>hi</body></message>
        Romeo receives: nothing
        Romeo disconnects
        Romeo disconnects
        """), quiet=0.2)
    assert result.passed, result.report()
    assert result.steps[0].message == "bound romeo@localhost/orchard"
    assert result.steps[-1].message == "already disconnected"


async def test_earlier_stanzas_are_skipped_like_scansion_unless_exact():
    script = two("""\
        Romeo connects
        Romeo sends:
        \t<presence/>
        Romeo sends:
        \t<iq type='get' id='v1' to='localhost'><query xmlns='jabber:iq:version'/></iq>
        Romeo receives:
        \t<iq type='result' id='v1'/>
        """)
    result = await run_on_lab(script)
    assert result.passed, result.report()
    assert [len(r.skipped) for r in result.steps] == [0, 0, 0, 1]  # the presence echo came first
    assert "skipped 1 earlier stanza" in result.table()
    exact = await run_on_lab(script, exact_sequence=True)
    assert exact.summary() == ("failed at step 4, line 13 (Romeo receives:): iq: expected <iq/>, got <presence/>")


async def test_errors_and_failures_are_reported_per_step():
    result = await run_on_lab(two("""\
        Romeo sends:
        \t<presence/>
        """))
    assert result.status is Status.ERROR
    assert result.summary() == ("error at step 1, line 8 (Romeo sends:): Romeo has not connected "
                                "(a 'Romeo connects' step must come first)")
    result = await run_on_lab(two("""\
        Romeo connects
        Romeo sends:
        \t<message to="${Tybalt's JID}"/>
        Romeo disconnects
        """))
    assert result.first_failure.status is Status.ERROR
    assert "${Tybalt's JID} has no value here" in result.first_failure.message
    assert [r.status for r in result.steps] == [Status.PASSED, Status.ERROR, Status.NOT_RUN]
    result = await run_on_lab(two("""\
        Romeo connects
        Romeo receives:
        \t<message/>
        """), timeout=0.2)
    assert result.summary() == "failed at step 2, line 9 (Romeo receives:): nothing arrived within 0.2 s"
    assert repr(result) == f"<RunResult inline: {result.summary()}>"


async def test_login_failure_is_an_error_step():
    script = parse_script("[Client] Romeo\n\tjid: romeo@localhost\n\tpassword: wrong\n---\nRomeo connects\n", "x")
    async with Server(["localhost"]) as srv:
        srv.accounts.add("romeo@localhost", "right")
        result = await run_script(script, "127.0.0.1", srv.port)
    assert result.summary().startswith("error at step 1, line 5 (Romeo connects): SASL failed: not-authorized")


async def test_accounts_may_be_an_async_function_and_runs_can_be_recorded():
    created = []
    recorder = MemoryRecorder()
    async with Server(["localhost"]) as srv:
        async def add(jid, password):
            created.append(jid)
            srv.accounts.add(jid, password)

        result = await run_script(two("Romeo connects\nJuliet connects\nJuliet disconnects\n"), "127.0.0.1",
                                  srv.port, accounts=add, recorder=recorder)
    assert result.passed, result.report()
    assert created == ["romeo@localhost", "juliet@localhost"]
    conns = Transcript.from_events(recorder.events, recorded_by="xmpplab scansion runner").connections
    assert [c.jid.split("/")[0] for c in conns.values()] == ["romeo@localhost", "juliet@localhost"]
    assert all(c.role == "initiating" and c.closed for c in conns.values())


def test_summary_table():
    script = parse_script(TWO + "Romeo connects\n", "a")
    from xmpplab.scansion.runner import RunResult, StepResult
    ok = RunResult(script, [StepResult(1, script.steps[0], Status.PASSED)], "127.0.0.1:1")
    bad = RunResult(script, [StepResult(1, script.steps[0], Status.ERROR, "no | way")], "127.0.0.1:1")
    assert summary_table({"a": ok, "b": bad}).splitlines() == [
        "| script | result | why |", "|---|---|---|", "| a | passed | 1 steps |",
        "| b | error | step 1, line 8 (Romeo connects): no &#124; way |"]


# --- recordings become scripts ---------------------------------------------------------------------

async def converse(port: int, recorder=None):
    """Romeo and Juliet: presence, roster (with a push whose id the server makes up), subscription, a message."""
    romeo = await RawClient.connect("127.0.0.1", port, recorder=recorder)
    await romeo.login("romeo@localhost/orchard", "pw1")
    juliet = await RawClient.connect("127.0.0.1", port, recorder=recorder)
    await juliet.login("juliet@localhost", "pw2")
    for c in (romeo, juliet):
        await c.send("<presence/>")
        await c.recv()
    await romeo.request("<iq type='get' id='roster1'><query xmlns='jabber:iq:roster'/></iq>")
    await romeo.send("<iq type='set' id='add1'><query xmlns='jabber:iq:roster'>"
                     "<item jid='juliet@localhost'/></query></iq>")
    await romeo.recv()
    await romeo.recv()
    await romeo.send("<presence to='juliet@localhost' type='subscribe'/>")
    await juliet.recv()
    await juliet.send("<presence to='romeo@localhost' type='subscribed'/>")
    await romeo.send(f"<message to='{juliet.jid}' type='chat' id='m1'><body>Hello</body></message>")
    while True:
        el = await juliet.recv()
        if el.findtext("{jabber:client}body") == "Hello":
            break
    await juliet.request("<iq type='get' id='ping1' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>")
    await romeo.close()
    await juliet.close()


@pytest.mark.parametrize("side", ["client", "server"])
async def test_a_recorded_session_replays_as_a_script(side):
    client_rec, server_rec = MemoryRecorder(), MemoryRecorder()
    async with Server(["localhost"], recorder=server_rec) as srv:
        srv.accounts.add("romeo@localhost", "pw1")
        srv.accounts.add("juliet@localhost", "pw2")
        await converse(srv.port, client_rec)
    recording = client_rec.events if side == "client" else Transcript.from_events(server_rec.events)
    script = script_from_recording(recording, passwords={"romeo@localhost": "pw1", "juliet@localhost": "pw2"})
    assert list(script.clients) == ["Romeo", "Juliet"]
    assert script.clients["Romeo"].jid == "romeo@localhost/orchard"  # the resource it asked for
    assert script.clients["Juliet"].jid == "juliet@localhost"        # the server chose one
    text = script.to_text()
    assert "Romeo sends:\n\t<presence/>" in text
    assert "<presence from=\"${Juliet's full JID}\"/>" in text  # Juliet's own echo, 'to' dropped
    assert "<iq type='set' id='{scansion:any}'>" in text         # a roster push: the server chose the id
    assert "<iq type='result' id='roster1'>" in text             # an answer keeps the client's id
    assert "ver='{scansion:any}'" in text
    assert "<message to=\"${Juliet's full JID}\" type='chat' id='m1'>" in text
    assert text.rstrip().endswith("Juliet disconnects")
    assert parse_script(text) == script
    async with Server(["localhost"]) as fresh:
        result = await run_script(parse_script(text), "127.0.0.1", fresh.port, accounts=fresh.accounts)
    assert result.passed, result.report()
    assert len(result.steps) == len(script.steps) > 20


async def test_recording_names_and_devices():
    rec = MemoryRecorder()
    async with Server(["localhost"]) as srv:
        srv.accounts.add("juliet@localhost", "pw")
        a = await RawClient.connect("127.0.0.1", srv.port, recorder=rec)
        await a.login("juliet@localhost/balcony", "pw")
        b = await RawClient.connect("127.0.0.1", srv.port, recorder=rec)
        await b.login("juliet@localhost/phone", "pw")
        await b.send("<presence/>")
        await b.recv()
        await a.close()
        await b.close()
    script = script_from_recording(rec, names={"juliet@localhost": "Jules"}, password="pw", title="Two devices")
    assert list(script.characters) == ["Jules", "Jules's phone"]
    assert script.title == "Two devices"
    assert [s.heading for s in script.steps] == [
        "Jules connects", "Jules's phone connects", "Jules's phone sends:", "Jules's phone receives:",
        "Jules disconnects", "Jules's phone disconnects"]


SAMPLES = Path(__file__).resolve().parents[1] / "sample_streams"


@pytest.mark.parametrize("sample, domain", [("romeo-login-plain-raw", "example.net"),
                                            ("juliet-login-starttls-scram", "example.com")])
async def test_sample_streams_replay_as_scripts(sample, domain):
    path = SAMPLES / f"{sample}.jsonl"
    if not path.exists():
        pytest.skip(f"{path} is missing")
    script = script_from_recording(path, password="secret")
    assert script.name == sample
    async with Server([domain]) as srv:
        result = await run_script(script, "127.0.0.1", srv.port, accounts=srv.accounts)
    assert result.passed, result.report()


# --- the runner against Prosody itself (checks the semantics against the scripts' own server) -------

#: Prosody 0.12 (Debian) passes these; disco_self needs a newer Prosody (0.12 lists no disco#info feature
#: for an account), and the MUC scripts need its MUC component (two are run here).
PROSODY_PASSES = ["basic", "basic_message", "basic_roster", "issue1121", "keep_full_sub_req",
                  "presence_preapproval", "version", "issue505", "muc_subject_issue_667"]


@pytest.mark.peer
@pytest.mark.parametrize("name", PROSODY_PASSES)
async def test_prosody_passes_its_own_scripts(name):
    from xmpplab.testing.prosody import ProsodyServer, prosody_path
    need_program("prosody", prosody_path() is not None, f"apt-get install prosody, or run {INSTALL_HINT}")
    script = load_script(script_path(name))
    async with ProsodyServer(domains=["localhost"], tls=False, extra_modules=("version",),
                             muc_component="conference.localhost", extra_config="hide_os_type = true") as prosody:
        async def register(jid, password):
            user, _, domain = jid.partition("@")
            await prosody.aregister(user, domain, password, exist_ok=True)

        result = await run_script(script, prosody.host, prosody.port, accounts=register)
    assert result.passed, result.report()
