"""Seeing it: the stream view, highlighted XML, object displays, paging and the byte cap, terminal, page.

The HTML is checked for what a learner must see, not only that something came
back: both column labels, green on client-to-server rows, escaped XML, masked
SASL data, collapsible stanzas, labelled negotiation steps, the pager.
"""

import html
import re
from pathlib import Path

import pytest

from xmpplab.jid import JID
from xmpplab.render import StreamView, stream_view
from xmpplab.render.display import Displayable, make_bundle, mimebundle
from xmpplab.render.stream_view import GREEN
from xmpplab.render.xmlview import XMLView, pretty_lines, xml_ansi, xml_html, xml_text
from xmpplab.transcript import Transcript

SAMPLES = Path(__file__).resolve().parent.parent / "sample_streams"
TAG = re.compile(r"<(/?)([A-Za-z][\w:.-]*)")


@pytest.fixture(scope="module")
def juliet():
    """STARTTLS, SCRAM-SHA-256 (proof and signature masked), bind, roster, a message to herself."""
    return Transcript.load(SAMPLES / "juliet-login-starttls-scram.jsonl")


@pytest.fixture(scope="module")
def romeo():
    """SASL PLAIN (the password masked), presence, ping, a chat message."""
    return Transcript.load(SAMPLES / "romeo-login-plain-raw.jsonl")


def big_transcript(n: int) -> Transcript:
    t0 = 1_800_000_000.0
    events = [{"t": t0, "conn": "c2s-1", "type": "open", "peer": "127.0.0.1:5000", "local": "127.0.0.1:5222",
               "kind": "c2s", "role": "receiving"},
              {"t": t0, "conn": "c2s-1", "type": "data", "dir": "in",
               "data": "<stream:stream to='example.com' xmlns='jabber:client' "
                       "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"},
              {"t": t0, "conn": "c2s-1", "type": "data", "dir": "out",
               "data": "<stream:stream from='example.com' id='s1' xmlns='jabber:client' "
                       "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"}]
    for i in range(n - 2):
        d = "in" if i % 2 == 0 else "out"
        events.append({"t": t0 + i / 1000, "conn": "c2s-1", "type": "data", "dir": d,
                       "data": f"<message to='romeo@example.net' type='chat' id='m{i}'><body>Wherefore art thou "
                               f"Romeo? {i}</body></message>"})
    return Transcript.from_events(events)


def html_tags(fragment: str) -> set[str]:
    return {m.group(2).lower() for m in TAG.finditer(fragment)}


# ------------------------------------------------------------------------------------ XML
def test_pretty_xml_keeps_the_wire_spelling_and_indents():
    text = xml_text("<iq type='get' id='r1'><query xmlns=\"jabber:iq:roster\"/></iq>")
    assert text == "<iq type='get' id='r1'>\n  <query xmlns=\"jabber:iq:roster\"/>\n</iq>"
    assert xml_text("<message><body>Hi  there</body></message>") == \
        "<message>\n  <body>Hi  there</body>\n</message>"
    header = xml_text("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
                      "to='example.com' version='1.0' xml:lang='en'>", width=60)
    assert header.splitlines()[0] == "<stream:stream" and "    to='example.com'" in header.splitlines()
    assert xml_text("\x16\x03\x01\x02") == "\\x16\\x03\\x01\\x02"  # a TLS ClientHello, made visible
    cut = pretty_lines("<a>" + "x" * 500 + "</a>", max_chars=100)
    assert "407 more characters not shown" in cut[-1][1][0][1]  # 507 - 100


def test_highlighted_xml_is_escaped_and_coloured_by_kind():
    out = xml_html("<message to='romeo@example.net'><body>a &amp; b <3</body></message>", direction="C→S")
    assert out.startswith("<pre ") and out.endswith("</pre>")
    assert html_tags(out) <= {"pre", "span"}               # no stanza tag leaks in as HTML
    assert "&lt;" in out and "&amp;amp;" in out
    assert '<span style="color:#116329;font-weight:600">message</span>' in out  # C→S names are green
    assert '<span style="color:#953800">to</span>' in out                       # attribute names
    assert "<span style=\"color:#0a3069\">'romeo@example.net'</span>" in out   # values
    assert "background:#f6f8fa" in out                     # its own light background: dark themes too
    s2c = xml_html("<message/>", direction="S→C")
    assert '<span style="color:#1f2328;font-weight:600">message</span>' in s2c  # S→C names are black
    masked = xml_html("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>[masked]</auth>")
    assert "background:#fff8c5" in masked and "[masked]" in masked


def test_ansi_xml_and_plain_text():
    colored = xml_ansi("<iq type='get'/>", direction="C→S")
    assert "\033[1;32miq\033[0m" in colored and "\033[36mtype\033[0m" in colored
    assert xml_ansi("<iq type='get'/>", color=False) == "<iq type='get'/>"
    assert XMLView("<presence/>")._repr_mimebundle_()["text/plain"] == "<presence/>"


# ------------------------------------------------------------------------------------ the display mixin
def test_display_mixin_computes_only_the_formats_asked_for():
    calls = []

    class Thing(Displayable):
        def _display_text(self):
            calls.append("text")
            return "a thing"

        def _display_html(self):
            calls.append("html")
            return "<b>a thing</b>"

    thing = Thing()
    assert thing._repr_mimebundle_(include=["text/plain"]) == {"text/plain": "a thing"}
    assert calls == ["text"]
    assert thing._repr_mimebundle_(exclude=["text/html"]) == {"text/plain": "a thing"}
    both = thing._repr_mimebundle_()
    assert both == {"text/plain": "a thing", "text/html": "<b>a thing</b>"}
    assert thing._repr_mimebundle_(include=["text/html"]).keys() == {"text/plain", "text/html"}  # plain always


def test_a_failing_renderer_never_breaks_the_notebook():
    def boom():
        raise ValueError("no luck")

    bundle = make_bundle({"text/plain": lambda: "plain <text>", "text/html": boom})
    assert "could not draw this view (ValueError: no luck)" in bundle["text/html"]
    assert "plain &lt;text&gt;" in bundle["text/html"]


# ------------------------------------------------------------------------------------ JID
def test_jid_shows_its_parts_in_colour_with_a_tooltip():
    b = JID("juliet@example.com/balcony")._repr_mimebundle_()
    assert b["text/plain"] == "JID('juliet@example.com/balcony')"
    out = b["text/html"]
    assert ">juliet</span>" in out and ">example.com</span>" in out and ">balcony</span>" in out
    assert "color:#0550ae" in out and "color:#116329" in out and "color:#8250df" in out  # three colours
    assert "full JID" in out and "the bare JID" in out and "RFC 7622" in out
    bare = JID("romeo@example.net")._repr_html_()
    assert "bare JID" in bare and "resource" not in re.sub(r"<[^>]+>", "", bare).split("bare JID")[1][:30]
    assert "domain JID" in JID("example.com")._repr_html_()
    assert "&lt;" not in JID("juliet@example.com")._repr_html_()


# ------------------------------------------------------------------------------------ the stream view
def test_stream_view_shows_both_columns_labelled_and_green_client_rows(juliet):
    out = juliet._repr_mimebundle_()["text/html"]
    assert "C→S" in out and "S→C" in out
    assert "client → server" in out and "server → client" in out
    assert f"border-left:4px solid {GREEN}" in out                # C→S rows are green...
    assert "border-left:4px solid #1f2328" in out                 # ...and S→C rows black
    # each row is labelled too, not only coloured
    assert out.count(f'background:{GREEN};color:#ffffff') >= 12
    assert html_tags(out) <= {"div", "span", "b", "details", "summary", "pre", "a", "br"}
    assert "<message" not in out and "<iq" not in out and "<stream:" not in out
    assert html.escape("<?xml version='1.0'?>", quote=False) in out or "&lt;?xml" in out


def test_negotiation_steps_are_labelled_and_restarts_marked(juliet):
    out = StreamView(juliet).html()
    for label in ("stream header", "stream features", "STARTTLS", "TLS proceed", "SASL auth", "SASL challenge",
                  "SASL response", "SASL success", "resource binding", "stream close"):
        assert f">{label}</span>" in out, label
    assert "TLS handshake here" in out and "authenticated: both streams restart" in out
    assert out.count("<details") == 25 and "<summary" in out      # every item collapsible
    assert "RFC 6120 §5.4.2.1" in out and "https://www.rfc-editor.org/rfc/rfc6120.html#section-5.4.2.1" in out
    assert "juliet asks her server for her contact list" in out  # explanations beside the XML
    assert "answers #" in out                                    # results point to their request


def test_sasl_credentials_stay_masked(romeo, juliet):
    out = StreamView(romeo).html()
    assert "[masked]" in out
    secret = next(romeo.items(name="auth")).reveal().text
    payload = re.search(r">([^<]+)</auth>", secret).group(1)
    assert payload not in out
    scram = StreamView(juliet).html()
    assert "p=[masked]" in scram and "v=[masked]" in scram        # decoded, still masked
    proof = next(juliet.items(name="response")).reveal().text
    assert re.search(r">([^<]+)</response>", proof).group(1) not in scram


def test_items_connections_and_selections_display_themselves(juliet):
    roster = juliet.first(kind="iq", namespace="jabber:iq:roster", direction="C→S")
    b = roster._repr_mimebundle_()
    assert b["text/plain"].startswith("<Item c2s-1#18 C→S stanza iq")
    assert "RFC 6121 §2.1.3" in b["text/plain"]
    assert "<details open>" in b["text/html"] and "RFC 6121 §2.1.3" in b["text/html"]
    assert "iq get" in b["text/html"] and "roster" in b["text/html"]
    conn = juliet["c2s-1"]
    assert "c2s-1 · c2s" in conn._repr_html_()
    assert conn._repr_mimebundle_()["text/plain"].startswith("<Connection c2s-1")
    sel = juliet.filter(kind="message")
    out = sel._repr_html_()
    assert "Selection of 2 items" in out and out.count("<details") == 2
    text = juliet._repr_mimebundle_(include=["text/plain"])["text/plain"]
    assert text.startswith("<Transcript") and "juliet@example.com/balcony" in text
    assert "C→S  starttls [STARTTLS]" in text


def test_problems_are_visible():
    t = Transcript.from_events([
        {"t": 1.0, "conn": "c2s-1", "type": "data", "dir": "in", "data": "\x16\x03\x01\x00\xa5\x01\x00"},
        {"t": 2.0, "conn": "c2s-2", "type": "data", "dir": "in",
         "data": "<stream:stream to='example.com' xmlns='jabber:client' "
                 "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'><!-- hi -->"},
    ])
    out = StreamView(t).html()
    assert ">problem</span>" in out and "border-left:4px solid #cf222e" in out
    assert "not XML" in out and "\\x16\\x03\\x01" in out
    assert "restricted-xml" in out


def test_paging_a_ten_thousand_stanza_transcript_stays_small():
    t = big_transcript(10_000)
    view = stream_view(t)
    assert view.total == 10_000 and view.pages == 50
    out = view.html()
    assert "showing 1–200 of 10,000 items (page 1 of 50)" in out
    assert "use view.page(2)" in out
    assert len(out.encode("utf-8")) < 1_000_000
    assert out.count("<details") == 200
    second = view.page(2)
    assert "showing 201–400 of 10,000" in second.html()
    last = view.page(-1)
    assert last.page_number == 50 and "showing 9,801–10,000 of 10,000" in last.html()
    assert "use view.page(1) for the first page" in last.html()


def test_the_html_of_one_output_is_capped_near_one_megabyte():
    t = big_transcript(10_000)
    view = StreamView(t, page_size=5_000)
    out = view.html()
    assert len(out.encode("utf-8")) <= 1_000_000
    assert 0 < view.shown < 5_000
    assert "stopped at about 1 MB of HTML" in out
    assert f"showing 1–{view.shown:,} of 10,000" in out
    bundle = t._repr_mimebundle_()
    assert sum(len(v.encode()) for v in bundle.values()) < 1_000_000


def test_views_of_several_connections_name_each_one(romeo):
    t = Transcript.from_rfc_text((SAMPLES / "rfc" / "subscription.txt").read_text())
    for order in ("auto", "connection"):  # in the order of time (the default), or one block each
        out = StreamView(t, order=order).html()
        for conn in ("c2s-user", "s2s-user", "c2s-contact", "s2s-contact"):
            assert f">{conn} · " in out
        assert "server to server: C→S is the initiating server" in out
    assert StreamView(t, conn="c2s-user").total == 6


# ------------------------------------------------------------------------------------ terminal
def test_terminal_view_labels_both_directions_and_respects_no_color(juliet, monkeypatch):
    from xmpplab.render.terminal import color_enabled, render_terminal

    plain = render_terminal(juliet, color=False, width=100)
    assert "\033[" not in plain
    assert " C→S starttls [STARTTLS]" in plain and " S→C proceed [TLS proceed]" in plain
    assert "↳ juliet asks her server for her contact list" in plain
    assert "[masked]" in plain and "TLS handshake here" in plain
    colored = render_terminal(juliet, color=True, width=100)
    assert "\033[32;1mC→S\033[0m" in colored                      # green C→S label
    wide = render_terminal(juliet, color=False, width=160, explanations=False)
    s2c_line = next(line for line in wide.splitlines() if "S→C proceed" in line)
    c2s_line = next(line for line in wide.splitlines() if "C→S starttls" in line)
    assert s2c_line.index("S→C") > c2s_line.index("C→S") + 40       # two columns side by side
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    assert color_enabled() is False
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert color_enabled() is True


# ------------------------------------------------------------------------------------ standalone page
def test_render_page_is_a_complete_standalone_document(juliet):
    from xmpplab.render import render_page

    page = render_page(juliet, title="juliet <logs> in")
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert '<meta charset="utf-8">' in page and "<title>juliet &lt;logs&gt; in</title>" in page
    assert "<script" not in page.lower()
    assert not re.search(r"<link\b", page, re.IGNORECASE)
    assert not re.search(r"""\b(?:src|href)\s*=\s*["']?(?:https?:)?//(?!www\.rfc-editor\.org|xmpp\.org)""", page)
    assert not re.search(r"""\bsrc\s*=""", page)                    # nothing to fetch at all
    assert "@import" not in page and not re.search(r"url\(\s*['\"]?(?:https?:)?//", page)
    assert 'id="streams"' in page and "juliet asks her server for her contact list" in page
    assert 'id="routing"' in page and 'id="sequence"' in page        # the graph and the chart (or text)
    assert "[masked]" in page


def test_render_command_writes_a_page(tmp_path, capsys):
    import argparse

    from xmpplab.render.cli import add_render_command, run_render_command

    parser = argparse.ArgumentParser()
    add_render_command(parser.add_subparsers(dest="command"))
    out = tmp_path / "page.html"
    args = parser.parse_args(["render", str(SAMPLES / "romeo-login-plain-raw.jsonl"), "-o", str(out),
                              "--title", "romeo"])
    assert run_render_command(args) == 0
    text = out.read_text(encoding="utf-8")
    assert "<title>romeo</title>" in text and "romeo pings his server" in text
    assert "wrote" in capsys.readouterr().err
    args = parser.parse_args(["render", str(SAMPLES / "rfc" / "subscription.txt"), "--text", "--no-color",
                              "--width", "100"])
    assert run_render_command(args) == 0
    assert "romeo asks to see juliet's presence" in capsys.readouterr().out
    args = parser.parse_args(["render", str(tmp_path / "missing.jsonl")])
    assert run_render_command(args) == 2
    assert "there is no file" in capsys.readouterr().err
    args = parser.parse_args(["render", str(SAMPLES / "romeo-login-plain-raw.jsonl"), "--conn", "nope"])
    assert run_render_command(args) == 2


# ------------------------------------------------------------------------------------ a live Lab and Client
async def test_lab_and_client_display_themselves():
    from xmpplab.lab import Lab

    async with Lab.start() as lab:
        juliet = await lab.connect("juliet@example.com/balcony")
        await juliet.send_message("juliet@example.com", "hello me")
        await juliet.next("message")
        c = juliet._repr_mimebundle_()
        assert c["text/plain"] == repr(juliet)
        assert ">juliet</span>" in c["text/html"] and ">balcony</span>" in c["text/html"]
        assert "connected" in c["text/html"] and "its XML streams" in c["text/html"]
        assert "hello me" in c["text/html"]
        lab_b = lab._repr_mimebundle_()
        assert lab_b["text/plain"].startswith("<xmpplab Lab")
        out = lab_b["text/html"]
        assert "example.com" in out and "example.net" in out and ">balcony</span>" in out
        assert "XML streams" in out and "C→S" in out
        listing, streams = out.split("XML streams (", 1)
        assert "client-juliet-1 · c2s" in listing                   # both recordings are listed...
        assert re.findall(r">([\w.:-]+) · c2s", streams) == ["c2s-1"]  # ...the streams shown once
        assert len(out.encode()) < 1_000_000
    assert "disconnected" in juliet._repr_html_() or "○" in juliet._repr_html_()


def test_mimebundle_of_an_unknown_object_is_plain_text():
    b = mimebundle(object())
    assert b["text/plain"].startswith("<object object")
    assert "could not draw" in b["text/html"]


def test_views_survive_a_real_kernel_and_nbconvert():
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nbconvert = pytest.importorskip("nbconvert")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "from xmpplab.transcript import Transcript\n"
        f"t = Transcript.load({str(SAMPLES / 'romeo-login-plain-raw.jsonl')!r})\nt"),
        nbformat.v4.new_code_cell("from xmpplab.jid import JID\nJID('juliet@example.com/balcony')")]
    nbclient.NotebookClient(nb, timeout=60, kernel_name="python3").execute()
    first = nb.cells[0].outputs[0]
    assert first.output_type == "execute_result" and {"text/html", "text/plain"} <= set(first.data)
    page, _ = nbconvert.HTMLExporter().from_notebook_node(nb)   # no kernel needed from here on
    assert "romeo pings his server" in page and "C→S" in page and ">balcony</span>" in page


async def test_a_client_card_shows_a_fresh_login_open_and_a_long_recording_folded():
    from xmpplab import Lab
    from xmpplab.render.cards import OPEN_UP_TO, client_html

    async with Lab.start() as lab:
        juliet = await lab.connect("juliet@example.com/balcony")
        card = '<details open style="margin-top:4px"><summary'
        assert card in client_html(juliet)  # chapter 02: the login, to read at once
        romeo = await lab.connect("romeo@example.net/orchard")
        for i in range(OPEN_UP_TO):
            await romeo.send_message("juliet@example.com/balcony", f"line {i}")
        await juliet.next("message", predicate=lambda m: m["body"] == f"line {OPEN_UP_TO - 1}")
        assert card not in client_html(juliet) and '<details style="margin-top:4px"><summary' in client_html(juliet)
