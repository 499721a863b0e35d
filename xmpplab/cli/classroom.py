"""``xmpplab classroom``: serve a class (accounts, class list, room, handout) until Ctrl-C."""

from __future__ import annotations

import asyncio

from .common import CLIError, port_number, stop_event
from .serve import _add_limit_flags, _limits_from


def add_parser(cmds) -> None:
    """Add the subcommand and its options to ``cmds``."""
    from ..classroom.command import DESCRIPTION, add_arguments

    c = cmds.add_parser("classroom", help="serve a class: accounts, a room and a printable handout",
                        description=DESCRIPTION)
    add_arguments(c, port_type=port_number)
    _add_limit_flags(c)


def run(args) -> int:
    """Prepare the class and serve it until Ctrl-C; a wrong argument is one sentence."""
    from ..classroom import ClassroomError
    from ..classroom.command import run as run_class

    async def serve() -> int:
        return await run_class(args, limits=_limits_from(args), stop=stop_event())

    try:
        return asyncio.run(serve())
    except ClassroomError as exc:
        raise CLIError(str(exc)) from None
