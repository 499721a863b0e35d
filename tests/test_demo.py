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
    lines = out.splitlines()
    c2s = [line for line in lines if line.startswith("C→S │")]
    s2c = [line for line in lines if line.startswith("S→C │")]
    assert any("<starttls" in line for line in c2s) and any("<proceed" in line for line in s2c)
    assert any("<bind" in line for line in c2s)
    assert any("<message" in line and "Wherefore" in "".join(lines) for line in c2s)
    # Credentials never reach the terminal.
    assert any("<auth" in line and "[SASL data hidden]" in line for line in c2s)
    assert "juliet-secret" not in out
    assert "\033[" not in out


def test_demo_colours_client_to_server_green():
    result = run_demo(env={"FORCE_COLOR": "1"})
    assert result.returncode == 0, result.stderr
    assert "\033[32mC→S │" in result.stdout
    assert "\033[32mS→C" not in result.stdout
