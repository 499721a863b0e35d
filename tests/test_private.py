"""XEP-0049 Private XML Storage: what an account stores comes back to it alone, and survives a restart."""

import pytest

from tests.support_stanzas import condition, online
from xmpplab.server import Server
from xmpplab.server.modules.private import NS_PRIVATE

P = f"{{{NS_PRIVATE}}}"
PREFS = "<prefs xmlns='example:prefs'><theme>dark</theme></prefs>"


def ask(ns: str = "example:prefs", name: str = "prefs", to: str = "") -> str:
    to_attr = f" to='{to}'" if to else ""
    return f"<iq type='get' id='g'{to_attr}><query xmlns='{NS_PRIVATE}'><{name} xmlns='{ns}'/></query></iq>"


def put(fragment: str, to: str = "") -> str:
    to_attr = f" to='{to}'" if to else ""
    return f"<iq type='set' id='s'{to_attr}><query xmlns='{NS_PRIVATE}'>{fragment}</query></iq>"


async def test_stored_xml_comes_back_and_nothing_stored_echoes_the_question(raw):
    juliet = await online(raw, "juliet@example.com")
    empty = await juliet.request(ask())
    assert empty.get("type") == "result"
    echoed = empty.find(f"{P}query/{{example:prefs}}prefs")
    assert echoed is not None and len(echoed) == 0
    assert (await juliet.request(put(PREFS))).get("type") == "result"
    back = await juliet.request(ask())
    assert back.findtext(f"{P}query/{{example:prefs}}prefs/{{example:prefs}}theme") == "dark"
    # another namespace is kept apart, and a set replaces what its namespace held
    await juliet.request(put("<notes xmlns='example:notes'>the balcony</notes>"))
    await juliet.request(put("<prefs xmlns='example:prefs'><theme>light</theme></prefs>"))
    assert (await juliet.request(ask())).findtext(".//{example:prefs}theme") == "light"
    assert (await juliet.request(ask("example:notes", "notes"))).findtext(".//{example:notes}notes") == \
        "the balcony"


async def test_several_elements_of_one_namespace_are_kept_together(raw):
    juliet = await online(raw, "juliet@example.com")
    await juliet.request(put("<item xmlns='example:list'>one</item><item xmlns='example:list'>two</item>"))
    back = await juliet.request(ask("example:list", "item"))
    assert [i.text for i in back.iter("{example:list}item")] == ["one", "two"]


async def test_only_the_account_itself_reads_or_writes(raw):
    juliet = await online(raw, "juliet@example.com")
    await juliet.request(put(PREFS))
    romeo = await online(raw, "romeo@example.net")
    assert condition(await romeo.request(ask(to="juliet@example.com"))) == "forbidden"
    assert condition(await romeo.request(put(PREFS, to="juliet@example.com"))) == "forbidden"
    # his own storage is his own, and empty
    mine = await romeo.request(ask())
    assert mine.find(".//{example:prefs}theme") is None


async def test_bad_requests_get_the_xeps_errors(raw):
    juliet = await online(raw, "juliet@example.com")
    assert condition(await juliet.request(f"<iq type='get' id='e1'><query xmlns='{NS_PRIVATE}'/></iq>")) == \
        "bad-request"  # XEP-0049 §3's "Bad Format", as RFC 6120 §8.3.3 names it
    assert condition(await juliet.request(put(""))) == "not-acceptable"
    assert condition(await juliet.request(put("<vCard xmlns='vcard-temp'/>"))) == "not-acceptable"
    assert condition(await juliet.request(ask("jabber:iq:roster", "query"))) == "not-acceptable"
    two = (f"<iq type='get' id='e2'><query xmlns='{NS_PRIVATE}'><a xmlns='x:a'/><b xmlns='x:b'/></query></iq>")
    assert condition(await juliet.request(two)) == "not-acceptable"


async def test_what_an_account_stores_is_bounded(raw, monkeypatch):
    monkeypatch.setattr("xmpplab.server.modules.private.MAX_CHARS", 100)
    monkeypatch.setattr("xmpplab.server.modules.private.MAX_NAMESPACES", 2)
    juliet = await online(raw, "juliet@example.com")
    assert condition(await juliet.request(put(f"<big xmlns='x:big'>{'x' * 200}</big>"))) == "not-acceptable"
    await juliet.request(put("<a xmlns='x:a'/>"))
    await juliet.request(put("<b xmlns='x:b'/>"))
    assert condition(await juliet.request(put("<c xmlns='x:c'/>"))) == "resource-constraint"
    assert (await juliet.request(put("<a xmlns='x:a'>again</a>"))).get("type") == "result"  # replacing is fine


async def test_private_data_survives_a_restart_and_goes_with_the_account(tmp_path):
    from tests.support import RawClient
    db = str(tmp_path / "lab.sqlite")
    first = await Server(["example.com"], db=db).start()
    first.accounts.add("juliet@example.com", "secret")
    c = await RawClient.open(first.port)
    await c.login("juliet@example.com")
    await c.request(put(PREFS))
    await c.close()
    await first.stop()
    second = await Server(["example.com"], db=db).start()
    try:
        c = await RawClient.open(second.port)
        await c.login("juliet@example.com")
        assert (await c.request(ask())).findtext(".//{example:prefs}theme") == "dark"
        await c.close()
        second.accounts.remove("juliet@example.com")
        assert second.storage.rows("SELECT ns FROM private WHERE owner = ?", ("juliet@example.com",)) == []
    finally:
        await second.stop()


@pytest.mark.timeout(60)
async def test_slixmpp_private_storage_plugin(server, slix):
    """A real client's XEP-0049 plugin (slixmpp xep_0049) stores an element and reads it back."""
    from slixmpp.xmlstream import ElementBase

    class Prefs(ElementBase):
        name, namespace, plugin_attrib = "prefs", "example:prefs", "prefs"
        interfaces = sub_interfaces = {"theme"}

    juliet = await slix("juliet@example.com/balcony", plugins=("xep_0049",))
    juliet.plugin["xep_0049"].register(Prefs)
    prefs = Prefs()
    prefs["theme"] = "dark"
    await juliet.plugin["xep_0049"].store(prefs)
    got = await juliet.plugin["xep_0049"].retrieve("prefs")
    assert got["private"]["prefs"]["theme"] == "dark"
