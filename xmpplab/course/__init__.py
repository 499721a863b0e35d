"""The course's exercises: ``check(id, answer)`` says what is right and missing; ``hint(id)`` helps.

Each chapter's exercises live in ``xmpplab/course/chNN.py``; solutions for
teachers live apart, in ``notebooks/solutions/``.
"""

from .core import Checker, Exercise, Result, acheck, check, exercise, exercises, hint

__all__ = ["Checker", "Exercise", "Result", "acheck", "check", "exercise", "exercises", "hint"]
