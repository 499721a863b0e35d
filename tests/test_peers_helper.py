"""Self-tests of tests/peers.py (no XMPP server needed)."""

import socket

import pytest

from tests import peers


def outcome(call) -> str:
    """What pytest reports for a test that makes this call: "runs on", "skipped" or "failed"."""
    try:
        call()
    except pytest.skip.Exception:
        return "skipped"
    except pytest.fail.Exception:
        return "failed"
    return "runs on"


@pytest.mark.parametrize("found, required, expected", [
    (True, "1", "runs on"), (True, None, "runs on"),     # found: the peer test runs, required or not
    (False, None, "skipped"), (False, "1", "failed"),    # missing: skipped, unless CI requires it
])
def test_need_program_outcomes(monkeypatch, found, required, expected):
    if required is None:
        monkeypatch.delenv(peers.REQUIRE_PEERS_ENV, raising=False)
    else:
        monkeypatch.setenv(peers.REQUIRE_PEERS_ENV, required)
    assert outcome(lambda: peers.need_program("sendxmpp", found, "apt-get install sendxmpp")) == expected


def test_need_program_skips_when_missing(monkeypatch):
    monkeypatch.delenv(peers.REQUIRE_PEERS_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception) as info:
        peers.need_program("sendxmpp", False, "apt-get install sendxmpp")
    assert str(info.value) == "sendxmpp is not installed (apt-get install sendxmpp); peer test skipped"


@pytest.mark.parametrize("value", ["0", "", "yes"])
def test_need_program_skips_unless_exactly_1(monkeypatch, value):
    monkeypatch.setenv(peers.REQUIRE_PEERS_ENV, value)
    with pytest.raises(pytest.skip.Exception):
        peers.need_program("sendxmpp", False, "apt-get install sendxmpp")


def test_need_program_fails_when_required(monkeypatch):
    monkeypatch.setenv(peers.REQUIRE_PEERS_ENV, "1")
    with pytest.raises(pytest.fail.Exception) as info:
        peers.need_program("sendxmpp", False, "apt-get install sendxmpp")
    assert "sendxmpp is not installed (apt-get install sendxmpp); peer test skipped" in str(info.value)
    assert "XMPPLAB_REQUIRE_PEERS=1" in str(info.value)


def test_sendxmpp_argv():
    argv = peers.sendxmpp_argv(host="127.0.0.1", port=15222, domain="example.com",
                               username="romeo", password="secret", to="juliet@example.com")
    assert argv[1:] == ["-t", "-n", "-j", "127.0.0.1:15222", "-o", "example.com",
                        "-u", "romeo", "-p", "secret", "--message-type", "chat",
                        "juliet@example.com"]


def test_node_client_argv_and_events():
    argv = peers.node_client_argv(host="::1", port=5222, domain="example.com",
                                  username="romeo", password="secret",
                                  send_to="juliet@example.com", body="hi",
                                  expect_from="juliet@example.com", timeout=3)
    assert argv[argv.index("--service") + 1] == "xmpp://[::1]:5222"
    assert argv[argv.index("--body") + 1] == "hi"
    result = peers.PeerResult(argv, 0, '{"event":"online","jid":"romeo@example.com/x"}\nnoise\n', "")
    assert result.event("online") == {"event": "online", "jid": "romeo@example.com/x"}
    assert result.events[1] == {"event": "unparsed", "line": "noise"}
    assert result.event("message") is None
    assert "secret" not in result.describe()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


ACCOUNT = dict(host="127.0.0.1", domain="example.com", username="romeo", password="secret")


@pytest.mark.peer
async def test_node_client_reports_refused_connection():
    peers.need_node_client()
    result = await peers.run_node_client(port=closed_port(), timeout=5, **ACCOUNT)
    assert result.returncode == 1, result.describe()
    assert "ECONNREFUSED" in result.event("error")["message"]


@pytest.mark.peer
async def test_node_client_rejects_bad_arguments():
    peers.need_node_client()
    result = await peers._run([peers.node_path(), str(peers.NODE_CLIENT_SCRIPT)], timeout=10)
    assert result.returncode == 2, result.describe()
    assert result.events == [{"event": "error", "message": "missing --service"}]


@pytest.mark.peer
async def test_sendxmpp_reports_refused_connection():
    peers.need_sendxmpp()
    result = await peers.run_sendxmpp(port=closed_port(), to="juliet@example.com",
                                      body="hi", **ACCOUNT)
    assert result.returncode == 1, result.describe()
    assert "Could not connect" in result.errors
