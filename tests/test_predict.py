"""Predict, then run: the checked prediction a chapter asks before a key cell (issue 13)."""

import pytest

import xmpplab
from xmpplab.widgets import Prediction, predict

QUESTION = "Juliet is offline. Romeo writes to her. What does her server do?"
OPTIONS = {
    "Keeps it and delivers it when she logs in": "Her server stores it for her.",
    "Drops it silently": "A server does not lose it silently: it stores it or answers with an error.",
    "Sends it to all her contacts": "A message goes to its 'to' only.",
}
RIGHT = "Keeps it and delivers it when she logs in"


def make():
    return xmpplab.predict(QUESTION, OPTIONS, answer=RIGHT)


def test_the_same_function_from_the_package_and_from_widgets():
    assert xmpplab.predict is predict
    assert isinstance(make(), Prediction)


def test_a_wrong_choice_shows_its_misconception_and_the_learner_may_try_again():
    p = make()
    p.choose("B")
    assert p.check() is False
    assert "Not quite" in p.feedback and "stores it or answers with an error" in p.feedback
    assert "stores it or answers" in p._result.value  # what the learner sees under the button
    p.choose(RIGHT)  # a new choice clears the old feedback
    assert p._result.value == ""
    p._button.click()  # the Check button, as a click in the notebook
    assert p.correct is True and p.attempts == 2
    assert p.feedback.startswith("✓ Right.") and "Her server stores it" in p._result.value


def test_check_without_a_choice_asks_for_one():
    p = make()
    assert p.check() is None and p.feedback == "Pick an answer first." and p.attempts == 0


def test_a_choice_is_a_letter_or_a_text():
    p = make()
    p.choose("c")
    assert p.chosen == "Sends it to all her contacts"
    with pytest.raises(ValueError, match="neither a letter from A to C"):
        p.choose("D")


def test_the_text_form_shows_question_and_lettered_choices_without_the_answer():
    p = make()
    text = repr(p)
    assert text.splitlines()[0] == f"Predict: {QUESTION}"
    assert "  A. Keeps it and delivers it when she logs in" in text and "  C. Sends it to all her contacts" in text
    bundle = p._repr_mimebundle_()
    assert bundle["text/plain"] == text  # not cut at 110 characters as ipywidgets' own form is
    assert "application/vnd.jupyter.widget-view+json" in bundle
    for form in (bundle["text/plain"], bundle["text/html"]):
        assert "Right" not in form and "stores it" not in form  # no feedback, so no hint of the answer


@pytest.mark.parametrize(("options", "answer", "words"), [
    ({"Only one": "why"}, "Only one", "at least two options"),
    ({}, "x", "at least two options"),
    (OPTIONS, "Keeps it", "the answer 'Keeps it' is not one of the options"),
    ({"a": "x", "": "y"}, "a", "choice's text to its feedback"),
])
def test_wrong_arguments_raise_one_readable_sentence(options, answer, words):
    with pytest.raises(ValueError, match=words) as caught:
        xmpplab.predict(QUESTION, options, answer)
    assert "\n" not in str(caught.value)


def test_a_question_is_needed():
    with pytest.raises(ValueError, match="needs a question"):
        xmpplab.predict("  ", OPTIONS, RIGHT)
