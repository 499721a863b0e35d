"""RFC example notation: read it into a transcript, write a transcript in it.

The XMPP RFCs show streams as blocks of XML, each led by who sends it::

   C: <stream:stream
        to='example.com'
        version='1.0'
        xmlns='jabber:client'
        xmlns:stream='http://etherx.jabber.org/streams'>

   S: <stream:features>
        <starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>
      </stream:features>

A block starts with a label and a colon; the lines after it that are indented
deeper than the label belong to it (a blank line inside a block is kept when
the next line is still indented). Everything else is prose and is skipped,
as are the page headers and footers of RFC text files. Labels:

=======  =====================================  ==========================================
label    who sends                              connection and direction
=======  =====================================  ==========================================
``C``    the client (RFC 6120)                  ``c2s-1`` C→S
``S``    the server                             ``c2s-1`` S→C
``I``    the initiating server (s2s)            ``s2s-1`` C→S
``R``    the receiving server (s2s)             ``s2s-1`` S→C
``UC``   the user's client (RFC 6121)           ``c2s-user`` C→S
``US``   the user's server                      ``c2s-user`` S→C, or ``s2s-user`` C→S when
                                                the stanza goes to the contact's domain
``CS``   the contact's server                   ``c2s-contact`` S→C, or ``s2s-contact`` C→S
                                                when the stanza goes to the user's domain
``CC``   the contact's client                   ``c2s-contact`` C→S
=======  =====================================  ==========================================

Server-to-server traffic is two connections, one each way, as RFC 6120
section 4 describes (each server sends on the stream it initiated), not one.
The user's and the contact's domains are read from the addresses (the user's
client writes to the contact, the contact's client to the user) or given as
``user_domain=`` and ``contact_domain=``.

Each block becomes one chunk of text, dedented to where the XML starts. Most
examples show no stream headers: those connections are marked ``headerless``
and parsed as if the stream were already open. Blocks whose prose says they
are an alternative (``Step 5 (alt):``) are skipped by default, since both
branches cannot happen on one stream. Times are the block numbers (0.0,
1.0, ...): the RFCs give none.

Writing goes the other way, one block per item of the parsed view (or per
chunk, ``by="chunk"``), labelled by the connection's labels, credentials
masked unless asked for. Whitespace between elements is not written.
"""

from __future__ import annotations

import re

from .model import Direction, ItemKind, TranscriptError
from .view import looks_like_header

_LABEL = re.compile(r"^(?P<indent>[ \t]*)(?P<label>UC|US|CS|CC|C|S|I|R):(?P<gap>[ \t]?)(?P<rest>.*)$")
_PAGE_FOOTER = re.compile(r"^\S.*\[Page \d+\]\s*$")
_PAGE_HEADER = re.compile(r"^RFC \d+\s.*\s(19|20)\d\d\s*$")
_ALT = re.compile(r"\(alt\)|\balternative(ly)?\b", re.IGNORECASE)
_ATTR = r"""\s{name}\s*=\s*(?:'([^']*)'|"([^"]*)")"""

_ROUTES = {  # label -> (connection, direction) when the block stays on the label's own c2s connection
    "C": ("c2s-1", Direction.C2S), "S": ("c2s-1", Direction.S2C),
    "I": ("s2s-1", Direction.C2S), "R": ("s2s-1", Direction.S2C),
    "UC": ("c2s-user", Direction.C2S), "US": ("c2s-user", Direction.S2C),
    "CC": ("c2s-contact", Direction.C2S), "CS": ("c2s-contact", Direction.S2C),
}
_S2S_ROUTES = {"US": ("s2s-user", Direction.C2S), "CS": ("s2s-contact", Direction.C2S)}
_CONN_LABELS = {
    "c2s-1": ("c2s", "C", "S"), "s2s-1": ("s2s", "I", "R"),
    "c2s-user": ("c2s", "UC", "US"), "c2s-contact": ("c2s", "CC", "CS"),
    "s2s-user": ("s2s", "US", "CS"), "s2s-contact": ("s2s", "CS", "US"),
}


def _first_tag_attr(text: str, name: str) -> str | None:
    m = re.match(r"\s*<[^\s>/]+(?:[^>]*?)" + _ATTR.format(name=re.escape(name)), text)
    return (m.group(1) if m.group(1) is not None else m.group(2)) if m else None


def _domain(jid: str | None) -> str | None:
    if not jid:
        return None
    return jid.split("/", 1)[0].rpartition("@")[2].lower() or None


def _has_local(jid: str | None) -> bool:
    return bool(jid) and "@" in jid.split("/", 1)[0]


def split_blocks(text: str, alternatives: str = "skip") -> tuple[list[tuple[str, str]], list[str]]:
    """``[(label, xml text), ...]`` and notes on what was skipped."""
    lines = [ln.rstrip("\r") for ln in text.replace("\f", "\n").split("\n")
             if not (_PAGE_FOOTER.match(ln) or _PAGE_HEADER.match(ln))]
    blocks, notes, prose = [], [], []
    i = 0
    while i < len(lines):
        m = _block_start(lines[i])
        if m is None:
            prose.append(lines[i].strip())
            i += 1
            continue
        label_col = len(m.group("indent").expandtabs())
        content_col = label_col + len(m.group("label")) + 1 + len(m.group("gap"))
        body = [m.group("rest")]
        i += 1
        while i < len(lines):
            line = lines[i].expandtabs()
            if _block_start(line):
                break
            if not line.strip():
                nxt = next((ln for ln in lines[i:] if ln.strip()), None)
                if nxt is None or _block_start(nxt) or _indent(nxt.expandtabs()) <= label_col:
                    break
                body.append("")
                i += 1
                continue
            if _indent(line) <= label_col:
                break
            body.append(line[min(content_col, _indent(line)):])
            i += 1
        xml = "\n".join(body).strip("\n")
        paragraph = " ".join(_last_paragraph(prose))
        prose = []
        if alternatives == "skip" and _ALT.search(paragraph):
            notes.append(f"skipped an alternative ({paragraph[:60]}...): {m.group('label')}: {xml[:40]}...")
            continue
        blocks.append((m.group("label"), xml))
    return blocks, notes


def _block_start(line: str):
    """A label, a colon and XML: ``   C: <stream:stream``."""
    m = _LABEL.match(line)
    return m if m and m.group("rest").lstrip().startswith("<") else None


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _last_paragraph(prose: list[str]) -> list[str]:
    out: list[str] = []
    for line in reversed(prose):
        if not line:
            if out:
                break
            continue
        out.insert(0, line)
    return out


def add_rfc_text(t, text: str, *, user_domain: str | None = None, contact_domain: str | None = None,
                 alternatives: str = "skip") -> None:
    """Add RFC example text to the (empty) transcript ``t`` (see the module docstring).

    ``alternatives="keep"`` keeps blocks whose prose calls them an alternative.
    """
    if alternatives not in ("skip", "keep"):
        raise TranscriptError(f"alternatives must be 'skip' or 'keep', not {alternatives!r}")
    blocks, notes = split_blocks(text, alternatives)
    if not blocks:
        raise TranscriptError("no example lines found: blocks start with 'C:', 'S:', 'I:', 'R:', "
                              "'UC:', 'US:', 'CS:' or 'CC:'")
    user_domain, contact_domain = _domains(blocks, user_domain, contact_domain)
    t.notes.extend(notes)
    first_text: dict[str, str] = {}
    routed = []
    for n, (label, xml) in enumerate(blocks):
        conn, direction = _ROUTES[label]
        to = _domain(_first_tag_attr(xml, "to"))
        if label == "US" and to and (to == contact_domain or (user_domain and to != user_domain)):
            conn, direction = _S2S_ROUTES["US"]
        elif label == "CS" and to and (to == user_domain or (contact_domain and to != contact_domain)):
            conn, direction = _S2S_ROUTES["CS"]
        first_text.setdefault(conn, xml)
        routed.append((float(n), conn, direction, xml))
    for n, conn, direction, xml in routed:
        if conn not in t.connections:
            kind, c_label, s_label = _CONN_LABELS[conn]
            t.add({"t": n, "conn": conn, "type": "open", "kind": kind, "role": "receiving",
                   "headerless": not looks_like_header(first_text[conn]),
                   "labels": {Direction.C2S.value: c_label, Direction.S2C.value: s_label}})
        t.add({"t": n, "conn": conn, "type": "data", "dir": direction.to_recorder("receiving"), "data": xml})


def _domains(blocks, user_domain, contact_domain):
    """Work out the user's and the contact's domains from the addresses in RFC 6121 examples."""
    def first(label, attr, exclude=None):
        for lab, xml in blocks:
            value = _first_tag_attr(xml, attr) if lab == label else None
            if _has_local(value) and _domain(value) != exclude:
                return _domain(value)
        return None
    contact_domain = contact_domain or first("UC", "to")
    user_domain = user_domain or first("CC", "to") or first("US", "from", contact_domain) or \
        first("UC", "from", contact_domain)
    contact_domain = contact_domain or first("CS", "from", user_domain)
    return (user_domain.lower() if user_domain else None, contact_domain.lower() if contact_domain else None)


def to_rfc_text(source, *, conn=None, reveal_credentials: bool = False, by: str = "item", margin: int = 3) -> str:
    """Write a transcript (or a selection, or a connection) in RFC example notation.

    ``by="item"`` writes one block per item of the parsed view, ``by="chunk"`` one per
    chunk as it crossed the wire (whitespace-only chunks, keepalives, are left out).
    When several connections use the same labels (two recorded clients are both
    ``C``/``S``), a line of prose names the connection each time it changes; the
    importer reads such lines as prose, so that round trip merges them.
    """
    if by not in ("item", "chunk"):
        raise TranscriptError(f"by must be 'item' or 'chunk', not {by!r}")
    scope = source._scope() if hasattr(source, "_scope") else source
    connections = getattr(scope, "connections", None) or {getattr(scope, "id", "?"): scope}
    if by == "item":
        entries = [(i.conn, i.direction, i.xml(reveal_credentials)) for i in source.items(conn=conn)
                   if i.kind is not ItemKind.STREAM_CLOSE or i.text]
    else:
        chunks = scope.chunks(conn=conn) if hasattr(scope, "chunks") and callable(scope.chunks) else scope.chunks
        entries = [(c.conn, c.direction, connections[c.conn].chunk_text(c, reveal_credentials)) for c in chunks
                   if c.data.strip()]
    pairs = {}
    for c_id in dict.fromkeys(c for c, _, _ in entries):
        pair = (connections[c_id].label(Direction.C2S), connections[c_id].label(Direction.S2C))
        pairs.setdefault(pair, []).append(c_id)
    ambiguous = any(len(ids) > 1 for ids in pairs.values())  # e.g. two recorded clients, both C and S
    pad = " " * margin
    out, current = [], None
    for c_id, direction, text in entries:
        connection = connections[c_id]
        if ambiguous and c_id != current:
            who = f": {connection.jid}" if connection.jid else ""
            out.append(f"{pad}(connection {c_id}{who})\n")
            current = c_id
        label = connection.label(direction)
        lines = text.strip("\n").split("\n")
        cont = pad + " " * (len(label) + 2)
        block = [f"{pad}{label}: {lines[0]}"] + [cont + ln if ln.strip() else "" for ln in lines[1:]]
        out.append("\n".join(block) + "\n")
    return "\n".join(out)
