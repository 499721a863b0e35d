"""The course's exercises: ``check(id, answer)`` says what is right and missing; ``hint(id)`` helps.

Each chapter's exercises live in ``xmpplab/course/chNN.py``; solutions for
teachers live apart, in ``notebooks/solutions/``.
"""

from .core import Checker, Exercise, Result, acheck, check, exercise, exercises, hint

__all__ = ["Checker", "Exercise", "Result", "acheck", "check", "exercise", "exercises", "hint"]


def _in_a_class() -> None:
    """A kernel that works in a class (XMPPLAB_SERVER) reports checks even in a chapter that starts no Lab."""
    import os

    if os.environ.get("XMPPLAB_SERVER"):
        from ..classroom.student import report_without_a_lab
        report_without_a_lab()


_in_a_class()
