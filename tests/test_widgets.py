"""The widgets against a live Lab, from Python: what they build, show and send, and that they stay live.

The same widgets in a real browser: tests/browser/test_widgets_in_browser.py.
"""

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

from tests.support_wait import until
from xmpplab.jid import JID, InvalidJID
from xmpplab.lab import Lab
from xmpplab.xml import XMLInputError, parse_fragment

SAMPLE = "sample_streams/juliet-login-starttls-scram.jsonl"


@pytest.fixture
async def lab():
    async with Lab.start() as lab:
        yield lab


@pytest.fixture
async def pair(lab):
    juliet = await lab.connect("juliet@example.com/balcony")
    romeo = await lab.connect("romeo@example.net/orchard")
    await juliet.next("presence")   # each client's own initial presence comes back first (RFC 6121 4.2.2)
    await romeo.next("presence")
    return lab, juliet, romeo


def same_xml(a: str, b: str) -> bool:
    def canon(text):
        return etree.tostring(parse_fragment(text), method="c14n")
    return canon(a) == canon(b)


def test_import_xmpplab_does_not_import_ipywidgets():
    code = ("import sys, xmpplab, xmpplab.widgets; assert 'ipywidgets' not in sys.modules, 'too early'; "
            "from xmpplab.widgets import Composer; assert 'ipywidgets' in sys.modules; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert out.stdout.strip() == "ok", out.stderr


# ====================================================================== composer
async def test_composer_builds_a_message_from_the_fields(pair):
    from xmpplab.widgets import Composer

    lab, juliet, _ = pair
    c = Composer(lab, to="romeo@example.net", body="Art thou <not> Romeo?", id="m1")
    assert c.client is juliet and c.kind == "message"
    assert same_xml(c.xml, "<message id='m1' to='romeo@example.net' type='chat'>"
                           "<body>Art thou &lt;not&gt; Romeo?</body></message>")
    assert c.problems == [] and c.warnings == []
    assert ">message</span>" in c.preview_html and "romeo@example.net" in c.preview_html
    assert "RFC 6121" in c.preview_html            # the explanation names its section
    assert "ready to send" in c.preview_html and not c.send_w.disabled
    c.close()


async def test_composer_builds_presence_and_iq(pair):
    from xmpplab.widgets import Composer

    lab, _, _ = pair
    c = Composer(lab)
    c.set(kind="presence", show="away", status="In the garden", priority=5, id="p1")
    assert same_xml(c.xml, "<presence id='p1'><show>away</show><status>In the garden</status>"
                           "<priority>5</priority></presence>")
    assert c.fields_box.children == tuple(c._fields["presence"])
    c.set(priority=300)
    assert any("-128 to 127" in w for w in c.warnings)
    c.set(kind="iq", type="get", to="example.com", payload="jabber:iq:roster", id="r1")
    assert same_xml(c.xml, "<iq id='r1' to='example.com' type='get'><query xmlns='jabber:iq:roster'/></iq>")
    c.set(payload="urn:xmpp:ping")
    assert same_xml(c.xml, "<iq id='r1' to='example.com' type='get'><ping xmlns='urn:xmpp:ping'/></iq>")
    c.close()


async def test_composer_explains_a_bad_address_in_the_jid_parsers_words(pair):
    from xmpplab.widgets import Composer

    lab, _, _ = pair
    with pytest.raises(InvalidJID) as bad:
        JID("juliet@@example.com")
    c = Composer(lab, to="juliet@@example.com", body="hi")
    assert any(bad.value.reason in w for w in c.warnings)
    assert "addressed to" not in c.preview_html      # no explanation that takes the bad address as valid
    assert bad.value.reason.replace("'", "&#x27;") in c.preview_html
    assert not c.send_w.disabled                   # sendable: the server's jid-malformed error is the lesson
    answer = await c.send()
    assert answer.reply is not None and answer.reply.type == "error"
    assert "jid-malformed" in answer.summary() and "jid-malformed" in c.answer_html
    c.close()


async def test_composer_explains_bad_xml_and_does_not_send_it(pair):
    from xmpplab.widgets import Composer

    lab, juliet, _ = pair
    c = Composer(lab)
    typed = "<message to='romeo@example.net'><body>hi</message>"
    with pytest.raises(XMLInputError) as bad:
        parse_fragment(typed)
    c.set(xml=typed)
    assert c.raw_mode and c.xml == typed
    assert len(c.problems) == 1 and str(bad.value) in c.problems[0]
    assert "&lt;body&gt; is still open" in c.preview_html
    assert c.send_w.disabled
    sent_before = len(juliet.events)
    with pytest.raises(ValueError, match="still open"):
        await c.send()
    assert len(juliet.events) == sent_before
    c.set(xml="<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
    assert "not a stanza" in c.problems[0] and c.send_w.disabled
    c.set(xml="<message to='romeo@example.net' from='tybalt@example.com'><body>hi</body></message>")
    assert any("invalid-from" in w for w in c.warnings)
    c.close()


async def test_composer_sends_an_iq_and_shows_the_result(pair):
    from xmpplab.widgets import Composer

    _, juliet, _ = pair
    c = Composer(juliet, kind="iq", to="example.com", payload="urn:xmpp:ping")
    sent_id = c.id_w.value
    answer = await c.send()
    assert answer.reply is not None and answer.reply.type == "result" and answer.reply.id == sent_id
    assert answer.request is not None and answer.request.type == "get"
    assert answer.summary() == "iq result from example.com"
    assert "received (the answer, S→C)" in c.answer_html and "XEP-0199" in c.answer_html
    assert c.id_w.value != sent_id                 # a fresh id for the next stanza
    c.set(payload="urn:example:nothing-here")
    answer = await c.send()
    assert answer.reply.type == "error" and "service-unavailable" in answer.summary()
    c.close()


async def test_composer_shows_the_delivery_and_leaves_the_inbox_alone(pair):
    from xmpplab.widgets import Composer

    lab, _, romeo = pair
    c = Composer(lab, to="romeo@example.net", body="Art thou not Romeo?")
    answer = await c.send()
    assert answer.reply is None
    delivered = [r for r in answer.received if r.jid == "romeo@example.net/orchard"]
    assert [r.item.name for r in delivered] == ["message"]
    assert delivered[0].item.from_ == "juliet@example.com/balcony"
    assert answer.summary() == "received by romeo@example.net/orchard"
    assert "Art thou not Romeo?" in c.answer_html and "delivered" in c.answer_html
    msg = await romeo.next("message")              # the composer only looked; romeo's client still has it
    assert msg["body"] == "Art thou not Romeo?"
    c.set(client="romeo@example.net", to="juliet@example.com", body="Call me but love")
    assert c.client is romeo
    answer = await c.send()
    assert answer.sender == "romeo@example.net/orchard"
    assert any(r.jid == "juliet@example.com/balcony" for r in answer.received)
    c.close()


async def test_composer_send_button_runs_in_the_loop_and_new_clients_appear(lab):
    from xmpplab.widgets import Composer

    c = Composer(lab)
    assert c.client is None and any("no client" in p.lower() for p in c.problems) and c.send_w.disabled
    juliet = await lab.connect("juliet@example.com/balcony")
    c.set(kind="iq", to="example.com", payload="urn:xmpp:ping")
    assert c.client is juliet and not c.send_w.disabled
    c.send_w.click()                               # what the browser's click does: a task in the Lab's loop
    await until(lambda: c.answer is not None, c.answer_w, what="the composer's answer")
    assert c.answer.reply.type == "result" and "last answer: iq result" in c.status_line_w.value
    c.close()
    assert c.closed and not c._bg.tasks


# ====================================================================== console
async def test_console_updates_live_when_a_stanza_flows(pair):
    from xmpplab.widgets import StreamConsole

    lab, juliet, romeo = pair
    console = StreamConsole(lab, throttle=0.05)
    before = console.renders
    assert "client → server" in console.html and "server → client" in console.html
    assert set(console.conns) == {"c2s-1", "c2s-2"}      # the server's side; the clients' copies are hidden
    await juliet.send_message("romeo@example.net", "Wherefore art thou")
    await romeo.next("message")
    await until(lambda: "Wherefore art thou" in console.html, console.view_w, what="the console redrawn")
    assert console.renders > before
    console.close()


async def test_console_filters_by_kind_and_connection(pair):
    from xmpplab.widgets import StreamConsole

    lab, juliet, romeo = pair
    await juliet.send_message("romeo@example.net", "by kind")
    await romeo.next("message")
    console = StreamConsole(lab, filters=["presence"])
    assert console.kinds == {"presence"}
    assert console.items() and all(i.name == "presence" for i in console.items())
    assert "by kind" not in console.html
    console.set_filters(kinds="message", conns=["c2s-2"])
    assert [(i.conn, str(i.direction)) for i in console.items()] == [("c2s-2", "S→C")]
    assert "by kind" in console.html
    console.kind_boxes["negotiation"].value = True  # a checkbox click redraws at once
    assert any(i.kind.value == "stream-open" for i in console.items()) and "stream header" in console.html
    console.close()


async def test_console_throttles_and_stops_when_closed(pair):
    from xmpplab.widgets import StreamConsole

    lab, juliet, romeo = pair
    console = StreamConsole(lab, filters="message", throttle=0.3)
    start = console.renders
    for n in range(10):
        await juliet.send_message("romeo@example.net", f"line {n}")
    for _ in range(10):
        await romeo.next("message")
    await until(lambda: "line 9" in console.html, console.view_w, what="the console redrawn")
    assert console.renders - start <= 5            # 20 message items, a few redraws (one per 0.3 s at most)
    console.close()
    renders = console.renders
    await juliet.send_message("romeo@example.net", "after close")
    await romeo.next("message")
    # nothing is left that could redraw it: no watcher on the transcript, no timer, no task
    assert not lab.transcript._watchers and not console._bg.timers and not console._bg.tasks
    assert console.renders == renders


async def test_console_of_one_client_and_pause(pair):
    from xmpplab.widgets import StreamConsole

    _, juliet, romeo = pair
    console = StreamConsole(romeo, filters="message", throttle=0.05)
    assert list(console.conns) == ["client-romeo-1"]
    console.pause_w.value = True
    await juliet.send_message("romeo@example.net", "while paused")
    await romeo.next("message")
    # the console has taken the message in from the client's recording, and drawn nothing
    await until(lambda: any("while paused" in i.text for i in console.transcript.items()), console.transcript,
                what="the message in the console's transcript")
    assert "while paused" not in console.html
    console.pause_w.value = False
    assert "while paused" in console.html
    console.close()


# ====================================================================== stepper
async def test_stepper_moves_and_highlights_the_path(pair):
    from xmpplab.widgets import StepperWidget

    lab, juliet, romeo = pair
    await juliet.send_message("romeo@example.net", "step by step")
    await romeo.next("message")
    w = StepperWidget(lab, kinds="stanza")
    assert w.position == 0 and w.prev_w.disabled and not w.next_w.disabled
    sent = lab.transcript.first(kind="message", conn="c2s-1")
    w.seek(sent)
    assert w.slider_w.value == w.position + 1
    assert w.path.nodes == ["juliet@example.com/balcony", "example.com", "example.net", "romeo@example.net/orchard"]
    assert "<svg" in w.graph_html and "#d32f2f" in w.graph_html       # the path, drawn in red
    assert "1 balcony → 2 example.com → 3 example.net → 4 orchard" in w.graph_html
    assert "step by step" in w.current_html and "RFC 6121" in w.current_html
    assert 'class="xmpplab-current"' in w.strip_w.value
    current_row = w.strip_w.value.split('class="xmpplab-current"')[1].split("</div></div>")[0]
    assert "message chat" in current_row
    w.next()                                                         # the delivery to romeo: the same path
    assert w.item.conn == "c2s-2" and w.path.nodes[-1] == "romeo@example.net/orchard"
    w.slider_w.value = 1                                             # the slider moves the stepper
    assert w.position == 0 and "bind" in w.header_text
    w.seek(-1)
    assert w.next_w.disabled and w.next() is w.step
    assert w.find(kind="message", direction="C→S").item is sent
    with pytest.raises(LookupError, match="none of the"):
        w.find(kind="message", type="headline")
    w.close()


async def test_stepper_jumps_to_the_answer_and_reloads(pair):
    from xmpplab.widgets import StepperWidget

    lab, juliet, _ = pair
    w = StepperWidget(lab, kinds="stanza")
    assert w.item.name == "iq" and w.item.type == "set"              # resource binding
    assert not w.reply_w.disabled
    w.reply_w.click()
    assert w.item.type == "result" and not w.prompt_w.disabled
    w.prompt_w.click()
    assert w.item.type == "set"
    n = len(w)
    await juliet.iq("<iq type='get' to='example.com'><ping xmlns='urn:xmpp:ping'/></iq>")
    w.reload_w.click()
    assert len(w) == n + 2 and w.item.type == "set"
    w.close()


def test_stepper_over_a_recording_without_a_lab():
    from xmpplab.widgets import StepperWidget

    w = StepperWidget(SAMPLE)
    assert w.item.kind.value == "stream-open" and w.path is None
    assert "stays on that one connection" in w.graph_html
    assert "stream header" in w.current_html
    w.close()


# ====================================================================== board
async def test_board_shows_subscription_changes_and_presence_live(pair):
    from xmpplab.widgets import RosterBoard

    lab, juliet, romeo = pair
    board = RosterBoard(lab, interval=0.05)
    assert board.rows() == []
    assert board.presence() == {"juliet@example.com/balcony": "available", "romeo@example.net/orchard": "available"}
    assert "no contacts yet" in board.html
    await romeo.subscribe("juliet@example.com")
    await until(lambda: "none + pending out" in board.rows().__repr__(), lab, what="the pending subscription")
    rows = {(r["account"], r["contact"]): r for r in board.rows()}
    assert rows["romeo@example.net", "juliet@example.com"]["state"] == "none + pending out"
    assert rows["juliet@example.com", "romeo@example.net"]["state"] == "none + pending in"
    await until(lambda: "pending out" in board.html, board.view_w)   # redrawn by itself
    await juliet.approve("romeo@example.net")
    await until(lambda: "juliet sees" not in board.html and "romeo sees juliet" in board.html, board.view_w)
    rows = {(r["account"], r["contact"]): r for r in board.rows()}
    assert rows["romeo@example.net", "juliet@example.com"]["state"] == "to"
    assert rows["romeo@example.net", "juliet@example.com"]["sees"] is True
    assert rows["juliet@example.com", "romeo@example.net"]["state"] == "from"
    await juliet.send_presence(show="away", status="In the garden")
    await until(lambda: "In the garden" in board.html, board.view_w)
    assert board.presence()["juliet@example.com/balcony"] == "away: “In the garden”"
    assert rows["romeo@example.net", "juliet@example.com"]["contact_presence"] == "available"
    assert board.rows()[1]["contact_presence"].startswith("away")     # romeo sees juliet away
    await juliet.disconnect()
    await until(lambda: board.presence().get("juliet@example.com") == "offline", lab, what="juliet offline")
    await until(lambda: "○ offline" in board.html, board.view_w)
    board.close()
    assert not board._bg.tasks


async def test_board_stops_with_the_lab():
    from xmpplab.widgets import RosterBoard

    lab = await Lab.start()
    await lab.connect("juliet@example.com/balcony")
    board = RosterBoard(lab, interval=0.05)
    assert "juliet@example.com" in board.html
    await lab.stop()
    await until(lambda: "The Lab has stopped" in board.html, board.view_w)
    await asyncio.wait_for(asyncio.gather(*board._bg.tasks, return_exceptions=True), 5)  # its poller ends
    assert not board._bg.tasks
    board.close()


# ====================================================================== the browser test's notebook
DEMO = Path(__file__).resolve().parent / "browser" / "widgets_demo.ipynb"


def test_widgets_demo_notebook_is_clean_and_runs_in_a_kernel():
    """The notebook the browser test opens: committed without outputs, and it runs in a real kernel
    (widgets created over comms) without errors, also where there is no browser."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(DEMO, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), "clear the outputs of widgets_demo.ipynb"
    NotebookClient(nb, timeout=60, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(DEMO.parent)}}).execute()
    errors = [f"{o.ename}: {o.evalue}" for c in code for o in c.outputs if o.output_type == "error"]
    assert errors == []
    views = [o for c in code for o in c.outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert len(views) == 4                          # composer, console, stepper, board
