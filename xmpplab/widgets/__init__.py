"""Widgets for JupyterLab: compose and send stanzas, watch streams live, step through a replay, see rosters.

    from xmpplab.widgets import Composer, StreamConsole, StepperWidget, RosterBoard
    Composer(lab)                # a form (or raw XML) for one stanza, its preview, Send, the answer
    StreamConsole(lab)           # the two-column stream view, updating as stanzas flow, with filters
    StepperWidget(lab.transcript, kinds="stanza")   # prev / next / slider, with the stanza's path
    RosterBoard(lab)             # each account, its contacts, subscription states and presence, live
    predict(question, options, answer)   # predict, then run: a checked multiple-choice question

They are ipywidgets (``ipywidgets.VBox``), so they nest in other layouts. Each
keeps its state readable from Python (for tests and scripts), runs its
background work in the Lab's event loop without blocking it, and stops that
work when closed (``widget.close()``). ipywidgets is imported only when one
of them is first used, so ``import xmpplab`` stays light.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "Composer": "composer",
    "Answer": "composer",
    "check_stanza": "composer",
    "StreamConsole": "console",
    "StepperWidget": "stepper",
    "RosterBoard": "board",
    "Dashboard": "dashboard",
    "Prediction": "prediction",
    "predict": "prediction",
}

__all__ = ["Answer", "Composer", "Dashboard", "Prediction", "RosterBoard", "StepperWidget", "StreamConsole",
           "check_stanza", "predict"]


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(_EXPORTS) | {"__all__", "__doc__"})
