"""Helpers for peer tests: real XMPP clients nobody here wrote, run from pytest.

Two peers:

* ``tests/peers/xmpp_client.mjs``: Node + ``@xmpp/client`` 0.14 (STARTTLS,
  SCRAM-SHA-1); prints one JSON event per line; see the script's header.
* ``sendxmpp`` (Debian package; Perl Net::XMPP): STARTTLS, SASL PLAIN only.

Both skip certificate verification (test servers use self-signed certificates).
``.ci/install-peers`` installs them. A missing peer skips the test, unless
``XMPPLAB_REQUIRE_PEERS=1`` (as in CI), which turns the skip into a failure::

    from tests.peers import need_node_client, run_node_client

    async def test_node_client_logs_in(server):
        need_node_client()
        result = await run_node_client(host=..., port=..., domain=...,
                                       username="romeo", password="secret")
        assert result.returncode == 0, result.describe()
        assert result.event("online")["jid"].startswith("romeo@")
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

PEERS_DIR = Path(__file__).resolve().parent / "peers"
NODE_CLIENT_SCRIPT = PEERS_DIR / "xmpp_client.mjs"
STANZA_CLIENT_SCRIPT = PEERS_DIR / "stanza_client.mjs"
REQUIRE_PEERS_ENV = "XMPPLAB_REQUIRE_PEERS"
INSTALL_HINT = ".ci/install-peers"


def peers_required() -> bool:
    """True when a missing peer must fail the test instead of skipping it."""
    return os.environ.get(REQUIRE_PEERS_ENV) == "1"


def need_program(name: str, found: bool, install_hint: str) -> None:
    """Skip the calling test unless `found`; fail it if XMPPLAB_REQUIRE_PEERS=1."""
    if found:
        return
    reason = f"{name} is not installed ({install_hint}); peer test skipped"
    if peers_required():
        pytest.fail(f"{reason}, but {REQUIRE_PEERS_ENV}=1 requires it", pytrace=False)
    pytest.skip(reason)


def node_path() -> str | None:
    return shutil.which("node")


def node_client_available() -> bool:
    """Node is on PATH and `npm ci` has been run in tests/peers."""
    package = PEERS_DIR / "node_modules" / "@xmpp" / "client" / "package.json"
    return node_path() is not None and package.is_file()


def node_package_available(name: str) -> bool:
    """Node is on PATH and the npm package ``name`` is installed in tests/peers (``npm ci``)."""
    return node_path() is not None and (PEERS_DIR / "node_modules" / name / "package.json").is_file()


def need_node_package(name: str) -> None:
    """Skip (or under XMPPLAB_REQUIRE_PEERS=1, fail) unless the npm package ``name`` is installed."""
    need_program(f"node with {name}", node_package_available(name),
                 f"Node >= 20.10, then `npm ci` in tests/peers, or run {INSTALL_HINT}")


def sendxmpp_path() -> str | None:
    return shutil.which("sendxmpp")


def need_node_client() -> None:
    need_program("node with @xmpp/client", node_client_available(),
                 f"Node >= 20.10, then `npm ci` in tests/peers, or run {INSTALL_HINT}")


def need_sendxmpp() -> None:
    need_program("sendxmpp", sendxmpp_path() is not None,
                 f"apt-get install sendxmpp, or run {INSTALL_HINT}")


@dataclass
class PeerResult:
    """What a peer process did. returncode is None if it was killed on timeout."""

    argv: list[str]
    returncode: int | None
    stdout: str
    stderr: str
    timed_out: bool = False

    @property
    def events(self) -> list[dict]:
        """The JSON events the Node client printed, one per stdout line."""
        events = []
        for line in self.stdout.splitlines():
            if line.strip():
                try:
                    events.append(json.loads(line))
                except json.JSONDecodeError:
                    events.append({"event": "unparsed", "line": line})
        return events

    def event(self, name: str) -> dict | None:
        """The first event called `name`, or None."""
        return next((e for e in self.events if e.get("event") == name), None)

    @property
    def errors(self) -> str:
        """stderr without Perl's "Use of uninitialized value" noise (sendxmpp)."""
        return "\n".join(line for line in self.stderr.splitlines()
                         if not line.startswith("Use of uninitialized value"))

    def describe(self) -> str:
        """For assertion messages (the password is masked)."""
        argv = ["***" if i and self.argv[i - 1] in ("-p", "--password") else a
                for i, a in enumerate(self.argv)]
        state = "killed on timeout" if self.timed_out else f"exit {self.returncode}"
        return f"{' '.join(argv)}: {state}\nstdout:\n{self.stdout}\nstderr:\n{self.errors}"


def node_client_argv(*, domain: str, username: str, password: str, host: str | None = None,
                     port: int | None = None, resource: str | None = None,
                     send_to: str | None = None, body: str | None = None,
                     expect_from: str | None = None, timeout: float = 10.0,
                     service: str | None = None, script: Path = NODE_CLIENT_SCRIPT) -> list[str]:
    service = service or f"xmpp://{_host_for_url(host)}:{port}"
    argv = [node_path() or "node", str(script), "--service", service, "--domain", domain,
            "--username", username, "--password", password, "--timeout", str(timeout)]
    if resource:
        argv += ["--resource", resource]
    if send_to:
        argv += ["--send-to", send_to]
    if body is not None:
        argv += ["--body", body]
    if expect_from:
        argv += ["--expect-from", expect_from]
    return argv


async def run_node_client(*, timeout: float = 10.0, **options) -> PeerResult:
    """Run tests/peers/xmpp_client.mjs; keyword options as node_client_argv.

    The script gives up itself after `timeout` seconds (exit 1, error event);
    the process is killed if it is still running 10 seconds later.
    """
    env = dict(os.environ, NODE_TLS_REJECT_UNAUTHORIZED="0", NODE_NO_WARNINGS="1")
    argv = node_client_argv(timeout=timeout, **options)
    return await _run(argv, timeout=timeout + 10, env=env)


async def run_stanza_client(*, service: str, timeout: float = 10.0, **options) -> PeerResult:
    """Run tests/peers/stanza_client.mjs (StanzaJS over WebSocket); options as node_client_argv.

    ``service`` is the WebSocket URL (``ws://127.0.0.1:PORT/xmpp-websocket``).
    """
    env = dict(os.environ, NODE_TLS_REJECT_UNAUTHORIZED="0", NODE_NO_WARNINGS="1")
    argv = node_client_argv(timeout=timeout, service=service, script=STANZA_CLIENT_SCRIPT, **options)
    return await _run(argv, timeout=timeout + 10, env=env)


def sendxmpp_argv(*, host: str, port: int, domain: str, username: str,
                  password: str, to: str, resource: str | None = None,
                  message_type: str = "chat") -> list[str]:
    # -t STARTTLS, -n no certificate check, -j HOST:PORT where to connect,
    # -o DOMAIN the stream's `to` (else it is HOST), -u the localpart only.
    argv = [sendxmpp_path() or "sendxmpp", "-t", "-n", "-j", f"{host}:{port}",
            "-o", domain, "-u", username, "-p", password,
            "--message-type", message_type]
    if resource:
        argv += ["-r", resource]
    return argv + [to]


async def run_sendxmpp(*, body: str, timeout: float = 20.0, **options) -> PeerResult:
    """Send one message with sendxmpp; keyword options as sendxmpp_argv.

    The body goes through stdin verbatim (no newline added). sendxmpp exits 0
    once the message is written; it prints errors, and much Perl warning
    noise, on stderr (see PeerResult.errors). The resource defaults to a
    random "sendxmpp-XXXXXXXX": with sendxmpp's own fixed default, concurrent
    runs for one account kick each other off (exit 255).
    """
    if not options.get("resource"):
        options["resource"] = f"sendxmpp-{secrets.token_hex(4)}"
    argv = sendxmpp_argv(**options)
    return await _run(argv, timeout=timeout, stdin=body.encode())


async def _run(argv: list[str], *, timeout: float, stdin: bytes | None = None,
               env: dict | None = None) -> PeerResult:
    proc = await asyncio.create_subprocess_exec(
        *argv, env=env,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    stdout = asyncio.create_task(proc.stdout.read())
    stderr = asyncio.create_task(proc.stderr.read())
    if stdin is not None:
        try:
            proc.stdin.write(stdin)
            await proc.stdin.drain()
            proc.stdin.close()
        except (BrokenPipeError, ConnectionResetError):
            pass  # it exited early; its returncode and stderr tell why
    timed_out = False
    try:
        await asyncio.wait_for(proc.wait(), timeout)
    except TimeoutError:
        timed_out = True
        proc.kill()
        await proc.wait()
    return PeerResult(argv=argv, returncode=None if timed_out else proc.returncode,
                      stdout=(await stdout).decode(errors="replace"),
                      stderr=(await stderr).decode(errors="replace"),
                      timed_out=timed_out)


def _host_for_url(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host
