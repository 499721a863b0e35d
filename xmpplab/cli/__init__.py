"""The ``xmpplab`` command: ``serve``, ``accounts``, ``demo``, ``record``, ``replay``, ``convert``, ``render``
and ``lab``.

Run ``xmpplab --help`` or ``xmpplab COMMAND --help``. A wrong argument gets
one readable sentence and exit status 2, never a traceback. One module per
subcommand (:mod:`.serve`, :mod:`.accounts`, ...), what they share in
:mod:`.common`, the parser and the dispatch in :mod:`.main`.
"""

from __future__ import annotations

from .common import CLIError
from .main import build_parser, main

__all__ = ["CLIError", "build_parser", "main"]
