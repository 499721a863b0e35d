"""Scansion conversation scripts (``.scs``): the model, the parser and the writer.

A script, as Prosody's test suite writes them (``spec/scansion/*.scs``)::

    # Basic roster test                      <- title; further '#' lines: description
    ## status: stable                        <- tags

    [Client] Romeo                           <- a character: class, name
        jid: user@localhost                  <- properties, indented
        password: password

    ---------                                <- the actions follow

    Romeo connects

    # comments may precede any action
    Romeo sends:
        <iq type="get" id="roster1">
            <query xmlns='jabber:iq:roster'/>
        </iq>

    Romeo receives:
        <iq type="result" id="roster1">
            <query ver='{scansion:any}' xmlns="jabber:iq:roster"/>
        </iq>

    Romeo receives: nothing
    Romeo disconnects

The colon after ``sends``/``receives`` is optional (Prosody's issue1121.scs
leaves it out). The XML under an action is every following line that is
indented or blank; its elements are in ``jabber:client`` unless they say
otherwise, and the ``scansion:`` prefix (``scansion:strict="false"``) needs no
declaration. ``${Romeo's full JID}`` and ``${Romeo's JID}`` are left in the
parsed XML as written and expanded when the script runs.

:func:`parse_script` and :func:`load_script` read a script; :meth:`Script.to_text`
writes one back (indented with tabs, attributes in single quotes, as Prosody's
``mod_scansion_record`` writes them). Parsing what was written gives equal
characters and steps.
"""

from __future__ import annotations

import copy
import os
import re
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from lxml import etree

from ..escape import escape_text
from ..jid import JID, InvalidJID
from ..xml import NS_CLIENT, NS_XML, split_qname

#: The namespace xmpplab gives the ``scansion:`` prefix (scripts use it undeclared).
SCANSION_NS = "https://matthewwild.co.uk/projects/scansion"
#: Matches any value (an attribute value, or an element's text).
ANY = "{scansion:any}"
STRICT_ATTR = f"{{{SCANSION_NS}}}strict"


class ScriptError(ValueError):
    """A script could not be read; the message names the line."""


class Action(StrEnum):
    """What a client does in a step."""

    CONNECTS = "connects"
    DISCONNECTS = "disconnects"
    SENDS = "sends"
    RECEIVES = "receives"


@dataclass
class Character:
    """A ``[Client] Romeo`` block: the class, the name, and the properties in the order written."""

    name: str
    properties: dict[str, str] = field(default_factory=dict)
    kind: str = "Client"
    line: int | None = None

    @property
    def jid(self) -> str | None:
        """The character's JID, from its ``jid`` property."""
        return self.properties.get("jid")

    @property
    def password(self) -> str | None:
        """The character's password, from its ``password`` property."""
        return self.properties.get("password")

    @property
    def bare_jid(self) -> str | None:
        """The account (``user@localhost``), from ``jid``."""
        jid = self.jid
        if not jid:
            return None
        try:
            return str(JID(jid).bare)
        except InvalidJID:
            return jid.partition("/")[0]

    @property
    def resource(self) -> str | None:
        """The resource to ask for: the ``resource`` property, else the one in ``jid``."""
        if self.properties.get("resource"):
            return self.properties["resource"]
        jid = self.jid or ""
        return jid.partition("/")[2] or None

    def __eq__(self, other) -> bool:
        if not isinstance(other, Character):
            return NotImplemented
        return (self.name, self.kind, self.properties) == (other.name, other.kind, other.properties)

    def __repr__(self) -> str:
        return f"<[{self.kind}] {self.name} {self.jid or ''}>".replace(" >", ">")


@dataclass(eq=False)
class Step:
    """One action: ``Romeo sends:`` with its element, ``Romeo receives: nothing``, ``Romeo connects``.

    ``element`` is the parsed XML (lxml, with the ``${...}`` variables and
    ``{scansion:any}`` as written); ``comments`` are the ``#`` lines just
    above the step; ``line`` is where the step starts in its file.
    Steps are equal when actor, action and XML are (attribute order and
    indentation do not count).
    """

    actor: str
    action: Action
    element: object = None
    nothing: bool = False
    comments: tuple[str, ...] = ()
    line: int | None = None

    def __post_init__(self):
        self.action = Action(self.action)

    @property
    def xml(self) -> str | None:
        """The element as the writer writes it (tabs, one element per line)."""
        return to_scansion_xml(self.element) if self.element is not None else None

    @property
    def heading(self) -> str:
        """``Romeo sends:``, ``Romeo receives: nothing``, ``Romeo connects``."""
        if self.action in (Action.SENDS, Action.RECEIVES):
            return f"{self.actor} {self.action.value}:" + (" nothing" if self.nothing else "")
        return f"{self.actor} {self.action.value}"

    def key(self) -> tuple:
        """What makes two steps equal: actor, action, "nothing" and the canonical XML."""
        xml = canonical_xml(self.element) if self.element is not None else None
        return (self.actor, self.action, self.nothing, xml)

    def __eq__(self, other) -> bool:
        if not isinstance(other, Step):
            return NotImplemented
        return self.key() == other.key()

    def __repr__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        xml = ""
        if self.element is not None:
            xml = " " + canonical_xml(self.element)
            xml = xml if len(xml) <= 70 else xml[:67] + "..."
        return f"<Step {where}{self.heading}{xml}>"


@dataclass(eq=False)
class Script:
    """A parsed scansion script: metadata, characters by name, and steps in order."""

    characters: dict[str, Character] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)
    title: str | None = None
    description: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    trailer: list[str] = field(default_factory=list)  # '#' lines after the last step
    name: str | None = None
    path: str | None = None

    @property
    def clients(self) -> dict[str, Character]:
        """The ``[Client]`` characters."""
        return {n: c for n, c in self.characters.items() if c.kind == "Client"}

    @classmethod
    def parse(cls, text: str, name: str | None = None) -> Script:
        """Read a script from its text (see :func:`parse_script`)."""
        return parse_script(text, name=name)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Script:
        """Read a script from a file (see :func:`load_script`)."""
        return load_script(path)

    def to_text(self) -> str:
        """The script as ``.scs`` text."""
        return write_script(self)

    def save(self, path: str | os.PathLike) -> None:
        """Write the script to a file in scansion's format."""
        Path(path).write_text(self.to_text(), encoding="utf-8")

    def __eq__(self, other) -> bool:
        if not isinstance(other, Script):
            return NotImplemented
        return self.characters == other.characters and self.steps == other.steps

    def __repr__(self) -> str:
        names = ", ".join(self.characters)
        label = f" {self.name}" if self.name else ""
        return (f"<Script{label}: {len(self.characters)} character{'s' if len(self.characters) != 1 else ''}"
                f"{' (' + names + ')' if names else ''}, {len(self.steps)} step{'s' if len(self.steps) != 1 else ''}>")


# --- reading ---------------------------------------------------------------------------------

_CHARACTER = re.compile(r"^\[(\w+)\]\s+(.+?)\s*$")
_PROPERTY = re.compile(r"^\s+([\w-]+)\s*:\s*(.*?)\s*$")
_SEPARATOR = re.compile(r"^-{3,}\s*$")
_VERB = re.compile(r"^(connects|disconnects|sends|receives)\b\s*(:?)\s*(.*?)\s*$")

_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                              remove_comments=True, remove_pis=True)


def load_script(path: str | os.PathLike) -> Script:
    """Read a ``.scs`` file; the script's ``name`` is the file name without ``.scs``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ScriptError(f"{path}: not UTF-8 text ({exc.reason})") from None
    script = parse_script(text, name=path.stem, source=str(path))
    script.path = str(path)
    return script


def parse_script(text: str, name: str | None = None, source: str | None = None) -> Script:
    """Parse the text of a script (see the module docstring). Errors name the line."""
    where = source or name or "script"
    lines = text.splitlines()
    script = Script(name=name)
    i = _parse_header(lines, script, where)
    _parse_actions(lines, i, script, where)
    return script


def _parse_header(lines: list[str], script: Script, where: str) -> int:
    current: Character | None = None
    comments_seen = False
    for i, line in enumerate(lines):
        lineno = i + 1
        if _SEPARATOR.match(line):
            if not script.characters:
                raise ScriptError(f"{where}, line {lineno}: no characters ([Client] Name) before the '---' line")
            return i + 1
        if not line.strip():
            continue
        if line.startswith("##"):
            script.tags.append(line[2:].strip())
            continue
        if line.startswith("#"):
            comment = line[1:].strip()
            if script.title is None and not comments_seen and not script.characters:
                script.title = comment
            else:
                script.description.append(comment)
            comments_seen = True
            continue
        m = _CHARACTER.match(line)
        if m:
            kind, char_name = m.groups()
            if char_name in script.characters:
                raise ScriptError(f"{where}, line {lineno}: [{kind}] {char_name} is declared twice")
            current = Character(char_name, {}, kind, lineno)
            script.characters[char_name] = current
            continue
        m = _PROPERTY.match(line)
        if m and current is not None:
            current.properties[m.group(1)] = m.group(2)
            continue
        raise ScriptError(f"{where}, line {lineno}: expected '[Client] Name', an indented 'key: value' "
                          f"or the '---' line, got {line.strip()[:60]!r}")
    raise ScriptError(f"{where}: no '---' line separates the characters from the actions")


def _parse_actions(lines: list[str], start: int, script: Script, where: str) -> None:
    names = sorted(script.characters, key=len, reverse=True)
    comments: list[str] = []
    i = start
    while i < len(lines):
        line = lines[i]
        lineno = i + 1
        i += 1
        if not line.strip():
            continue
        if line.startswith("#"):
            comments.append(line[1:].strip())
            continue
        if line[0].isspace():
            raise ScriptError(f"{where}, line {lineno}: indented text outside a 'sends:' or 'receives:' block")
        actor = next((n for n in names if line.startswith(n + " ")), None)
        if actor is None:
            declared = ", ".join(script.characters)
            raise ScriptError(f"{where}, line {lineno}: {line.strip()[:60]!r} does not start with a declared "
                              f"character ({declared})")
        m = _VERB.match(line[len(actor) + 1:].strip())
        if m is None:
            raise ScriptError(f"{where}, line {lineno}: unknown action {line.strip()!r}: a client connects, "
                              "disconnects, sends: or receives:")
        verb, _colon, rest = m.groups()
        action = Action(verb)
        step = Step(actor, action, comments=tuple(comments), line=lineno)
        comments = []
        if action in (Action.CONNECTS, Action.DISCONNECTS):
            if rest:
                raise ScriptError(f"{where}, line {lineno}: nothing may follow '{actor} {verb}'")
        elif action is Action.RECEIVES and rest == "nothing":
            step.nothing = True
        else:
            block = [rest] if rest else []
            while i < len(lines) and (not lines[i].strip() or lines[i][0].isspace()):
                block.append(lines[i])
                i += 1
            xml = "\n".join(block).strip()
            if not xml:
                raise ScriptError(f"{where}, line {lineno}: '{actor} {verb}:' has no XML below it")
            try:
                step.element = parse_xml(xml)
            except ScriptError as exc:
                raise ScriptError(f"{where}, line {lineno}: {exc}") from None
        script.steps.append(step)
    script.trailer = comments


def parse_xml(text: str, default_ns: str = NS_CLIENT):
    """Parse the XML of one step: one element, ``jabber:client`` by default, ``scansion:`` declared."""
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise ScriptError("DTDs and entity declarations are not allowed (RFC 6120 section 11.1)")
    wrapper = (f"<scansion:step xmlns='{default_ns}' xmlns:scansion='{SCANSION_NS}'>{text}</scansion:step>")
    try:
        root = etree.fromstring(wrapper.encode("utf-8"), _XML_PARSER)
    except etree.XMLSyntaxError as exc:
        raise ScriptError(f"the XML is not well-formed: {exc.msg}") from None
    children = [c for c in root if isinstance(c.tag, str)]
    if len(children) != 1 or (root.text or "").strip() or any((c.tail or "").strip() for c in children):
        raise ScriptError(f"expected one XML element, found {len(children)} and text around them"
                          if len(children) == 1 else f"expected one XML element, found {len(children)}")
    el = copy.deepcopy(children[0])
    el.tail = None
    return el


# --- writing ---------------------------------------------------------------------------------

def write_script(script: Script) -> str:
    """The script as ``.scs`` text (see the module docstring)."""
    out: list[str] = []
    if script.title is not None:
        out.append(f"# {script.title}".rstrip())
    out.extend(f"# {line}".rstrip() for line in script.description)
    out.extend(f"## {tag}" for tag in script.tags)
    if out:
        out.append("")
    for char in script.characters.values():
        out.append(f"[{char.kind}] {char.name}")
        out.extend(f"\t{key}: {value}" for key, value in char.properties.items())
        out.append("")
    out.append("-----")
    out.append("")
    for step in script.steps:
        out.extend(f"# {c}".rstrip() for c in step.comments)
        out.append(step.heading)
        if step.element is not None:
            out.extend("\t" + line for line in to_scansion_xml(step.element).split("\n"))
        out.append("")
    out.extend(f"# {c}".rstrip() for c in script.trailer)
    return "\n".join(out).rstrip("\n") + "\n"


def _escape_text(text: str) -> str:
    return escape_text(text).replace("\r", "&#13;").replace("\n", "&#10;")


def _quote_attr(value: str) -> str:
    """An attribute value in quotes: single quotes, or double ones when the value holds an
    apostrophe and no double quote (``from="${Romeo's full JID}"``, as scripts write it)."""
    value = (value.replace("&", "&amp;").replace("<", "&lt;")
             .replace("\r", "&#13;").replace("\n", "&#10;").replace("\t", "&#9;"))
    if "'" in value and '"' not in value:
        return f'"{value}"'
    return "'" + value.replace("'", "&apos;") + "'"


def _own_text(el) -> str:
    """The element's direct text (its text and its children's tails)."""
    return (el.text or "") + "".join(c.tail or "" for c in el)


def _attr_name(key: str, decls: list[str]) -> str:
    ns, name = split_qname(key)
    if not ns:
        return name
    if ns == NS_XML:
        return f"xml:{name}"
    if ns == SCANSION_NS:
        return f"scansion:{name}"
    prefix = f"ns{len(decls)}"
    decls.append(f" xmlns:{prefix}={_quote_attr(ns)}")
    return f"{prefix}:{name}"


def _start_tag(el, parent_ns: str | None, sort: bool) -> tuple[str, str]:
    ns, name = split_qname(el.tag)
    decls: list[str] = []
    if ns != parent_ns:
        decls.append(f" xmlns={_quote_attr(ns)}")
    items = sorted(el.attrib.items()) if sort else el.attrib.items()
    attrs = "".join(f" {_attr_name(k, decls)}={_quote_attr(v)}" for k, v in items)
    return f"<{name}{''.join(decls)}{attrs}", name


def _children(el) -> list:
    return [c for c in el if isinstance(c.tag, str)]


def to_scansion_xml(el, indent: str = "\t", parent_ns: str | None = NS_CLIENT, sort_attributes: bool = False) -> str:
    """Write an element the way scripts show XML: one element per line, indented with tabs.

    Elements in ``jabber:client`` at the top need no ``xmlns``; whitespace-only
    text is layout and is left out; an element holding both text and children
    (mixed content) is written on one line as it is. Newlines inside values are
    written as ``&#10;`` so that a value never breaks the indented block.
    """
    lines: list[str] = []
    _write(el, parent_ns, 0, indent, lines, sort_attributes)
    return "\n".join(lines)


def _write(el, parent_ns, level, indent, lines, sort):
    pad = indent * level
    ns = split_qname(el.tag)[0]
    kids = _children(el)
    text = _own_text(el)
    if kids and text.strip():  # mixed content: keep it on one line, exactly
        lines.append(pad + _inline(el, parent_ns, sort))
        return
    start, name = _start_tag(el, parent_ns, sort)
    if not kids:
        lines.append(pad + (f"{start}>{_escape_text(text)}</{name}>" if text.strip() else f"{start}/>"))
        return
    lines.append(pad + start + ">")
    for kid in kids:
        _write(kid, ns, level + 1, indent, lines, sort)
    lines.append(f"{pad}</{name}>")


def _inline(el, parent_ns, sort) -> str:
    start, name = _start_tag(el, parent_ns, sort)
    ns = split_qname(el.tag)[0]
    inner = _escape_text(el.text or "")
    for kid in _children(el):
        inner += _inline(kid, ns, sort) + _escape_text(kid.tail or "")
    return f"{start}>{inner}</{name}>" if inner else f"{start}/>"


def canonical_xml(el) -> str:
    """One line, attributes sorted, layout whitespace dropped: equal for equal elements."""
    return "".join(line.strip() for line in to_scansion_xml(el, indent="", sort_attributes=True).split("\n"))
