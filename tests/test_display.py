"""The display registry: data shows itself in a notebook through views registered by type, importing no view."""

import subprocess
import sys
from pathlib import Path

from xmpplab import display
from xmpplab.display import Shown

ROOT = Path(__file__).resolve().parent.parent


def test_a_type_shows_itself_with_the_view_registered_for_it_or_for_a_base_class():
    class Note(Shown):
        def __init__(self, text):
            self.text = text

    class Reminder(Note):
        pass

    display.register(Note, lambda n: f"note: {n.text}", lambda n: f"<b>{n.text}</b>")
    assert Note("hi")._repr_mimebundle_() == {"text/plain": "note: hi", "text/html": "<b>hi</b>"}
    assert Reminder("later")._repr_html_() == "<b>later</b>"                  # found through the MRO
    assert Note("x")._repr_mimebundle_(include=["text/plain"]) == {"text/plain": "note: x"}


def test_a_type_without_a_view_shows_its_repr_and_says_why():
    class Unknown(Shown):
        def __repr__(self):
            return "<Unknown>"

    bundle = Unknown()._repr_mimebundle_()
    assert bundle["text/plain"] == "<Unknown>"
    assert "could not draw this view" in bundle["text/html"] and "no view of Unknown" in bundle["text/html"]


def test_showing_an_address_loads_the_views_when_first_needed_and_never_the_server():
    script = (
        "import sys\n"
        "import xmpplab\n"
        "assert 'xmpplab.render' not in sys.modules, 'import xmpplab stays quick'\n"
        "from xmpplab.jid import JID\n"
        "html = JID('juliet@example.com/balcony')._repr_mimebundle_()['text/html']\n"
        "assert '>balcony</span>' in html and 'full JID' in html, html\n"
        "assert 'xmpplab.render.objects' in sys.modules\n"
        "loaded = sorted(m for m in sys.modules if m.startswith(('xmpplab.server', 'xmpplab.lab', 'xmpplab.client')))\n"
        "assert loaded == [], loaded\n"
        "print('ok')\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
