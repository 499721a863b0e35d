"""Exercises that the lab checks: a ``check`` says what is right and what is missing, in plain words.

A chapter registers its exercises in its own module (``xmpplab/course/chNN.py``)::

    @exercise("03.1", "A chat message to Romeo", stanza="message")
    def _(c, **context):                       # c: a Checker holding the answer, parsed, and a <message/>
        '''A message is <message/> with to and type attributes.

        The text goes in a <body/> child.'''   # the hints: one a paragraph
        c.attribute("to", "romeo@example.net", jid=True)
        c.attribute("type", "chat")
        c.child("body", text=True)
        return c.result()

and a notebook calls ``check("03.1", answer)`` and ``hint("03.1")``. A check
never raises for a wrong answer: the :class:`Result` lists each point with ✓ or ✗.
Exercises that look at what happened in a live Lab take it as a keyword:
``await acheck("06.1", lab=lab)`` (checks may be coroutines).
"""

from __future__ import annotations

import asyncio
import html
import inspect
import logging
from dataclasses import dataclass, field

from lxml import etree

from ..jid import JID, InvalidJID
from ..xml import NS_CLIENT, XMLInputError, parse_fragment, split_qname

log = logging.getLogger("xmpplab.course")

__all__ = ["Checker", "Exercise", "Result", "acheck", "body_of", "check", "exercise", "exercises", "hint",
           "settle"]


@dataclass
class Result:
    """The verdict of a check: ``ok`` and one line per point (``✓ …`` or ``✗ …``)."""

    exercise: str
    ok: bool
    points: list[tuple[bool, str]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.ok

    @property
    def missing(self) -> list[str]:
        """What is wrong or missing, in words."""
        return [text for good, text in self.points if not good]

    def text(self) -> str:
        """The result as plain text: a heading and one line per point checked."""
        head = f"Exercise {self.exercise}: " + ("well done, all correct." if self.ok else
                                                  "not yet. Here is what to look at:")
        return "\n".join([head] + [f"  {'✓' if good else '✗'} {text}" for good, text in self.points])

    def __repr__(self) -> str:
        return self.text()

    def _repr_html_(self) -> str:
        colour = "#1a7f37" if self.ok else "#b35900"
        rows = "".join(
            f"<li style='list-style:none'>{'✓' if good else '✗'} {html.escape(text)}</li>"
            for good, text in self.points)
        head = "well done, all correct." if self.ok else "not yet. Here is what to look at:"
        return (f"<div style='border-left:4px solid {colour};padding:4px 10px;margin:4px 0'>"
                f"<b>Exercise {html.escape(self.exercise)}</b>: {head}<ul style='margin:4px 0;padding-left:8px'>"
                f"{rows}</ul></div>")


@dataclass
class Exercise:
    """One exercise: its id (``"03.1"``), title, hints and check function."""

    id: str
    title: str
    hints: list[str]
    func: object
    _next_hint: int = 0

    def hint(self, n: int | None = None) -> str:
        """The next hint (or hint `n`, counted from 0); after the last, the last again."""
        if not self.hints:
            return f"Exercise {self.id} has no hint: read the cells above it once more."
        if n is None:
            n = self._next_hint
            self._next_hint = min(self._next_hint + 1, len(self.hints) - 1)
        n = max(0, min(n, len(self.hints) - 1))
        return f"Hint {n + 1} of {len(self.hints)} for exercise {self.id}: {self.hints[n]}"


_REGISTRY: dict[str, Exercise] = {}


def exercise(id: str, title: str, hints: list[str] | tuple[str, ...] | None = None, live: bool = False,
             stanza: str | None = None):
    """Register a check function for exercise ``id``; ``live`` when it looks at a running Lab.

    The hints are ``hints``, or else the paragraphs of the check's docstring (one hint a paragraph).
    With ``stanza`` ("message", "presence", "iq"), the check is given a :class:`Checker` holding the
    answer, once it is known to be that stanza; otherwise it is given the answer itself.
    """
    def register(func):
        check = func
        if stanza is not None:
            def check(answer, **context):
                c = Checker(answer)
                if not c.element(stanza):
                    return c
                return func(c, **context)
            check.__wrapped__ = func
        check.live = func.live = live
        _REGISTRY[id] = Exercise(id, title, list(hints if hints is not None else _doc_hints(func)), check)
        return func
    return register


def _doc_hints(func) -> list[str]:
    """The paragraphs of a docstring, each on one line."""
    doc = inspect.getdoc(func) or ""
    return [" ".join(paragraph.split("\n")) for paragraph in doc.split("\n\n") if paragraph.strip()]


def _load_chapters() -> None:
    from . import chapters  # noqa: F401  (imports every chNN module, which registers its exercises)


def exercises() -> dict[str, Exercise]:
    """All exercises of the course, by id."""
    _load_chapters()
    return dict(sorted(_REGISTRY.items()))


def _get(id: str) -> Exercise:
    _load_chapters()
    try:
        return _REGISTRY[str(id)]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY)) or "none"
        raise ValueError(f"there is no exercise {id!r}; the exercises are {known}") from None


#: Called with (exercise id, result, attempts) after every check: a class connection reports it to the
#: teacher (xmpplab.classroom.student). Attempts count the checks of that exercise in this kernel.
_WATCHERS: list = []
_ATTEMPTS: dict[str, int] = {}


def watch_checks(callback) -> None:
    """Call ``callback(exercise_id, result, attempts)`` after each check (at most once per callback)."""
    if callback not in _WATCHERS:
        _WATCHERS.append(callback)


def unwatch_checks(callback) -> None:
    """Stop calling ``callback`` after checks."""
    if callback in _WATCHERS:
        _WATCHERS.remove(callback)


def _finish(ex: Exercise, outcome) -> Result:
    if isinstance(outcome, Result):
        outcome.exercise = ex.id
        result = outcome
    elif isinstance(outcome, Checker):
        result = outcome.result(ex.id)
    else:
        raise TypeError(f"the check of exercise {ex.id} returned {outcome!r}, not a Result")
    _ATTEMPTS[ex.id] = _ATTEMPTS.get(ex.id, 0) + 1
    for callback in list(_WATCHERS):
        try:
            callback(ex.id, result, _ATTEMPTS[ex.id])
        except Exception as exc:  # a report that cannot be sent never spoils the learner's check
            log.warning("reporting the check of %s failed: %s", ex.id, exc)
    return result


#: Functions ``f(answer, context) -> (answer, context)`` that show a check what it expects: a Lab on a
#: class server (xmpplab.classroom.remote) shows the chapter's addresses instead of the practice accounts'.
#: Each may come with ``settle()``, awaited by :func:`acheck` first (until its recording has caught up).
_lenses: dict = {}


def add_lens(lens, settle=None) -> None:
    """Show every check its answer and context through ``lens`` (until :func:`remove_lens`)."""
    _lenses[lens] = settle


def remove_lens(lens) -> None:
    """Stop showing checks through ``lens``."""
    _lenses.pop(lens, None)


def _seen(answer, context: dict):
    for lens in list(_lenses):
        answer, context = lens(answer, context)
    return answer, context


def check(id: str, answer=None, **context) -> Result:
    """Check ``answer`` for exercise ``id``; returns a :class:`Result` that says what is right and missing.

    For a check that needs to wait for something live (a coroutine), use ``await acheck(...)``.
    """
    ex = _get(id)
    answer, context = _seen(answer, context)
    outcome = ex.func(answer, **context)
    if inspect.isawaitable(outcome):
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return _finish(ex, asyncio.run(outcome))
        outcome.close()
        raise RuntimeError(f"exercise {id} checks something live: write `await acheck({id!r}, ...)`")
    return _finish(ex, outcome)


async def acheck(id: str, answer=None, **context) -> Result:
    """Like :func:`check`, awaitable (for checks that look at a live Lab)."""
    ex = _get(id)
    for settle_lens in [s for s in _lenses.values() if s is not None]:
        await settle_lens()
    answer, context = _seen(answer, context)
    outcome = ex.func(answer, **context)
    if inspect.isawaitable(outcome):
        outcome = await outcome
    return _finish(ex, outcome)


class Hint(str):
    """A hint: a string that a notebook shows as plain text (not as a quoted Python string)."""

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        return f"<div style='border-left:4px solid #3b6fb6;padding:4px 10px'>💡 {html.escape(str(self))}</div>"


def hint(id: str, n: int | None = None) -> Hint:
    """The next hint for exercise ``id`` (or hint number ``n``, from 1)."""
    return Hint(_get(id).hint(None if n is None else n - 1))


async def settle(ready, timeout: float = 3.0):
    """Call ``ready()`` until it returns something true (the server may still be routing what was just
    sent), at most ``timeout`` seconds; return its last value."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        found = ready()
        if found or loop.time() >= deadline:
            return found
        await asyncio.sleep(0.05)


def jid_or_none(text) -> JID | None:
    """``text`` read as a JID (RFC 7622), or None when there is none or it is not a valid address."""
    try:
        return JID(text) if text else None
    except InvalidJID:
        return None


def same_account(address, bare: JID) -> bool:
    """Whether ``address`` (text, perhaps None or not valid) is ``bare`` or one of its full JIDs."""
    jid = jid_or_none(address)
    return jid is not None and jid.bare == bare


def body_of(item) -> str | None:
    """The text of a recorded message's <body/> (a transcript Item), stripped; None when it has none."""
    el = item.element
    if el is None:
        return None
    for child in el:
        if isinstance(child.tag, str) and split_qname(child.tag)[1] == "body":
            return (child.text or "").strip()
    return None


class Checker:
    """Collects ✓/✗ points about one XML answer; each method adds a point and returns whether it held.

    ``answer`` may be XML text, an lxml element, or anything with an ``.xml`` (slixmpp stanzas) or
    ``.element`` attribute. Text is parsed as it would be inside a client stream (jabber:client
    default namespace), so attribute order, quoting, prefixes and whitespace do not matter.
    """

    def __init__(self, answer=None):
        self.points: list[tuple[bool, str]] = []
        self.el = None
        if answer is not None:
            self.el = self.parse(answer)

    # parsing ------------------------------------------------------------------
    def parse(self, answer):
        """The learner's answer as an lxml element (from XML text, a slixmpp stanza or a transcript item), or None."""
        if hasattr(answer, "xml") and not isinstance(answer, str):  # slixmpp ElementBase
            answer = answer.xml
        if hasattr(answer, "element") and not isinstance(answer, str):  # a transcript Item
            answer = answer.element
        if isinstance(answer, etree._Element):
            return answer
        if hasattr(answer, "tag") and hasattr(answer, "attrib"):  # xml.etree element
            import xml.etree.ElementTree as ET
            answer = ET.tostring(answer, encoding="unicode")
        if isinstance(answer, (str, bytes)):
            try:
                return parse_fragment(answer)
            except XMLInputError as exc:
                self.fail(f"the XML could not be read: {exc}")
                return None
        self.fail(f"expected XML (a string such as \"<message/>\"), got {type(answer).__name__}")
        return None

    # points ----------------------------------------------------------------------
    def ok(self, text: str) -> bool:
        """Note a point the answer gets right; returns True."""
        self.points.append((True, text))
        return True

    def fail(self, text: str) -> bool:
        """Note a point the answer gets wrong; returns False."""
        self.points.append((False, text))
        return False

    def that(self, condition: bool, good: str, bad: str) -> bool:
        """Note `good` if `condition` holds, else `bad`; returns `condition`."""
        return self.ok(good) if condition else self.fail(bad)

    def value(self, name: str, expected: str | None, good: str, wrong: dict, otherwise: str) -> bool:
        """Check that the attribute ``name`` is ``expected`` (None: absent), saying ``good``; a value that is not
        gets ``wrong[value]`` (None: the attribute is absent), else ``otherwise``, where ``{}`` stands for it."""
        value = self.el.get(name)
        if value == expected:
            return self.ok(good)
        if value in wrong:
            return self.fail(wrong[value])
        return self.fail(otherwise.replace("{}", value if value is not None else ""))

    def has_id(self) -> bool:
        """Check that the iq has an 'id' (RFC 6120 8.2.3: the answer carries it back)."""
        return self.that(bool(self.el.get("id")), "it has an 'id'",
                         "an iq needs an 'id', so that the answer can be matched to it (RFC 6120 section 8.2.3)")

    def element(self, name: str, ns: str = NS_CLIENT, el=None) -> bool:
        """Check that the element is ``<name/>`` in namespace `ns`."""
        el = self.el if el is None else el
        if el is None:
            return False
        got_ns, got = split_qname(el.tag)
        if got != name:
            return self.fail(f"the element should be <{name}/>, not <{got}/>")
        if got_ns != ns:
            return self.fail(f"<{name}/> should be in the {ns} namespace, not {got_ns or 'no namespace'}")
        article = "an" if name[:1] in "aeiou" else "a"
        return self.ok(f"it is {article} <{name}/>")

    def attribute(self, name: str, expected=None, *, jid: bool = False, el=None, optional_values=()) -> bool:
        """The attribute is present (and equals ``expected``; JIDs compared after normalisation)."""
        el = self.el if el is None else el
        if el is None:
            return False
        value = el.get(name)
        where = f"<{split_qname(el.tag)[1]}/>"
        if value is None:
            if expected is None:
                return self.fail(f"{where} needs a '{name}' attribute")
            return self.fail(f"{where} needs {name}='{expected}'")
        if expected is None:
            return self.ok(f"{where} has a '{name}' attribute")
        if jid:
            try:
                same = JID(value) == JID(str(expected))
            except InvalidJID as exc:
                return self.fail(f"'{name}' is not a valid address: {exc.reason}")
        else:
            same = value == str(expected) or value in optional_values
        if same:
            return self.ok(f"{name}='{value}'")
        return self.fail(f"'{name}' should be '{expected}', not '{value}'")

    def address(self, name: str, missing: str, el=None) -> JID | None:
        """The attribute ``name`` read as a JID (RFC 7622); None, with a ✗ saying ``missing`` or why it is not a
        valid address, when it is absent or malformed."""
        el = self.el if el is None else el
        value = el.get(name) if el is not None else None
        if value is None:
            self.fail(missing)
            return None
        try:
            return JID(value)
        except InvalidJID as exc:
            self.fail(f"'{name}' is not a valid address: {exc.reason}")
            return None

    def no_attribute(self, name: str, why: str, el=None) -> bool:
        """Check that the element has no `name` attribute, saying `why` it should not."""
        el = self.el if el is None else el
        if el is None:
            return False
        if el.get(name) is None:
            return self.ok(f"no '{name}' attribute ({why})")
        return self.fail(f"leave out the '{name}' attribute: {why}")

    def child(self, name: str, ns: str | None = None, *, text=None, el=None):
        """A child element ``name`` (in ``ns``, default: the parent's namespace); ``text=True`` wants some
        text, a string wants exactly that text. Returns the child or None."""
        el = self.el if el is None else el
        if el is None:
            return None
        parent_ns, parent = split_qname(el.tag)
        ns = parent_ns if ns is None else ns
        found = el.find(f"{{{ns}}}{name}") if ns else el.find(name)
        label = f"<{name}/>" + (f" in {ns}" if ns != parent_ns else "")
        if found is None:
            other = next((c for c in el if isinstance(c.tag, str) and split_qname(c.tag)[1] == name), None)
            if other is not None:
                self.fail(f"{label} is there but in the namespace {split_qname(other.tag)[0] or 'none'}; "
                          f"it should be {ns}")
                return None
            self.fail(f"<{parent}/> needs a {label} child")
            return None
        if text is True and not (found.text or "").strip():
            self.fail(f"{label} is empty; put some text in it")
            return found
        if isinstance(text, str) and (found.text or "").strip() != text:
            self.fail(f"{label} should say '{text}', not '{(found.text or '').strip()}'")
            return found
        self.ok(f"<{parent}/> has a {label}" + (f" saying '{(found.text or '').strip()}'" if text else ""))
        return found

    def result(self, exercise: str = "?") -> Result:
        """The points noted so far as a Result: correct when there is at least one and all are right."""
        ok = bool(self.points) and all(good for good, _ in self.points)
        return Result(exercise, ok, list(self.points))
