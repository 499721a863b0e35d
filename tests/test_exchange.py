"""The same exchange on several servers and by several libraries (xmpplab.testing.exchange, chapter 16)."""

import pytest

from tests.peers import INSTALL_HINT, need_node_package, need_program
from xmpplab import Lab
from xmpplab.testing.ejabberd import EjabberdServer, ejabberd_path
from xmpplab.testing.exchange import Exchange, compare, run_on, run_on_lab, run_on_server, run_rawxml, run_xmppjs
from xmpplab.testing.prosody import ProsodyServer, prosody_path

DOMAIN = "example.com"


@pytest.fixture
async def lab():
    async with Lab.start([DOMAIN]) as lab:
        for user in ("romeo", "juliet"):
            lab.add_account(f"{user}@{DOMAIN}", "password")
        yield lab


async def test_our_server_offers_starttls_then_sasl_then_bind(lab):
    ex = await run_on_server("127.0.0.1", lab.server.port, DOMAIN, server="xmpplab")
    assert ex.ok, ex.summary()
    stages = ex.features()
    assert len(stages) == 3
    assert "starttls" in stages[0][0]
    assert any(f.startswith("SASL ") and "SCRAM-SHA-1" in f for f in stages[1])
    assert "bind" in stages[2]
    steps = ex.client_steps()
    assert steps[:2] == ["stream", "starttls"]
    assert "iq set bind" in steps and steps.index("iq set bind") < steps.index("message")
    assert "delivered" in ex.summary()


async def test_raw_xml_sends_only_what_it_is_told(lab):
    raw = await run_rawxml("127.0.0.1", lab.server.port, DOMAIN, server="xmpplab")
    slix = await run_on_server("127.0.0.1", lab.server.port, DOMAIN, server="xmpplab")
    assert raw.ok and slix.ok, (raw.summary(), slix.summary())
    after_bind = raw.client_steps()[raw.client_steps().index("iq set bind") + 1:]
    assert after_bind[:2] == ["presence", "message"]
    assert "auth SCRAM-SHA-256" in slix.client_steps()  # both pick the strongest mechanism offered
    table = compare([slix, raw], what="steps")
    assert [heading for heading, _ in table.columns()] == ["slixmpp", "raw XML"]
    assert "raw XML" in table._repr_html_() and "iq set bind" in repr(table)


async def test_wrong_password_is_a_failed_run_not_an_exception(lab):
    ex = await run_on_server("127.0.0.1", lab.server.port, DOMAIN, server="xmpplab", password="wrong")
    assert not ex.ok and "not-authorized" in ex.error
    assert compare([ex]).columns()[0][1][0].startswith("failed")


async def test_run_on_lab_uses_the_labs_own_romeo_and_juliet():
    """Chapter 16's column for the Lab's server: the Lab makes Romeo and Juliet and says where they log in."""
    async with Lab.start([DOMAIN]) as lab:
        slix = await run_on_lab(lab)
        raw = await run_on_lab(lab, "raw XML")
        with pytest.raises(ValueError, match="'slixmpp', 'raw XML', 'xmpp.js'"):
            await run_on_lab(lab, "Smack")
        assert lab.server.accounts.exists(f"romeo@{DOMAIN}") and lab.server.accounts.exists(f"juliet@{DOMAIN}")
    assert slix.ok and raw.ok, (slix.summary(), raw.summary())
    assert slix.server == raw.server == f"xmpplab ({DOMAIN})"
    assert "register" in slix.features()[1]  # a Lab's own server takes sign-ups (chapter 13)
    assert raw.client_steps()[-3:-1] == ["presence", "message"]


def test_compare_refuses_an_unknown_view():
    with pytest.raises(ValueError, match="use 'features'"):
        compare([], what="colour")


def test_a_skipped_run_says_why():
    ex = Exchange(server="xmpplab", library="xmpp.js", skipped="Node.js is not installed here")
    assert not ex.ok and ex.features() == [] and "skipped (Node.js is not installed here)" in ex.summary()


@pytest.mark.peer
async def test_xmppjs_does_the_same_exchange(lab):
    need_node_package("@xmpp/client")
    ex = await run_xmppjs("127.0.0.1", lab.server.port, DOMAIN, lab.transcript, server="xmpplab")
    assert ex.ok, ex.summary()
    steps = ex.client_steps()
    assert steps[:2] == ["stream", "starttls"] and "message" in steps
    assert any(step.startswith("auth ") for step in steps)


@pytest.mark.peer
@pytest.mark.parametrize("launcher", ["prosody", "ejabberd"])
async def test_real_servers_offer_their_own_features(launcher):
    if launcher == "prosody":
        need_program("prosody", prosody_path() is not None, f"apt-get install prosody, or run {INSTALL_HINT}")
        external = ProsodyServer([DOMAIN])
    else:
        need_program("ejabberd", ejabberd_path() is not None, f"apt-get install ejabberd, or run {INSTALL_HINT}")
        external = EjabberdServer([DOMAIN])
    async with external:
        for user in ("romeo", "juliet"):
            await external.aregister(user, DOMAIN, "password")
        ex = await run_on_server(external.host, external.port, DOMAIN, server=external.label)
    assert ex.ok, ex.summary()
    stages = ex.features()
    assert any(f.startswith("starttls") for f in stages[0]) and any(f.startswith("SASL ") for f in stages[1])
    assert "bind" in stages[-1]
    assert compare([ex]).columns() == [(external.label, [f"{stage}: {', '.join(offered)}" for stage, offered
                                                         in zip(compare([]).STAGES, stages, strict=True)])]


@pytest.mark.peer
async def test_run_on_starts_and_stops_prosody():
    need_program("prosody", prosody_path() is not None, f"apt-get install prosody, or run {INSTALL_HINT}")
    ex = await run_on("prosody")
    assert ex.ok and ex.server == "Prosody", ex.summary()


async def test_run_on_an_unknown_server_is_one_sentence():
    with pytest.raises(ValueError, match="'prosody' and 'ejabberd'"):
        await run_on("openfire")


async def test_a_missing_server_is_skipped_with_its_reason_or_fails_under_require_peers(monkeypatch):
    monkeypatch.setattr("xmpplab.testing.prosody.prosody_path", lambda: None)
    monkeypatch.delenv("XMPPLAB_REQUIRE_PEERS", raising=False)
    ex = await run_on("prosody")
    assert ex.skipped == "Prosody is not installed here (apt-get install prosody)"
    monkeypatch.setenv("XMPPLAB_REQUIRE_PEERS", "1")
    with pytest.raises(RuntimeError, match="XMPPLAB_REQUIRE_PEERS=1 requires it"):
        await run_on("prosody")
