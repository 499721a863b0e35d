"""The stanza composer: fill in a message, presence or iq (or type the XML), see it, send it, see the answer.

In a notebook cell::

    from xmpplab.widgets import Composer
    lab = await xmpplab.Lab.start()
    juliet = await lab.connect("juliet@example.com/balcony")
    romeo = await lab.connect("romeo@example.net/orchard")
    composer = Composer(lab)          # or Composer(juliet), Composer([juliet, romeo])
    composer                          # the form, the live preview, Send, and the answer below

From Python (tests, scripts), the same state::

    composer.set(kind="iq", type="get", to="example.com", payload="urn:xmpp:ping")
    composer.xml              # "<iq id=\"c1\" to=\"example.com\" type=\"get\"><ping xmlns=\"urn:xmpp:ping\"/></iq>"
    composer.problems         # [] (what stops sending), composer.warnings (what the server will refuse)
    answer = await composer.send()
    answer.reply              # the iq result, as the client received it (an xmpplab transcript Item)

The preview is the XML exactly as it will be written on the stream,
highlighted, with a plain-language explanation and the RFC section; under it,
what is wrong in plain words: a bad address gives the reason the JID parser
found (RFC 7622), bad XML what the parser could not read. XML that is not a
stanza, or not well-formed, is not sent (it would end the stream); a stanza
the server will refuse (a malformed ``to``, an iq without a payload) is sent
with a warning, so you can see the server's error.

After Send, the composer shows what came back: for an iq get or set its
result or error (waiting up to ``iq_timeout`` seconds), for a message or a
presence whatever any of the Lab's clients received within ``wait``
seconds (the delivery to Romeo, an error bounced back to Juliet, presence
broadcast to contacts), each with its explanation.
"""

from __future__ import annotations

import asyncio
import itertools
import time

from ..render.palette import BORDER, FONT, GREEN, MUTED
from ..xml import STANZA_KINDS, element, serialize, split_qname, sub
from ._base import CSS, LiveWidget, W, box, esc, heading, is_client, is_lab, messages_html, widget_value
from .answer import Answer, Received, find_reply, mentions
from .stanza_check import IQ_TYPES, MESSAGE_TYPES, PRESENCE_TYPES, check_stanza, xml_problem  # noqa: F401 - re-exported

__all__ = ["PAYLOADS", "Answer", "Composer", "Received", "check_stanza"]

#: iq payloads offered in the form: namespace -> (element name, what it asks, in words)
PAYLOADS = {
    "urn:xmpp:ping": ("ping", "are you there? (XEP-0199 ping)"),
    "jabber:iq:roster": ("query", "the contact list (RFC 6121 §2 roster)"),
    "jabber:iq:version": ("query", "which software and version? (XEP-0092)"),
    "http://jabber.org/protocol/disco#info": ("query", "what do you support? (XEP-0030 disco#info)"),
    "http://jabber.org/protocol/disco#items": ("query", "what items do you have? (XEP-0030 disco#items)"),
    "vcard-temp": ("vCard", "a profile card (XEP-0054; not every server has it)"),
}

_ids = itertools.count(1)


# ====================================================================== the widget
class Composer(LiveWidget):
    """A form for one stanza, its live XML preview with problems explained, Send, and the answer.

    ``source`` is a Lab (its clients; new ones appear in the list), a Client or
    a list of Clients. Keyword arguments set the first values of the fields
    (see :meth:`set`). ``wait`` is how long to collect what arrives after a
    message or presence; ``iq_timeout`` how long to wait for an iq's answer.
    See the module docstring for an example.
    """

    def __init__(self, source, *, wait: float = 0.7, iq_timeout: float = 5.0, client=None, **values):
        super().__init__()
        self.source = source
        self.wait = wait
        self.iq_timeout = iq_timeout
        self.answer: Answer | None = None
        self._auto_id = self._new_id()
        self._updating = False
        self._start_background(getattr(source, "_loop", None))
        style = {"description_width": "5.5em"}
        wide = W.Layout(width="min(36em, 100%)")
        self.kind_w = W.Dropdown(options=list(STANZA_KINDS), value="message", description="stanza", style=style)
        self.client_w = W.Dropdown(description="send as", style=style, layout=wide)
        self.to_w = W.Text(description="to", placeholder="romeo@example.net", style=style, layout=wide)
        self.type_w = W.Dropdown(description="type", style=style)
        self.id_w = W.Text(description="id", value=self._auto_id, style=style, layout=wide,
                           placeholder="(none)")
        self.body_w = W.Textarea(description="body", placeholder="Art thou not Romeo?", style=style,
                                 layout=W.Layout(width="min(36em, 100%)", height="3.2em"))
        self.show_w = W.Dropdown(description="show", style=style,
                                 options=[("(none: plain available)", ""), ("chat: free to chat", "chat"),
                                          ("away", "away"), ("xa: extended away", "xa"),
                                          ("dnd: do not disturb", "dnd")])
        self.status_w = W.Text(description="status", placeholder="In the garden", style=style, layout=wide)
        self.priority_w = W.Text(description="priority", placeholder="0 (from -128 to 127)", style=style)
        self.payload_w = W.Combobox(description="payload", options=list(PAYLOADS), value="urn:xmpp:ping",
                                    placeholder="a namespace, e.g. urn:xmpp:ping", ensure_option=False,
                                    style=style, layout=wide)
        self.raw_mode_w = W.Checkbox(description="edit the XML by hand", value=False, indent=False)
        self.raw_w = W.Textarea(layout=W.Layout(width="98%", height="7em", display="none"),
                                placeholder="<message to='romeo@example.net' type='chat'><body>hi</body></message>")
        self.raw_w.add_class("xmpplab-mono")
        self.preview_w = W.HTML()
        self.send_w = W.Button(description="Send", button_style="success", icon="paper-plane",
                               tooltip="write this stanza on the chosen client's stream")
        self.send_w.add_class("xmpplab-send")
        self.status_line_w = W.HTML()
        self.answer_w = W.HTML(f'<div style="{FONT};font-size:12px;color:{MUTED}">Nothing sent yet: press Send, '
                               "and what comes back appears here.</div>")
        self.answer_w.add_class("xmpplab-answer")
        self.add_class("xmpplab-composer")
        self._fields = {
            "message": [self.to_w, self.type_w, self.id_w, self.body_w],
            "presence": [self.to_w, self.type_w, self.id_w, self.show_w, self.status_w, self.priority_w],
            "iq": [self.to_w, self.type_w, self.id_w, self.payload_w],
        }
        self.fields_box = W.VBox()
        self.children = [
            W.HTML(CSS + heading("Stanza composer", "fill in the form, or edit the XML by hand; then Send")),
            W.HBox([self.kind_w, self.client_w]),
            self.fields_box,
            self.raw_mode_w,
            self.raw_w,
            W.HTML(heading("Preview", "what will be written on the stream, C→S")),
            self.preview_w,
            W.HBox([self.send_w, self.status_line_w]),
            W.HTML(heading("Answer")),
            self.answer_w,
        ]
        self._refresh_clients(client)
        self._kind_changed(None)
        for w in (self.to_w, self.type_w, self.id_w, self.body_w, self.show_w, self.status_w, self.priority_w,
                  self.payload_w, self.raw_w, self.client_w):
            w.observe(self._changed, names="value")
        self.kind_w.observe(self._kind_changed, names="value")
        self.raw_mode_w.observe(self._raw_toggled, names="value")
        self.send_w.on_click(self._clicked)
        if values:
            self.set(**values)
        self._update()

    # ------------------------------------------------------------------ state from Python
    def set(self, *, kind: str | None = None, to: str | None = None, type: str | None = None,
            id: str | None = None, body: str | None = None, show: str | None = None, status: str | None = None,
            priority=None, payload: str | None = None, xml: str | None = None, client=None) -> Composer:
        """Fill in fields: ``composer.set(kind="presence", show="away", status="In the garden")``.

        ``xml`` switches to editing the XML by hand with that text; ``client``
        picks the sender (a Client or its JID). Returns the composer.
        """
        self._updating = True
        try:
            if kind is not None:
                if kind not in STANZA_KINDS:
                    raise ValueError(f"kind is message, presence or iq, not {kind!r}")
                self.kind_w.value = kind
                self._kind_changed(None)
            if client is not None:
                self._refresh_clients(client)
            for widget, value in ((self.to_w, to), (self.id_w, id), (self.body_w, body),
                                  (self.status_w, status), (self.payload_w, payload)):
                if value is not None:
                    widget.value = str(value)
            if priority is not None:
                self.priority_w.value = str(priority)
            if type is not None:
                options = [v for _, v in self.type_w.options]
                if type not in options:
                    self.type_w.options = [*self.type_w.options, (type, type)]
                self.type_w.value = type
            if show is not None:
                self.show_w.value = show
            if xml is not None:
                self.raw_mode_w.value = True
                self.raw_w.value = xml
        finally:
            self._updating = False
        self._update()
        return self

    kind = widget_value("kind_w", "The stanza kind chosen: message, presence or iq.")
    raw_mode = widget_value("raw_mode_w", "True when the XML is typed by hand instead of built from the form.")
    client = widget_value("client_w", "The client chosen to send (None when there is none).")

    @property
    def xml(self) -> str:
        """The XML that Send writes on the stream: built from the form, or as typed by hand."""
        return self.raw_w.value.strip() if self.raw_mode else self.form_xml()

    def form_xml(self) -> str:
        """The stanza the form describes, as it will appear on the stream."""
        kind = self.kind
        el = element(kind, {"id": self.id_w.value.strip() or None, "to": self.to_w.value.strip() or None,
                            "type": self.type_w.value or None})
        if kind == "message":
            if self.body_w.value:
                sub(el, "body", text=self.body_w.value)
        elif kind == "presence":
            if self.show_w.value:
                sub(el, "show", text=self.show_w.value)
            if self.status_w.value:
                sub(el, "status", text=self.status_w.value)
            if self.priority_w.value.strip():
                sub(el, "priority", text=self.priority_w.value.strip())
        else:
            ns = self.payload_w.value.strip()
            if ns:
                name = PAYLOADS.get(ns, ("query", ""))[0]
                sub(el, name, ns=ns)
        return serialize(el)

    def check(self) -> tuple[object, list[str], list[str]]:
        """(element, problems, warnings) of the current XML (see :func:`check_stanza`)."""
        client = self.client
        own = client.jid if client is not None and client.connected else None
        el, problems, warnings = check_stanza(self.xml, own)
        if client is None:
            problems = [*problems, ("There is no client to send from: connect one first, e.g. "
                                   "juliet = await lab.connect('juliet@example.com/balcony').")]
        elif not client.connected:
            problems = [*problems, f"{self._label(client)} is not connected, so it cannot send."]
        return el, problems, warnings

    @property
    def problems(self) -> list[str]:
        """What stops sending, in plain words (empty when Send will send)."""
        return self.check()[1]

    @property
    def warnings(self) -> list[str]:
        """What the server will refuse or what may surprise, in plain words (sending is still allowed)."""
        return self.check()[2]

    preview_html = widget_value("preview_w", "The preview as shown: highlighted XML, its explanation, problems "
                                             "and warnings.")
    answer_html = widget_value("answer_w", "What came back after the last send, as shown.")

    # ------------------------------------------------------------------ reacting to the form
    def _clients(self) -> list:
        src = self.source
        if is_lab(src):
            return list(src.clients)
        if is_client(src):
            return [src]
        return [c for c in src if is_client(c)]

    def _label(self, client) -> str:
        try:
            jid = str(client.jid) if client.connected else str(client.xmpp.boundjid.full)
        except Exception:  # noqa: BLE001 - a label must never fail
            jid = repr(client)
        return jid + ("" if client.connected else " (disconnected)")

    def _refresh_clients(self, wanted=None) -> None:
        clients = self._clients()
        options = [(self._label(c), c) for c in clients]
        current = wanted if wanted is not None else self.client_w.value
        if isinstance(current, str):
            current = next((c for c in clients if self._label(c).split(" ")[0] in (current,)
                            or str(c.jid.bare) == current), None)
            if current is None:
                raise ValueError(f"no client {wanted!r} here; there are: "
                                 f"{', '.join(self._label(c) for c in clients) or 'none'}")
        if [o[0] for o in self.client_w.options] != [o[0] for o in options] or \
                [o[1] for o in self.client_w.options] != [o[1] for o in options]:
            self.client_w.options = options
        if options:
            self.client_w.value = current if current in clients else clients[0]

    def _kind_changed(self, _change) -> None:
        kind = self.kind
        types = {"message": [(t, t) for t in MESSAGE_TYPES],
                 "presence": [("(none: available)", ""), *[(t, t) for t in PRESENCE_TYPES]],
                 "iq": [(t, t) for t in IQ_TYPES]}[kind]
        updating, self._updating = self._updating, True
        try:
            self.type_w.options = types
            self.type_w.value = types[0][1]
            self.fields_box.children = self._fields[kind]
            if kind == "iq" and not self.to_w.value:
                self.to_w.placeholder = "example.com (empty: your own account)"
            else:
                self.to_w.placeholder = "romeo@example.net" if kind == "message" else \
                    "(empty: to all who subscribed)"
        finally:
            self._updating = updating
        self._update()

    def _raw_toggled(self, change) -> None:
        if change["new"]:
            if not self.raw_w.value.strip():
                self.raw_w.value = self.form_xml()
            self.raw_w.layout.display = None
        else:
            self.raw_w.layout.display = "none"
        for w in (self.to_w, self.type_w, self.id_w, self.body_w, self.show_w, self.status_w, self.priority_w,
                  self.payload_w, self.kind_w):
            w.disabled = bool(change["new"])
        self._update()

    def _changed(self, _change) -> None:
        if not self._updating:
            self._update()

    def _update(self) -> None:
        """Redraw the preview and enable Send when nothing stops it."""
        if self.closed:
            return
        from ..render.explain import citation_links, explain
        from ..render.xmlview import xml_html

        self._refresh_clients()
        text = self.xml
        el, problems, warnings = self.check()
        parts = []
        if text:
            parts.append(xml_html(text, direction="C→S"))
        bad_address = any("is not a valid address" in w for w in warnings)
        if el is not None and not problems and not bad_address:   # an explanation would take the address as valid
            try:
                e = explain(text, direction="C→S")
                cites = f" ({citation_links(e.citations)})" if e.citations else ""
                parts.append(f'<div style="border-top:1px dotted {BORDER};padding-top:2px">{esc(e.text)}{cites}'
                             "</div>")
            except Exception as exc:  # noqa: BLE001 - the preview must never fail
                parts.append(f'<div style="color:{MUTED}">(no explanation: {esc(exc)})</div>')
        parts.append(messages_html(problems, warnings))
        if not problems and not warnings:
            parts.append(f'<div style="color:{GREEN};font-size:12px">✓ a well-formed '
                         f"{esc(split_qname(el.tag)[1])} stanza; ready to send</div>")
        self.preview_w.value = box("".join(parts), extra=f"border-left:4px solid {GREEN}")
        self.send_w.disabled = bool(problems)
        client = self.client
        self.send_w.tooltip = (f"write this stanza on {self._label(client)}'s stream" if client is not None
                               else "connect a client first")

    # ------------------------------------------------------------------ sending
    def _clicked(self, _button) -> None:
        self._bg.spawn(self._send_from_button())

    async def _send_from_button(self) -> None:
        self.send_w.disabled = True
        self.status_line_w.value = f'<span style="{FONT};color:{MUTED};margin-left:8px">sending…</span>'
        try:
            await self.send()
        except Exception as exc:  # noqa: BLE001 - shown in the widget, in words
            self.answer_w.value = box(messages_html([f"Not sent: {exc}"]))
        finally:
            self.status_line_w.value = (f'<span style="{FONT};color:{MUTED};margin-left:8px">'
                                        f"{'last answer: ' + esc(self.answer.summary()) if self.answer else ''}"
                                        "</span>")
            self._update()

    async def send(self) -> Answer:
        """Write the stanza on the chosen client's stream, wait for what comes back, show it; return it.

        Raises ValueError (in plain words) when something stops sending; a
        client error (disconnected...) is raised as it is.
        """
        client = self.client
        text = self.xml
        el, problems, _ = self.check()
        if problems:
            raise ValueError(" ".join(problems))
        kind = split_qname(el.tag)[1]
        stype = el.get("type")
        sid = el.get("id")
        clients = self._clients()
        marks = {id(c): len(c.events) for c in clients}
        sender = self._label(client)
        started = time.monotonic()
        self.answer_w.value = box(f'<span style="color:{MUTED}">sent; waiting for what comes back…</span>')
        await client.send_raw(text)
        want_reply = kind == "iq" and stype in ("get", "set")
        deadline = started + (self.iq_timeout if want_reply else self.wait)
        reply = None
        while True:
            await asyncio.sleep(0.05)
            if want_reply and sid and mentions(client.events[marks[id(client)]:], sid):
                reply = find_reply(client, marks[id(client)], kind, sid)
                if reply is not None:
                    break
            if time.monotonic() >= deadline:
                break
        waited = time.monotonic() - started
        received, request = [], None
        for c in clients:
            if len(c.events) <= marks[id(c)]:
                continue
            transcript = c.transcript
            for item in transcript.stanzas():
                if item.seq < marks[id(c)]:
                    continue
                if str(item.direction) == "S→C":
                    received.append(Received(self._label(c), item, transcript))
                elif c is client and request is None and item.name == kind and item.id == sid:
                    request = item
        mine = [r for r in received if r.jid == sender]
        if want_reply:
            reply = next((r.item for r in mine if r.item.name == "iq" and r.item.id == sid
                          and r.item.type in ("result", "error")), None)
        elif sid:
            reply = next((r.item for r in mine if r.item.name == kind and r.item.id == sid
                          and r.item.type == "error"), None)
        self.answer = Answer(text, sender, kind, sid, stype, received, reply, request, waited)
        self.answer_w.value = self.answer.html()
        if not self.raw_mode and self.id_w.value == self._auto_id:
            self._auto_id = self._new_id()
            self.id_w.value = self._auto_id
        return self.answer

    @staticmethod
    def _new_id() -> str:
        return f"c{next(_ids)}"

    def __repr__(self) -> str:
        client = self.client
        return f"<Composer {self.kind} from {self._label(client) if client else 'no client'}: {self.xml[:60]!r}>"
