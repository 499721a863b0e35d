"""Where ``Lab.start()`` may start something else than a private server: a kernel that works in a class.

:mod:`xmpplab.lab` asks the choosers added here before it makes a private Lab; the package root adds
the classroom's (:func:`xmpplab.classroom.remote.class_lab`), imported only when a Lab starts, so
the Lab knows nothing of the classroom and the classroom builds on the Lab.
"""

from __future__ import annotations

from collections.abc import Callable

_choosers: list[Callable] = []


def add_chooser(choose: Callable) -> None:
    """Add ``choose(domains, options, private) -> Lab | None``, asked by every ``Lab.start()``."""
    if choose not in _choosers:
        _choosers.append(choose)


def chosen_lab(domains, options: dict, private: bool):
    """The first Lab a chooser offers for ``Lab.start(domains, **options)``, or None: a private one."""
    for choose in _choosers:
        lab = choose(domains, options, private)
        if lab is not None:
            return lab
    return None
