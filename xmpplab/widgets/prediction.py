"""Predict, then run: a checked multiple-choice question to answer before a key cell.

In a notebook cell, before the cell that shows what happens::

    xmpplab.predict(
        "Juliet is offline. Romeo writes to her. What does her server do?",
        {"Keeps it and delivers it when she logs in": "Right: an offline message is stored (XEP-0160).",
         "Drops it silently": "XMPP servers do not drop it: they store it or answer with an error.",
         "Sends it to every contact of Juliet": "A message goes to its 'to' only."},
        answer="Keeps it and delivers it when she logs in")

In JupyterLab or Notebook this shows the question, radio buttons and a
**Check** button; Check shows the feedback of the chosen answer (green when
right, the explanation of the misconception when wrong), and the learner may
try again. Where widgets are not drawn (a terminal, nbconvert's output), the
text form shows the question and the lettered choices, never which one is right.

From Python (tests, scripts) the same state::

    p = predict(question, options, answer)
    p.choose("B")        # by letter, or by the choice's text
    p.check()            # True when right, False when wrong, None when nothing is chosen
    p.feedback           # the words shown after Check
"""

from __future__ import annotations

import re
import string

from ..render.palette import FONT, GREEN_TEXT, GREEN_TINT, MUTED, RED_TEXT, RED_TINT
from ._base import W, box, esc

__all__ = ["Prediction", "predict"]

LETTERS = string.ascii_uppercase
_CODE_SPAN = re.compile(r"`([^`]+)`")


def rich(text: str) -> str:
    """``text`` escaped for HTML, with its `code spans` set in code type."""
    return _CODE_SPAN.sub(r"<code>\1</code>", esc(text))


def _validate(question, options, answer) -> None:
    """Raise one readable ValueError sentence when the arguments cannot make a question."""
    if not isinstance(question, str) or not question.strip():
        raise ValueError("predict() needs a question: a non-empty string")
    if not isinstance(options, dict) or len(options) < 2:
        count = len(options) if isinstance(options, dict) else 0
        raise ValueError(f"predict() needs at least two options (a dict: choice -> feedback), got {count}")
    if len(options) > len(LETTERS):
        raise ValueError(f"predict() takes at most {len(LETTERS)} options, got {len(options)}")
    for text, feedback in options.items():
        if not isinstance(text, str) or not text.strip() or not isinstance(feedback, str):
            raise ValueError(f"predict() options map a choice's text to its feedback, both strings: got {text!r}")
    if answer not in options:
        choices = ", ".join(repr(text) for text in options)
        raise ValueError(f"predict(): the answer {answer!r} is not one of the options ({choices})")


class Prediction(W.VBox):
    """A question, lettered choices as radio buttons, Check, and the feedback of the chosen choice."""

    def __init__(self, question: str, options: dict[str, str], answer: str):
        _validate(question, options, answer)
        self.question = question
        self.options = dict(options)
        self.answer = answer
        self.attempts = 0
        self.correct: bool | None = None
        self.feedback = ""
        labels = [(f"{letter}. {text}", text) for letter, text in self.lettered()]
        self._choices = W.RadioButtons(options=labels, value=None, layout=W.Layout(width="auto"))
        self._button = W.Button(description="Check", tooltip="see whether your prediction is right")
        self._result = W.HTML("")
        self._button.on_click(lambda _button: self.check())
        self._choices.observe(self._changed, names="value")
        title = W.HTML(f'<div style="{FONT};font-size:14px;font-weight:600">🤔 Predict: {rich(question)}</div>')
        self._button.add_class("xmpplab-check")
        self._result.add_class("xmpplab-predict-feedback")
        super().__init__([title, self._choices, self._button, self._result])
        self.add_class("xmpplab-widget")
        self.add_class("xmpplab-predict")

    @property
    def choices(self) -> list[str]:
        """The choices' texts, in the order shown (A, B, C...)."""
        return list(self.options)

    def lettered(self) -> list[tuple[str, str]]:
        """The choices with their letters: [("A", text), ("B", text), ...]."""
        return [(LETTERS[i], text) for i, text in enumerate(self.options)]

    @property
    def chosen(self) -> str | None:
        """The text of the chosen choice, or None."""
        return self._choices.value

    def choose(self, choice: str) -> None:
        """Select a choice by its letter ("A") or its text, as a click on its radio button would."""
        if choice in self.options:
            self._choices.value = choice
            return
        letter = choice.strip().rstrip(".").upper() if isinstance(choice, str) else ""
        if len(letter) == 1 and letter in LETTERS[:len(self.options)]:
            self._choices.value = self.choices[LETTERS.index(letter)]
            return
        raise ValueError(f"{choice!r} is neither a letter from A to {LETTERS[len(self.options) - 1]} "
                         "nor the text of a choice")

    def check(self) -> bool | None:
        """Show the chosen choice's feedback; True when right, False when wrong, None when nothing is chosen."""
        chosen = self.chosen
        if chosen is None:
            self.feedback = "Pick an answer first."
            self._result.value = f'<div style="{FONT};color:{MUTED}">{esc(self.feedback)}</div>'
            return None
        self.attempts += 1
        self.correct = chosen == self.answer
        said = self.options[chosen]
        if self.correct:
            self.feedback = f"✓ Right. {said}".strip()
            self._result.value = box(rich(self.feedback), tint=GREEN_TINT, border=GREEN_TEXT)
        else:
            self.feedback = f"✗ Not quite. {said} Try another answer.".replace("  ", " ").strip()
            self._result.value = box(rich(self.feedback), tint=RED_TINT, border=RED_TEXT)
        return self.correct

    def _changed(self, _change) -> None:
        """A new choice clears the old feedback."""
        self._result.value = ""

    def text(self) -> str:
        """The question and the lettered choices, as plain text (the answer is not shown)."""
        lines = [f"Predict: {self.question}"]
        lines += [f"  {letter}. {text}" for letter, text in self.lettered()]
        lines.append("(Run this in Jupyter to choose and check your answer.)")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.text()

    def _repr_html_(self) -> str:
        """The question and choices as static HTML, for viewers that draw no widgets."""
        items = "".join(f"<li>{letter}. {rich(text)}</li>" for letter, text in self.lettered())
        return (f'<div style="{FONT}"><b>🤔 Predict: {rich(self.question)}</b>'
                f'<ul style="list-style:none;padding-left:1em">{items}</ul>'
                f'<span style="color:{MUTED}">Run this in Jupyter to choose and check your answer.</span></div>')

    def _repr_mimebundle_(self, **kwargs):
        """The widget, with text/plain and text/html forms that do not give the answer away."""
        bundle = super()._repr_mimebundle_(**kwargs) or {}
        bundle["text/plain"] = self.text()
        bundle["text/html"] = self._repr_html_()
        return bundle


def predict(question: str, options: dict[str, str], answer: str) -> Prediction:
    """A checked prediction: ``options`` maps each choice's text to its feedback; ``answer`` is the right key."""
    return Prediction(question, options, answer)
