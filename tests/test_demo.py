"""`xmpplab demo`, the headless main job: what a newcomer sees in the terminal."""

import os
import re
import subprocess
import sys


def run_demo(*args, env=None):
    return subprocess.run([sys.executable, "-m", "xmpplab", "demo", *args], capture_output=True, text=True,
                          timeout=120, env=dict(os.environ, **(env or {})))


def test_demo_shows_the_tour_and_both_streams():
    result = run_demo("--no-color")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "juliet logged in as juliet@example.com/balcony and romeo as romeo@example.net/orchard" in out
    assert "her subscription is now 'to'" in out
    assert "romeo received from juliet@example.com/balcony: Wherefore art thou Romeo?" in out
    assert "juliet received from romeo@example.net/orchard" in out
    entries = []  # (label, text): one per stream item, its XML and explanation joined
    for line in out.splitlines():
        m = re.match(r"^\s+\+\d+\.\d+s\s+#\d+ (C→S|S→C) ", line)
        if m:
            entries.append([m.group(1), line])
        elif entries and line.startswith(" " * 12):
            entries[-1][1] += " " + line.strip()
    c2s = [text for label, text in entries if label == "C→S"]
    s2c = [text for label, text in entries if label == "S→C"]
    assert any("<starttls" in t for t in c2s) and any("<proceed" in t for t in s2c)
    assert any("<bind" in t and "<resource>balcony</resource>" in t for t in c2s)
    assert any("<jid>juliet@example.com/balcony</jid>" in t for t in s2c)
    assert any("<message" in t and "Wherefore art thou Romeo?" in t for t in c2s)
    assert any("<message" in t and "By a name I know not" in t for t in s2c)
    # Each stanza is explained, with the RFC section it comes from.
    assert any("RFC 6120 §7" in t for t in s2c if "<jid>" in t)
    # Credentials never reach the terminal.
    auth = next(t for t in c2s if "<auth" in t)
    assert "SCRAM-SHA-" in auth and "juliet-secret" not in auth
    assert "juliet-secret" not in out
    assert "\033[" not in out


def test_demo_colours_client_to_server_green():
    result = run_demo(env={"FORCE_COLOR": "1"})
    assert result.returncode == 0, result.stderr
    assert "\033[32;1mC→S\033[0m" in result.stdout
    assert "\033[32;1mS→C" not in result.stdout
