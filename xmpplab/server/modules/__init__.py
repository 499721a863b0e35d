"""Server features, one file each: ``setup(server)`` hooks the events a feature serves.

A module may name the modules it needs, ``requires = ("roster",)``; the server
checks them all before setting any up, so the order of ``modules=`` does not
matter (a module keeps its state in its own :class:`~xmpplab.server.slots.Slot`
and reads another's only when an event arrives, never at setup).
"""

from __future__ import annotations

import importlib
from types import ModuleType


class MissingModule(ValueError):
    """A module needs another that the server was not given."""


def resolve(spec) -> tuple[str, object]:
    """``"ping"`` (a module here), ``"package.module"`` or a module object: its name and the module."""
    if isinstance(spec, str):
        path = spec if "." in spec else f"{__name__}.{spec}"
        try:
            module = importlib.import_module(path)
        except ModuleNotFoundError as exc:
            if exc.name != path:
                raise
            raise MissingModule(f"there is no server module {spec!r} (no {path})") from None
    else:
        module = spec
    if not callable(getattr(module, "setup", None)):
        raise ValueError(f"{spec!r} is not a server module: it has no setup(server)")
    name = getattr(module, "name", None)
    if not isinstance(name, str):
        name = module.__name__.rpartition(".")[2] if isinstance(module, ModuleType) else type(module).__name__
    return name, module


def load(server, specs) -> list[str]:
    """Check what every module ``requires``, then set each up; return the names loaded."""
    modules: dict[str, object] = {}
    for spec in specs:
        name, module = resolve(spec)
        modules.setdefault(name, module)
    for name, module in modules.items():
        missing = [need for need in getattr(module, "requires", ()) if need not in modules]
        if missing:
            needs = " and ".join(repr(m) for m in missing)
            raise MissingModule(f"the server module {name!r} needs {needs}: add {'them' if len(missing) > 1 else 'it'} "
                                f"to the server's modules")
    for module in modules.values():
        module.setup(server)
    return list(modules)
