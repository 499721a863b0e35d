"""`xmpplab demo`, the headless main job: what a newcomer sees in the terminal."""

import os
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
    entries = []  # (label, text) with wrapped continuation lines joined back
    for line in out.splitlines():
        if line.startswith(("C→S │ ", "S→C │ ")):
            entries.append([line[:3], line[6:]])
        elif line.startswith("    │ ") and entries:
            entries[-1][1] += line[6:]
    c2s = [text for label, text in entries if label == "C→S"]
    s2c = [text for label, text in entries if label == "S→C"]
    assert any("<starttls" in t for t in c2s) and any("<proceed" in t for t in s2c)
    assert any("<bind" in t and "<resource>balcony</resource>" in t for t in c2s)
    assert any("<jid>juliet@example.com/balcony</jid>" in t for t in s2c)
    assert any("<message" in t and "Wherefore art thou Romeo?" in t for t in c2s)
    assert any("<message" in t and "By a name I know not" in t for t in s2c)
    # Credentials never reach the terminal.
    assert any("<auth" in t and "[SASL data hidden]" in t for t in c2s)
    assert "juliet-secret" not in out
    assert "\033[" not in out


def test_demo_colours_client_to_server_green():
    result = run_demo(env={"FORCE_COLOR": "1"})
    assert result.returncode == 0, result.stderr
    assert "\033[32mC→S │" in result.stdout
    assert "\033[32mS→C" not in result.stdout
