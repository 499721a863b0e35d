"""Off loopback for real: server and client in a private network namespace, on 10.99.0.1 (not loopback).

The test makes the namespace itself (``unshare -n``, root only) and runs tests/netns_probe.py inside it; the
probe starts ``xmpplab serve --host 10.99.0.1 --register`` and reports what a client at 10.99.0.1 sees.
Nothing is ever bound on the machine's own interfaces. Without root or ``unshare`` the test is skipped with
the reason, or fails under XMPPLAB_REQUIRE_PEERS=1 (as in CI).
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.peers import REQUIRE_PEERS_ENV, peers_required

ROOT = Path(__file__).resolve().parent.parent


def need_namespaces() -> None:
    missing = [tool for tool in ("unshare", "ip") if shutil.which(tool) is None]
    reason = None
    if os.geteuid() != 0:
        reason = "making a private network namespace (unshare -n) needs root"
    elif missing:
        reason = f"{' and '.join(missing)} not found (util-linux, iproute2)"
    if reason is None:
        return
    if peers_required():
        pytest.fail(f"{reason}, but {REQUIRE_PEERS_ENV}=1 requires the off-loopback test", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def seen():
    """What a client at 10.99.0.1 saw of ``xmpplab serve --host 10.99.0.1 --register`` (one run for all tests)."""
    need_namespaces()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    run = subprocess.run(["unshare", "-n", "--", sys.executable, "-m", "tests.netns_probe"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_the_client_is_a_peer_off_loopback(seen):
    assert seen["peer_is"] == "10.99.0.1"


def test_before_tls_only_starttls_required_is_offered(seen):
    assert seen["features_before_tls"] == ["starttls-required"]


@pytest.mark.parametrize("attempt", ["plain_before_tls", "scram_before_tls", "register_before_tls"])
def test_passwords_before_tls_are_a_policy_violation(seen, attempt):
    assert seen[attempt][0] == "policy-violation", seen[attempt]  # [condition, text]; [name] of an answer
    assert "encryption is required" in seen[attempt][1]


def test_after_starttls_registration_and_login_work(seen):
    assert seen["features_after_tls"] == ["SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN", "register"]
    assert seen["register_after_tls"] == "result"
    assert seen["login_after_tls"] == "romeo@example.com/pc"


def test_a_second_registration_from_the_same_address_waits(seen):
    # the default Limits.registrations: one per 300 s per address (Prosody's min_seconds_between_registrations)
    condition, text = seen["second_registration"]
    assert condition == "resource-constraint" and "try again in" in text


def test_no_tls_off_loopback_is_refused_in_one_sentence(seen):
    assert seen["no_tls_rc"] == 2
    lines = seen["no_tls_stderr"].strip().splitlines()
    assert len(lines) == 1 and "--no-tls" in lines[0] and "loopback" in lines[0], seen["no_tls_stderr"]


def test_the_server_logged_no_traceback(seen):
    assert "Traceback" not in seen["serve_stderr"]
