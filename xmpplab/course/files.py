"""Where the course's files are: the notebooks and the sample streams, in a wheel or in a checkout.

A wheel carries them as package data under ``xmpplab/_course/`` (``notebooks/`` and ``sample_streams/``,
copied there when the wheel is built, see setup.py); in a checkout of the repository (an editable install)
they are the repository's own ``notebooks/`` and ``sample_streams/``. So a notebook finds the recordings
with :func:`sample_streams`, wherever it runs from.
"""

from __future__ import annotations

import shutil
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parents[1]
_PACKAGED = _PACKAGE / "_course"
_CHECKOUT = _PACKAGE.parent


def _root() -> Path:
    if (_PACKAGED / "notebooks").is_dir():
        return _PACKAGED
    if (_CHECKOUT / "notebooks" / "00-welcome.ipynb").is_file():
        return _CHECKOUT
    raise FileNotFoundError("the course's notebooks are not installed with xmpplab here (neither "
                            f"{_PACKAGED / 'notebooks'} nor {_CHECKOUT / 'notebooks'} exists)")


def notebooks() -> Path:
    """The folder of the course's notebooks (``00-welcome.ipynb`` …)."""
    return _root() / "notebooks"


def sample_streams() -> Path:
    """The folder of the recorded streams the course uses (``sample_streams/``)."""
    return _root() / "sample_streams"


def copy_course(target: str | Path, *, update: bool = False) -> tuple[Path, list[str], list[str]]:
    """Copy the course into ``target`` (the chapters, and the sample streams beside them).

    A file already there is never overwritten, so a learner's edits stay; without ``update`` an existing
    course folder is left as it is, with ``update`` the chapters it lacks are added. Returns (the folder,
    the files copied, the files kept).
    """
    target = Path(target)
    copied, kept = [], []
    if target.exists() and any(target.glob("*.ipynb")) and not update:
        return target, copied, sorted(p.name for p in target.glob("*.ipynb"))
    target.mkdir(parents=True, exist_ok=True)
    sources = [(p, target / p.name) for p in sorted(notebooks().glob("[0-9][0-9]-*.ipynb"))]
    samples = sample_streams()
    sources += [(p, target / "sample_streams" / p.relative_to(samples)) for p in sorted(samples.rglob("*"))
                if p.is_file()]
    for source, dest in sources:
        if dest.exists():
            kept.append(str(dest.relative_to(target)))
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, dest)
        copied.append(str(dest.relative_to(target)))
    return target, copied, kept
