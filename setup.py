"""Build step: the wheel carries the course (notebooks and sample streams) as package data.

Everything else is in pyproject.toml. The course lives at the top of the repository (``notebooks/``,
``sample_streams/``); building a wheel copies it under ``xmpplab/_course/`` in the build tree, so that
``xmpplab lab`` can copy it into a learner's folder after ``pip install xmpplab`` (xmpplab.course.files).
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


class BuildWithCourse(build_py):
    """``build_py`` that also copies notebooks/ and sample_streams/ into the built package."""

    def run(self):
        super().run()
        target = Path(self.build_lib) / "xmpplab" / "_course"
        for name in ("notebooks", "sample_streams"):
            source = HERE / name
            if source.is_dir():
                shutil.copytree(source, target / name, dirs_exist_ok=True,
                                ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "solutions"))


setup(cmdclass={"build_py": BuildWithCourse})
