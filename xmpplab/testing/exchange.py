"""The same small exchange, run on several servers or by several client libraries, compared side by side.

Chapter 16 of the course asks "which server, which library?" and answers with
recordings rather than opinions: Romeo and Juliet log in, Romeo sends Juliet
one chat message, she reads it, both log out. Run on our server, on Prosody
and on ejabberd (:func:`run_on_server`), the recordings show what each server
offers at each stage of the stream (:meth:`Exchange.features`); run by
slixmpp, by hand-written XML (:class:`~xmpplab.rawclient.RawClient`) and by
xmpp.js in Node (:func:`run_xmppjs`) against one server, they show what each
library sends to do the same job (:meth:`Exchange.client_steps`).

A run that cannot happen here (Prosody not installed, Node missing) is an
:class:`Exchange` whose ``skipped`` says why, so a notebook shows one line
instead of a traceback; :func:`compare` lays several out as one table.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..client import Client, ClientError
from ..rawclient import RawClient, RawClientError
from ..recording import MemoryRecorder
from ..transcript import Transcript
from ..transcript.model import Direction, ItemKind
from ..xml import split_qname

__all__ = ["Exchange", "compare", "node_modules", "run_on", "run_on_lab", "run_on_server", "run_rawxml",
           "run_xmppjs"]

BODY = "Wherefore art thou, Romeo?"
XMPPJS_SCRIPT = Path(__file__).with_name("xmppjs_exchange.mjs")

#: Short names for the stream features a server may offer (RFC 6120 §4.3.2 and the XEPs that add one).
FEATURE_NAMES = {
    "urn:ietf:params:xml:ns:xmpp-tls": "starttls",
    "urn:ietf:params:xml:ns:xmpp-sasl": "sasl",
    "urn:ietf:params:xml:ns:xmpp-bind": "bind",
    "urn:ietf:params:xml:ns:xmpp-session": "session",
    "http://jabber.org/features/iq-register": "register",
    "urn:xmpp:features:rosterver": "roster versioning",
    "urn:xmpp:features:pre-approval": "pre-approval",
    "http://jabber.org/protocol/caps": "caps",
    "urn:xmpp:sm:3": "stream management",
    "urn:xmpp:csi:0": "client state",
    "urn:xmpp:sasl:2": "SASL 2",
    "urn:xmpp:bind:0": "bind 2",
    "http://jabber.org/features/compress": "compression",
    "urn:xmpp:features:dialback": "dialback",
}


@dataclass
class Exchange:
    """One run of the exchange: on which server, by which library, its recording, and how it went.

    ``transcript`` holds Romeo's connection (the one that sends); ``seconds`` is
    the time from the first connect to Juliet reading the message; ``error``
    says what went wrong, ``skipped`` why it did not run at all.
    """

    server: str
    library: str
    transcript: Transcript | None = None
    seconds: float | None = None
    error: str | None = None
    skipped: str | None = None
    conn: str | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        """True when the message arrived."""
        return self.transcript is not None and self.error is None and self.skipped is None

    def _connection(self):
        if self.transcript is None:
            return None
        conns = self.transcript.connections
        return conns.get(self.conn) if self.conn else next(iter(conns.values()), None)

    def features(self) -> list[list[str]]:
        """The stream features the server offered, one list per stream (before TLS, before SASL, after SASL)."""
        conn = self._connection()
        if conn is None:
            return []
        stages = []
        for item in conn.parsed:
            if item.kind is ItemKind.NONZA and item.direction is Direction.S2C and item.name == "features":
                stages.append([_feature(child) for child in item.element if isinstance(child.tag, str)])
        return stages

    def client_steps(self) -> list[str]:
        """What the client sent, in order, one short name per element (``stream``, ``starttls``, ``auth
        SCRAM-SHA-1``, ``iq bind``, ``presence``, ``message``)."""
        conn = self._connection()
        if conn is None:
            return []
        steps = []
        for item in conn.parsed:
            if item.direction is not Direction.C2S:
                continue
            if item.kind is ItemKind.STREAM_OPEN:
                steps.append("stream")
            elif item.kind in (ItemKind.STANZA, ItemKind.NONZA) and item.element is not None:
                steps.append(_step(item.element))
            elif item.kind is ItemKind.STREAM_CLOSE:
                steps.append("close")
        return steps

    def summary(self) -> str:
        """One line: who, where, and how it went."""
        where = f"{self.library} on {self.server}"
        if self.skipped:
            return f"{where}: skipped ({self.skipped})"
        if self.error:
            return f"{where}: failed ({self.error})"
        return f"{where}: message delivered in {self.seconds * 1000:.0f} ms"

    def __repr__(self) -> str:
        return f"<Exchange {self.summary()}>"


def _feature(child) -> str:
    ns, name = split_qname(child.tag)
    short = FEATURE_NAMES.get(ns, name)
    if short == "sasl":
        mechanisms = [m.text for m in child if isinstance(m.tag, str) and m.text]
        return "SASL " + " ".join(mechanisms)
    if short == "starttls" and any(isinstance(c.tag, str) and split_qname(c.tag)[1] == "required" for c in child):
        return "starttls (required)"
    return short


def _step(element) -> str:
    ns, name = split_qname(element.tag)
    if name == "auth":
        return f"auth {element.get('mechanism')}"
    if name == "iq":
        payload = next((c for c in element if isinstance(c.tag, str)), None)
        what = split_qname(payload.tag)[1] if payload is not None else "(empty)"
        return f"iq {element.get('type')} {what}"
    return name


async def _end(*clients) -> None:
    """Log out each client that connected (a :class:`Client` or a :class:`RawClient`; None for one that did not),
    quietly: the exchange has its result by then."""
    for client in clients:
        if client is None:
            continue
        with contextlib.suppress(ClientError, RawClientError, OSError):
            await (client.close() if isinstance(client, RawClient) else client.disconnect())


def _jid(user: str, domain: str, resource: str) -> str:
    return f"{user}@{domain}/{resource}"


async def run_on_server(host: str, port: int, domain: str, *, server: str, password: str = "password",
                        timeout: float = 15.0) -> Exchange:
    """Run the exchange with slixmpp (xmpplab's :class:`~xmpplab.client.Client`) on any server at ``host:port``.

    The accounts ``romeo@DOMAIN`` and ``juliet@DOMAIN`` must exist with ``password``.
    """
    return await _slixmpp(host, port, _pair(domain, password), server=server, timeout=timeout)


def _pair(domain: str, password: str) -> tuple:
    """Romeo's and Juliet's (full JID, password) on ``domain``, as the exchange uses them."""
    return ((_jid("romeo", domain, "orchard"), password), (_jid("juliet", domain, "balcony"), password))


async def _slixmpp(host: str, port: int, people: tuple, *, server: str, timeout: float) -> Exchange:
    (romeo_jid, romeo_password), (juliet_jid, juliet_password) = people
    start = time.perf_counter()
    romeo = juliet = None
    try:
        juliet = await Client.connect(juliet_jid, juliet_password, host=host, port=port, verify_tls=False,
                                      timeout=timeout)
        romeo = await Client.connect(romeo_jid, romeo_password, host=host, port=port, verify_tls=False,
                                     timeout=timeout)
        await romeo.send_message(str(juliet.jid), BODY)
        got = await juliet.next("message", timeout=timeout)
        seconds = time.perf_counter() - start
        error = None if got["body"] == BODY else f"Juliet read {got['body']!r}"
    except (ClientError, OSError) as exc:
        seconds, error = None, str(exc)
    finally:
        await _end(romeo, juliet)
    return Exchange(server=server, library="slixmpp", seconds=seconds, error=error,
                    transcript=romeo.transcript if romeo is not None else None,
                    conn=romeo.conn if romeo is not None else None)


async def run_rawxml(host: str, port: int, domain: str, *, server: str, password: str = "password",
                     timeout: float = 15.0) -> Exchange:
    """Run the exchange by hand: xmpplab's :class:`~xmpplab.rawclient.RawClient`, one stanza at a time."""
    return await _rawxml(host, port, _pair(domain, password), server=server, timeout=timeout)


async def _rawxml(host: str, port: int, people: tuple, *, server: str, timeout: float) -> Exchange:
    (romeo_jid, romeo_password), (juliet_jid, juliet_password) = people
    recorder = MemoryRecorder()
    start = time.perf_counter()
    romeo = juliet = None
    try:
        juliet = await RawClient.connect(host, port, timeout=timeout)
        await juliet.login(juliet_jid, juliet_password, timeout=timeout)
        await juliet.send("<presence/>")
        romeo = await RawClient.connect(host, port, recorder=recorder, timeout=timeout)
        await romeo.login(romeo_jid, romeo_password, timeout=timeout)
        await romeo.send("<presence/>")
        await romeo.send(f"<message to='{juliet.jid}' type='chat'><body>{BODY}</body></message>")
        while True:
            got = await juliet.recv(timeout=timeout)
            if split_qname(got.tag)[1] == "message":
                break
        seconds, error = time.perf_counter() - start, None
    except (RawClientError, OSError, TimeoutError) as exc:
        seconds, error = None, str(exc)
    finally:
        await _end(romeo, juliet)
    transcript = Transcript.from_events(recorder.events, recorded_by="xmpplab RawClient") if recorder.events \
        else None
    return Exchange(server=server, library="raw XML", transcript=transcript, seconds=seconds, error=error)


REQUIRE_PEERS_ENV = "XMPPLAB_REQUIRE_PEERS"


def _missing(exchange: Exchange) -> Exchange:
    """A skipped run, or under ``XMPPLAB_REQUIRE_PEERS=1`` (CI) an error: CI never hides a run that did not happen."""
    if os.environ.get(REQUIRE_PEERS_ENV) == "1":
        raise RuntimeError(f"{exchange.summary()}, but {REQUIRE_PEERS_ENV}=1 requires it")
    return exchange


async def run_on(name: str, domain: str = "example.com", *, password: str = "password") -> Exchange:
    """Start a private Prosody or ejabberd on loopback (``name``: "prosody" or "ejabberd"), create Romeo and
    Juliet, run the exchange with slixmpp, stop the server; a skipped run says why when it is not installed."""
    from .ejabberd import EjabberdServer, ejabberd_path
    from .prosody import ProsodyServer, prosody_path

    launchers = {"prosody": (ProsodyServer, prosody_path, "Prosody"),
                 "ejabberd": (EjabberdServer, ejabberd_path, "ejabberd")}
    if name not in launchers:
        raise ValueError(f"run_on({name!r}): the servers this kit can start are 'prosody' and 'ejabberd'")
    launcher, path, label = launchers[name]
    if path() is None:
        return _missing(Exchange(server=label, library="slixmpp",
                                 skipped=f"{label} is not installed here (apt-get install {name})"))
    async with launcher([domain]) as external:
        for user in ("romeo", "juliet"):
            await external.aregister(user, domain, password, exist_ok=True)
        return await run_on_server(external.host, external.port, domain, server=label, password=password)


def node_modules() -> Path | None:
    """A ``node_modules`` folder holding ``@xmpp/client``: ``$XMPPLAB_NODE_MODULES``, ``./node_modules``,
    the checkout's ``tests/peers/node_modules``, or npm's global folder; None when there is none."""
    candidates = [os.environ.get("XMPPLAB_NODE_MODULES"), "node_modules",
                  Path(__file__).resolve().parents[2] / "tests" / "peers" / "node_modules"]
    npm = shutil.which("npm")
    if npm:
        with contextlib.suppress(OSError, ValueError):
            import subprocess
            root = subprocess.run([npm, "root", "-g"], capture_output=True, text=True, timeout=20).stdout.strip()
            candidates.append(root)
    for candidate in candidates:
        if candidate and (Path(candidate) / "@xmpp" / "client" / "package.json").is_file():
            return Path(candidate).resolve()
    return None


async def run_xmppjs(host: str, port: int, domain: str, transcript: Transcript, *, server: str,
                     password: str = "password", timeout: float = 20.0) -> Exchange:
    """Run the exchange with xmpp.js (``@xmpp/client`` in Node): Romeo is the Node client.

    Node records nothing, so Romeo's connection is read from ``transcript``, the
    server's own recording (a :class:`~xmpplab.Lab`'s ``lab.transcript``).
    Juliet is slixmpp. Skipped, with the reason, when Node or the library is missing.
    """
    return await _xmppjs(host, port, _pair(domain, password), transcript, server=server, timeout=timeout)


async def _xmppjs(host: str, port: int, people: tuple, transcript: Transcript, *, server: str,
                  timeout: float) -> Exchange:
    (romeo_jid, romeo_password), (juliet_jid, juliet_password) = people
    romeo_bare = romeo_jid.partition("/")[0]
    user, _, domain = romeo_bare.partition("@")
    node, modules = shutil.which("node"), node_modules()
    if node is None or modules is None:
        what = "Node.js" if node is None else "the npm package @xmpp/client (npm install @xmpp/client)"
        return _missing(Exchange(server=server, library="xmpp.js", skipped=f"{what} is not installed here"))
    before = set(transcript.connections)
    start = time.perf_counter()
    juliet = None
    error = None
    try:
        juliet = await Client.connect(juliet_jid, juliet_password, host=host, port=port, verify_tls=False,
                                      timeout=timeout)
        # Node's ES modules ignore NODE_PATH: they look for node_modules next to the script, so the
        # script runs from a temporary folder that links to the one found.
        with tempfile.TemporaryDirectory(prefix="xmpplab-xmppjs-") as folder:
            script = Path(folder) / XMPPJS_SCRIPT.name
            shutil.copyfile(XMPPJS_SCRIPT, script)
            (Path(folder) / "node_modules").symlink_to(modules, target_is_directory=True)
            env = {**os.environ, "NODE_TLS_REJECT_UNAUTHORIZED": "0"}
            proc = await asyncio.create_subprocess_exec(
                node, str(script), f"xmpp://{host}:{port}", domain, user, romeo_password, str(juliet.jid), BODY,
                env=env, cwd=folder, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
            try:
                out, err = await asyncio.wait_for(proc.communicate(), timeout)
            except TimeoutError:
                proc.kill()
                raise
        if proc.returncode:
            error = _node_error(out, err)
        else:
            got = await juliet.next("message", timeout=timeout)
            if got["body"] != BODY:
                error = f"Juliet read {got['body']!r}"
    except (ClientError, OSError, TimeoutError) as exc:
        error = str(exc)
    finally:
        await _end(juliet)
    seconds = None if error else time.perf_counter() - start
    new = [c for c in transcript.connections if c not in before
           and (transcript.connections[c].jid or "").startswith(romeo_bare)]
    return Exchange(server=server, library="xmpp.js", transcript=transcript, seconds=seconds, error=error,
                    conn=new[0] if new else None)


async def run_on_lab(lab, library: str = "slixmpp", *, timeout: float = 20.0) -> Exchange:
    """Run the exchange on a Lab's server with ``library`` ("slixmpp", "raw XML" or "xmpp.js"), as the Lab's
    Romeo and Juliet (``romeo@`` and ``juliet@`` its first domain, made on demand; in a class, the student's
    practice accounts on the class server, through the Lab's proxy: :meth:`Lab.login_for
    <xmpplab.lab.Lab.login_for>`). The server's column is named after the domain that answered."""
    runs = {"slixmpp": _slixmpp, "raw XML": _rawxml, "xmpp.js": _xmppjs}
    if library not in runs:
        raise ValueError(f"run_on_lab(library={library!r}): the libraries are {', '.join(map(repr, runs))}")
    domain = lab.domains[0]
    romeo = await lab.login_for(f"romeo@{domain}/orchard")
    juliet = await lab.login_for(f"juliet@{domain}/balcony")
    people = ((romeo.jid, romeo.password), (juliet.jid, juliet.password))
    where = (romeo.host, romeo.port, people)
    server = f"xmpplab ({romeo.jid.partition('@')[2].partition('/')[0]})"
    if library == "xmpp.js":
        return await _xmppjs(*where, lab.transcript, server=server, timeout=timeout)
    return await runs[library](*where, server=server, timeout=timeout)


def _node_error(out: bytes, err: bytes) -> str:
    for line in out.decode(errors="replace").splitlines()[::-1]:
        with contextlib.suppress(ValueError):
            event = json.loads(line)
            if event.get("event") == "error":
                return str(event.get("message"))
    return err.decode(errors="replace").strip().splitlines()[-1:][0] if err.strip() else "node failed"


def compare(exchanges: Iterable[Exchange], what: str = "features"):
    """A table of several runs side by side: ``what="features"`` (what each server offers, stream by
    stream) or ``"steps"`` (what each client sent). Returns a :class:`ComparisonTable`."""
    if what not in ("features", "steps"):
        raise ValueError(f"compare what={what!r}: use 'features' (servers) or 'steps' (client libraries)")
    return ComparisonTable(list(exchanges), what)


class ComparisonTable:
    """Runs side by side, one column each; shown as HTML in a notebook and as text elsewhere."""

    STAGES = ("before TLS", "before login", "after login")

    def __init__(self, exchanges: list[Exchange], what: str):
        self.exchanges = exchanges
        self.what = what

    def columns(self) -> list[tuple[str, list[str]]]:
        """(heading, lines) per run that ran; a skipped or failed run has its reason as its only line."""
        columns = []
        for ex in self.exchanges:
            heading = ex.server if self.what == "features" else ex.library
            if not ex.ok:
                columns.append((heading, [ex.summary().split(": ", 1)[1]]))
            elif self.what == "features":
                stages = ex.features()
                names = self.STAGES if len(stages) == 3 else [f"stream {i + 1}" for i in range(len(stages))]
                columns.append((heading, [f"{n}: {', '.join(f)}" for n, f in zip(names, stages, strict=True)]))
            else:
                columns.append((heading, ex.client_steps()))
        return columns

    def __repr__(self) -> str:
        parts = []
        for heading, lines in self.columns():
            parts.append(heading + "\n" + "\n".join(f"  {line}" for line in lines))
        return "\n\n".join(parts) or "(no runs)"

    def _repr_html_(self) -> str:
        from html import escape
        cells = []
        for heading, lines in self.columns():
            body = "".join(f"<li>{escape(line)}</li>" for line in lines)
            cells.append(f"<td style='vertical-align:top;padding:4px 12px'><b>{escape(heading)}</b>"
                         f"<ol style='margin:4px 0;padding-left:20px;font-family:monospace'>{body}</ol></td>")
        return f"<table><tr>{''.join(cells)}</tr></table>"
