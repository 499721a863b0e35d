"""Coverage-guided fuzz target (atheris) for the server's client connections.

Each input is what one client sends: it goes to a ``C2SSession`` of a fresh, real ``Server``
(``register=True``, accounts juliet and romeo with password ``secret``, peer 127.0.0.1 so PLAIN
works without TLS) through a fake transport, one packet after each ``>``.
:func:`tests.fuzz.harness.check_connection` says what must hold: no exception escapes (into the
protocol, the event loop or the log as a traceback), the connection stays up or closes with its
stream ended (a ``<stream:error/>`` first when the server closed it), and everything the server
wrote is a well-formed stream. Run it from the repository root (docs/fuzzing.md)::

    python -m tests.fuzz.fuzz_c2s /tmp/fuzz-c2s tests/fuzz/corpus -max_total_time=600
"""

import asyncio
import logging
import sys

import atheris

with atheris.instrument_imports(include=["xmpplab"]):
    import importlib

    import xmpplab.server.c2s  # noqa: F401
    from tests.fuzz.harness import run_connection
    from xmpplab.server.core import DEFAULT_MODULES

    for _name in DEFAULT_MODULES:  # Server() imports them later: instrument them now
        importlib.import_module(f"xmpplab.server.modules.{_name}")

_LOOP = None


def test_one_input(data: bytes) -> None:
    global _LOOP
    if _LOOP is None:
        _LOOP = asyncio.new_event_loop()
        asyncio.set_event_loop(_LOOP)
        logging.getLogger("xmpplab").setLevel(logging.INFO)  # one-line INFO logs are fine; no output
        logging.getLogger("xmpplab").propagate = False
    _LOOP.run_until_complete(run_connection(data))


def main(argv=None) -> None:
    atheris.Setup(list(argv or sys.argv), test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
