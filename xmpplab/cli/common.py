"""What every subcommand shares: the error a user can fix, the parser that says it in one sentence,
argument types (ports, addresses, sizes), the password prompt, colour and Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import os
import signal
import sys

__all__ = ["CLIError", "Parser", "ask_password", "byte_size", "color_ok", "listen_address", "load_transcript",
           "port_number", "positive_number", "run_until_stopped", "server_address", "start_service", "stop_event"]


class CLIError(Exception):
    """A problem the user can fix; printed as one sentence."""


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one sentence, not usage and a message."""

    def error(self, message):
        """Exit with the error in one sentence and a pointer to --help, instead of the usage text."""
        self.exit(2, f"xmpplab: {message} (see '{self.prog} --help')\n")


def port_number(text: str) -> int:
    """A TCP port, 0 to 65535."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"the port must be a number, not {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"the port must be from 0 to 65535, not {value}")
    return value


def _split_host_port(text: str) -> tuple[str | None, str | None]:
    """``host:port``, ``[v6]:port``, ``host`` or ``port`` -> (host, port text); either may be None."""
    text = text.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        return host, rest[1:] if rest.startswith(":") else None
    if text.count(":") == 1:
        host, _, port = text.partition(":")
        return host or None, port
    if text.isdigit():
        return None, text
    return text or None, None


def listen_address(text: str) -> tuple[str, int]:
    """``[HOST:]PORT`` to listen on; the host defaults to 127.0.0.1 (loopback)."""
    host, port = _split_host_port(text)
    if port is None:
        raise argparse.ArgumentTypeError(f"give a port to listen on, e.g. 5223 or 127.0.0.1:5223, not {text!r}")
    return host or "127.0.0.1", port_number(port)


def server_address(text: str) -> tuple[str, int]:
    """``HOST[:PORT]`` of a server; the port defaults to 5222."""
    host, port = _split_host_port(text)
    if host is None:
        raise argparse.ArgumentTypeError(f"give a server as HOST:PORT, e.g. 127.0.0.1:5222, not {text!r}")
    return host, port_number(port) if port is not None else 5222


def byte_size(text: str) -> int:
    """A size in bytes, with k or M (``256k``, ``4M``)."""
    from ..server.limits import parse_size
    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def positive_number(kind):
    """An argument type: a number of ``kind`` (int or float) above zero."""
    def convert(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"give a number, not {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"give a positive number, not {text!r}")
        return value
    return convert


def ask_password(given: str | None, prompt: str, when_empty: str) -> str:
    """The --password, else asked at the terminal, else one line of standard input; never empty."""
    password = given
    if password is None:
        password = getpass.getpass(prompt) if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
    if not password:
        raise CLIError(when_empty)
    return password


def color_ok() -> bool:
    """Whether to colour the output: a terminal without NO_COLOR, or FORCE_COLOR."""
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ or "FORCE_COLOR" in os.environ


def stop_event() -> asyncio.Event:
    """An event set by Ctrl-C (SIGINT) or SIGTERM, for a subcommand that serves until stopped."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # Windows: Ctrl-C raises KeyboardInterrupt instead
            loop.add_signal_handler(sig, stop.set)
    return stop


async def start_service(service) -> asyncio.Event:
    """Start a server, proxy or fake server (a port in use is a CLIError); returns the Ctrl-C event."""
    try:
        await service.start()
    except OSError as exc:
        raise CLIError(exc.strerror or str(exc)) from None
    return stop_event()


async def run_until_stopped(service, stop: asyncio.Event) -> None:
    """Wait for Ctrl-C (``stop``), then stop ``service``."""
    try:
        await stop.wait()
    finally:
        print("stopping…", flush=True)
        await service.stop()


def load_transcript(path: str):
    """The transcript in ``path`` (any format the replay reads), or a CLIError saying why not."""
    from ..replay import load_transcript as load
    from ..transcript import TranscriptError

    try:
        return load(path)
    except TranscriptError as exc:
        raise CLIError(str(exc)) from None
    except OSError as exc:
        raise CLIError(f"cannot read {path}: {exc.strerror}") from None
