"""Run a scansion script against a live server, one :class:`~xmpplab.rawclient.RawClient` per character.

    from xmpplab.scansion import load_script, run_script
    result = await run_script(load_script("basic_roster.scs"), "127.0.0.1", server.port,
                              accounts=server.accounts)
    result              # <RunResult basic_roster: passed (14 steps in 0.05 s)>
    print(result)       # the report: every step, and for a failure the differences and both stanzas

What each action does:

``Romeo connects``
    Opens a connection (``connect_host``/``connect_port`` of the character,
    else the ``host`` and ``port`` given) and logs in with the character's
    ``jid`` and ``password``: STARTTLS when offered (``tls``), SASL, resource
    binding with the ``resource`` property or the JID's resource. Afterwards
    ``${Romeo's full JID}`` is the bound JID. ``${Romeo's JID}`` (the bare JID)
    is known from the start.
``Romeo sends:``
    Expands the variables and sends the element (``scansion:`` attributes and
    layout whitespace removed), then pauses ``pause`` seconds (10 ms) so that
    what different clients send reaches the server in the script's order:
    without it "Romeo sends" and a following "Juliet's phone sends" race on
    two connections (Prosody then sometimes handles the phone's first).
``Romeo receives:``
    Compares the next stanza Romeo receives with the expected one
    (:mod:`xmpplab.scansion.match`), waiting up to ``timeout`` seconds for
    it. Which stanza is "next" follows scansion, whose client only looks at
    stanzas while a ``receives`` step is waiting, that is from the end of
    the script's previous step on. Stanzas that reached Romeo *before* that
    are looked at first and the first one that matches is taken; those before
    it are skipped (and listed in the step's result), since scansion would
    never have compared them. If none of them matches, the first stanza that
    arrived since the previous step (or arrives within ``timeout``) must
    match, or the step fails. Prosody's own basic_message.scs needs this:
    Prosody sends a newly available resource the presence of the account's
    other resources (mod_presence), which the script does not expect.
    With ``exact_sequence=True`` nothing is skipped: every stanza must be
    expected, in the order it arrived.
``Romeo receives: nothing``
    Passes when nothing arrives within ``quiet`` seconds (stanzas that
    arrived before the step are skipped as above).
``Romeo disconnects``
    Closes the stream and waits for the server to close its own. A client
    that already disconnected passes again with a note (Prosody's
    presence_preapproval.scs disconnects Bob twice).

Like scansion the run stops at the first failure (``stop_on_failure``); the
remaining steps are reported as "not run". Stanzas that were received but
never expected by a ``receives`` step are listed in the report as unread
(they do not fail the run). With a ``recorder`` every connection is recorded
(:mod:`xmpplab.recording` events), so a run can be looked at as a transcript.
"""

from __future__ import annotations

import asyncio
import copy
import inspect
import os
import re
from dataclasses import dataclass, field
from enum import StrEnum

from lxml import etree

from ..rawclient import MECHANISMS, LoginError, RawClient, RawClientError, RecvTimeout, StreamEnded
from ..xml import NS_CLIENT, serialize
from .match import Difference, compare, expand_element
from .script import SCANSION_NS, Action, Script, ScriptError, Step, load_script, to_scansion_xml


class Status(StrEnum):
    """How a step of a script ended: passed, failed, error, or not run."""
    PASSED = "passed"
    FAILED = "failed"    # the server's answer differs from the script (or did not come)
    ERROR = "error"      # the step could not be carried out (login failed, unknown variable...)
    NOT_RUN = "not run"  # an earlier step failed


@dataclass(eq=False)
class StepResult:
    """What happened at one step: status, a message, and for ``receives`` both stanzas and the differences."""

    number: int
    step: Step
    status: Status
    message: str = ""
    expected: object = None   # receives: the expected element, variables expanded; sends: what was sent
    got: object = None        # receives: what arrived
    differences: list[Difference] = field(default_factory=list)
    seconds: float = 0.0
    skipped: list = field(default_factory=list)  # stanzas that arrived before the step and were passed over

    @property
    def ok(self) -> bool:
        """True if the step passed."""
        return self.status is Status.PASSED

    @property
    def where(self) -> str:
        """``step N, line L``: where the step is in the script."""
        line = f", line {self.step.line}" if self.step.line else ""
        return f"step {self.number}{line}"

    def explain(self) -> str:
        """Several lines: the step, why it failed, and the expected and received XML side by side."""
        lines = [f"{self.where}: {self.step.heading} {self.status.value}"
                 + (f": {self.message}" if self.message else "")]
        lines += [f"  - {d}" for d in self.differences]
        if self.skipped:
            lines.append(f"  skipped {_count(len(self.skipped), 'stanza')} that arrived before this step:")
            lines += ["\t" + serialize(el, NS_CLIENT) for el in self.skipped]
        if self.status is Status.FAILED and self.step.action is Action.RECEIVES:
            if self.expected is not None:
                lines.append("  expected:")
                lines += ["\t" + ln for ln in to_scansion_xml(self.expected).split("\n")]
            if self.got is not None:
                lines.append("  got:" if self.got not in self.skipped else "  closest earlier stanza:")
                lines += ["\t" + ln for ln in to_scansion_xml(self.got).split("\n")]
        return "\n".join(lines)

    @property
    def note(self) -> str:
        """One line: the first difference, or the message; and what was skipped."""
        note = str(self.differences[0]) if self.differences else self.message
        if len(self.differences) > 1:
            note += f" (+{len(self.differences) - 1} more)"
        if self.skipped:
            note += ("; " if note else "") + f"skipped {_count(len(self.skipped), 'earlier stanza')}"
        return note

    def __repr__(self) -> str:
        note = self.note
        return f"<StepResult {self.number} {self.step.heading} {self.status.value}{': ' + note if note else ''}>"


@dataclass(eq=False)
class RunResult:
    """The outcome of one run: a :class:`StepResult` per step, plus what was left unread."""

    script: Script
    steps: list[StepResult]
    target: str
    seconds: float = 0.0
    unread: dict[str, list] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """True if every step passed."""
        return all(r.status is Status.PASSED for r in self.steps)

    @property
    def failures(self) -> list[StepResult]:
        """The steps that failed or could not be carried out."""
        return [r for r in self.steps if r.status in (Status.FAILED, Status.ERROR)]

    @property
    def first_failure(self) -> StepResult | None:
        """The first step that failed or could not be carried out, or None."""
        return next(iter(self.failures), None)

    @property
    def status(self) -> Status:
        """The run's status: that of its first failure, else passed (or not run when steps were left)."""
        first = self.first_failure
        if first is not None:
            return first.status
        return Status.PASSED if self.passed else Status.NOT_RUN

    def summary(self) -> str:
        """One line: ``passed (14 steps in 0.05 s)`` or where and why it failed."""
        first = self.first_failure
        if first is None:
            return f"passed ({len(self.steps)} steps in {self.seconds:.2f} s)"
        why = str(first.differences[0]) if first.differences else first.message
        more = f" (+{len(first.differences) - 1} more)" if len(first.differences) > 1 else ""
        others = len(self.failures) - 1
        tail = f"; {others} more failing step{'s' if others != 1 else ''}" if others else ""
        return f"{first.status.value} at {first.where} ({first.step.heading}): {why}{more}{tail}"

    def table(self) -> str:
        """A text table, one row per step."""
        rows = [("#", "line", "step", "status", "note")]
        for r in self.steps:
            rows.append((str(r.number), str(r.step.line or ""), r.step.heading, r.status.value, r.note))
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        out = ["  ".join(c.ljust(w) for c, w in zip(row[:4], widths, strict=True)) + "  " + row[4] for row in rows]
        out.insert(1, "  ".join("-" * w for w in widths) + "  ----")
        return "\n".join(line.rstrip() for line in out)

    def report(self) -> str:
        """The summary, the table, every failure explained, and the stanzas left unread."""
        parts = [f"{self.script.name or 'script'} against {self.target}: {self.summary()}", "", self.table()]
        for r in self.steps:
            if r.status in (Status.FAILED, Status.ERROR) or r.skipped:
                parts += ["", r.explain()]
        for name, stanzas in self.unread.items():
            parts += ["", f"{name} received {_count(len(stanzas), 'stanza')} after its last step, unread:"]
            parts += ["\t" + serialize(el, NS_CLIENT) for el in stanzas]
        return "\n".join(parts)

    def __str__(self) -> str:
        return self.report()

    def __repr__(self) -> str:
        return f"<RunResult {self.script.name or 'script'}: {self.summary()}>"


def summary_table(results: dict[str, RunResult]) -> str:
    """A Markdown table of several runs: script, result, and the first failure."""
    rows = ["| script | result | why |", "|---|---|---|"]
    for name, result in results.items():
        first = result.first_failure
        if first is None:
            why = f"{len(result.steps)} steps"
        else:
            why = f"{first.where} ({first.step.heading}): " + (
                "; ".join(str(d) for d in first.differences) if first.differences else first.message)
        rows.append(f"| {name} | {result.status.value} | {why.replace('|', '&#124;')} |")
    return "\n".join(rows)


# --- running ---------------------------------------------------------------------------------

def accounts_of(script: Script) -> dict[str, str]:
    """The accounts a script logs in with: bare JID -> password (the first one given per account)."""
    found: dict[str, str] = {}
    for char in script.clients.values():
        if char.bare_jid and char.password is not None:
            found.setdefault(char.bare_jid, char.password)
    return found


async def create_accounts(script: Script, accounts) -> None:
    """Create the script's accounts with ``accounts.add(jid, password)`` (the lab server's
    ``server.accounts``) or ``accounts(jid, password)`` (a function, which may be async)."""
    add = getattr(accounts, "add", None) or accounts
    if not callable(add):
        raise TypeError("accounts must have an add(jid, password) method or be a function (jid, password)")
    for jid, password in accounts_of(script).items():
        outcome = add(jid, password)
        if inspect.isawaitable(outcome):
            await outcome


def wire_element(el):
    """The element as it goes on the wire: no ``scansion:`` attributes, no layout whitespace."""
    el = copy.deepcopy(el)
    for node in el.iter():
        if not isinstance(node.tag, str):
            continue
        for key in [k for k in node.attrib if k.startswith(f"{{{SCANSION_NS}}}")]:
            del node.attrib[key]
        if len(node) and node.text is not None and not node.text.strip():
            node.text = None
        if node.tail is not None and not node.tail.strip():
            node.tail = None
    etree.cleanup_namespaces(el)
    return el


async def run_script(script: Script | str | os.PathLike, host: str = "127.0.0.1", port: int = 5222, *,
                     accounts=None, timeout: float = 3.0, quiet: float = 0.5, tls: str = "starttls",
                     verify_tls: bool = False, recorder=None, stop_on_failure: bool = True,
                     exact_sequence: bool = False, pause: float = 0.01, mechanisms=MECHANISMS,
                     login_timeout: float = 10.0) -> RunResult:
    """Run ``script`` (a :class:`Script` or the path of a ``.scs`` file) against ``host:port``.

    ``accounts``, when given, creates the script's accounts first (see
    :func:`create_accounts`). ``timeout`` is how long a ``receives`` waits;
    ``quiet`` how long ``receives: nothing`` listens; ``exact_sequence``
    makes every received stanza count (see the module docstring).
    """
    if not isinstance(script, Script):
        script = load_script(script)
    if accounts is not None:
        await create_accounts(script, accounts)
    run = _Run(script, host, port, timeout=timeout, quiet=quiet, tls=tls, verify_tls=verify_tls,
               recorder=recorder, mechanisms=mechanisms, login_timeout=login_timeout,
               exact_sequence=exact_sequence, pause=pause)
    loop = asyncio.get_running_loop()
    started = loop.time()
    results: list[StepResult] = []
    stopped = False
    try:
        for number, step in enumerate(script.steps, 1):
            if stopped:
                results.append(StepResult(number, step, Status.NOT_RUN))
                continue
            t0 = loop.time()
            try:
                result = await run.step(number, step)
            except (ScriptError, RawClientError) as exc:
                result = StepResult(number, step, Status.ERROR, str(exc))
            if step.action is not Action.SENDS or not result.ok:  # a send marks itself, before its pause
                run.mark()
            result.seconds = loop.time() - t0
            results.append(result)
            if stop_on_failure and result.status is not Status.PASSED:
                stopped = True
    finally:
        await run.close_all()
    return RunResult(script, results, f"{host}:{port}", loop.time() - started, run.unread)


class _Run:
    """The state of one run: connections and variables by character name."""

    def __init__(self, script: Script, host: str, port: int, **options):
        self.script, self.host, self.port = script, host, port
        self.options = options
        self.clients: dict[str, RawClient] = {}
        self.disconnected: set[str] = set()
        self.unread: dict[str, list] = {}
        self.variables: dict[str, str] = {}
        self.marks: dict[str, int] = {}  # per client: how many stanzas had arrived when the last step ended
        for name, char in script.clients.items():
            if char.bare_jid:
                self.variables[f"{name}'s JID"] = char.bare_jid

    def mark(self) -> None:
        """A step ended: what arrived until now arrived "before" the next step."""
        for name, client in self.clients.items():
            self.marks[name] = client.received

    async def step(self, number: int, step: Step) -> StepResult:
        char = self.script.characters[step.actor]
        if char.kind != "Client":
            raise ScriptError(f"[{char.kind}] characters are not supported (only [Client])")
        if step.action is Action.CONNECTS:
            return await self._connect(number, step, char)
        if step.action is Action.DISCONNECTS:
            return await self._disconnect(number, step)
        client = self._client(step.actor)
        if step.action is Action.SENDS:
            el = wire_element(expand_element(step.element, self.variables))
            await client.send(serialize(el, NS_CLIENT))
            self.mark()  # what arrives during the pause is an answer to this: it counts for the next step
            if self.options["pause"]:
                await asyncio.sleep(self.options["pause"])
            return StepResult(number, step, Status.PASSED, expected=el)
        expected = None if step.nothing else expand_element(step.element, self.variables)
        earlier, skipped = None, []
        if not self.options["exact_sequence"]:
            before = self.marks.get(step.actor, 0) - (client.received - len(client.unread))
            earlier, skipped = await _take_earlier(client, expected, max(before, 0))
        if step.nothing:
            try:
                got = await client.recv(self.options["quiet"])
            except RecvTimeout:
                return StepResult(number, step, Status.PASSED, skipped=skipped)
            except StreamEnded as exc:
                return StepResult(number, step, Status.PASSED, f"nothing, and {exc.reason}", skipped=skipped)
            return StepResult(number, step, Status.FAILED, f"expected nothing, got {_short(got)}", got=got,
                              skipped=skipped)
        if earlier is not None:
            return StepResult(number, step, Status.PASSED, expected=expected, got=earlier, skipped=skipped)
        timeout = self.options["timeout"]
        try:
            got = await client.recv(timeout)
        except RecvTimeout:
            message = f"nothing arrived within {timeout:g} s"
            near = [el for el in skipped if el.tag == expected.tag]
            if not near:
                return StepResult(number, step, Status.FAILED, message, expected=expected, skipped=skipped)
            # Explain with the earlier stanza that came closest: usually the near miss the reader wants.
            closest = min(near, key=lambda el: len(compare(expected, el)))
            return StepResult(number, step, Status.FAILED, message + "; the closest earlier stanza differs",
                              expected=expected, got=closest, differences=compare(expected, closest),
                              skipped=skipped)
        except StreamEnded as exc:
            return StepResult(number, step, Status.FAILED, exc.reason, expected=expected, skipped=skipped)
        differences = compare(expected, got)
        status = Status.FAILED if differences else Status.PASSED
        return StepResult(number, step, status, expected=expected, got=got, differences=differences,
                          skipped=skipped)

    def _client(self, name: str) -> RawClient:
        client = self.clients.get(name)
        if client is None:
            if name in self.disconnected:
                raise ScriptError(f"{name} has disconnected")
            raise ScriptError(f"{name} has not connected (a '{name} connects' step must come first)")
        return client

    async def _connect(self, number: int, step: Step, char) -> StepResult:
        name = step.actor
        if name in self.clients:
            raise ScriptError(f"{name} is already connected")
        if not char.jid or char.password is None:
            raise ScriptError(f"[Client] {name} needs a jid and a password")
        host = char.properties.get("connect_host") or self.host
        try:
            port = int(char.properties.get("connect_port") or self.port)
        except ValueError:
            raise ScriptError(f"[Client] {name}: connect_port must be a number") from None
        o = self.options
        client = await RawClient.connect(host, port, tls=o["tls"], verify_tls=o["verify_tls"],
                                         recorder=o["recorder"], conn_id=f"scansion-{_slug(name)}-{number}")
        try:
            full = await client.login(char.jid, char.password, o["mechanisms"], resource=char.resource,
                                      timeout=o["login_timeout"])
        except LoginError:
            await client.close()
            raise
        self.clients[name] = client
        self.disconnected.discard(name)
        self.variables[f"{name}'s full JID"] = full
        return StepResult(number, step, Status.PASSED, f"bound {full}")

    async def _disconnect(self, number: int, step: Step) -> StepResult:
        name = step.actor
        client = self.clients.pop(name, None)
        if client is None:
            if name in self.disconnected:
                return StepResult(number, step, Status.PASSED, "already disconnected")
            raise ScriptError(f"{name} has not connected")
        self._keep_unread(name, client)
        await client.close()
        self.disconnected.add(name)
        return StepResult(number, step, Status.PASSED)

    def _keep_unread(self, name: str, client: RawClient) -> None:
        left = client.unread
        if left:
            self.unread.setdefault(name, []).extend(left)

    async def close_all(self) -> None:
        for name, client in list(self.clients.items()):
            self._keep_unread(name, client)
        await asyncio.gather(*(c.close() for c in self.clients.values()), return_exceptions=True)
        self.disconnected.update(self.clients)
        self.clients.clear()


async def _take_earlier(client: RawClient, expected, count: int) -> tuple[object, list]:
    """Look at the ``count`` oldest unread stanzas (they arrived before the previous step ended):
    take the first that matches ``expected`` (None: take nothing) and the ones before it;
    returns (the match or None, the skipped)."""
    waiting = client.unread[:count]
    hit = None
    if expected is not None:
        hit = next((k for k, el in enumerate(waiting) if not compare(expected, el)), None)
    count = len(waiting) if hit is None else hit + 1
    taken = [await client.recv(0) for _ in range(count)]
    if hit is None:
        return None, taken
    return taken[-1], taken[:-1]


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def _short(el) -> str:
    text = serialize(el, NS_CLIENT)
    return text if len(text) <= 100 else text[:97] + "..."


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "client"
