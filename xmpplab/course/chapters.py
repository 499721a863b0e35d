"""Imports every chapter module so its exercises are registered."""

import importlib
import pkgutil
from pathlib import Path

for _info in sorted(pkgutil.iter_modules([str(Path(__file__).parent)]), key=lambda m: m.name):
    if _info.name.startswith("ch") and _info.name[2:4].isdigit():
        importlib.import_module(f"{__package__}.{_info.name}")
