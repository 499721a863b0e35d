"""XEP-0054 vcard-temp: one's own card, another's, and what nobody may do."""

import pytest

from tests.support_stanzas import condition, online
from xmpplab.server.modules.vcard import NS_VCARD

CARD = f"<vCard xmlns='{NS_VCARD}'><FN>Juliet Capulet</FN><NICKNAME>Jules</NICKNAME></vCard>"
V = f"{{{NS_VCARD}}}"


async def test_a_card_is_set_read_back_and_seen_by_others(raw):
    juliet = await online(raw, "juliet@example.com")
    empty = await juliet.request(f"<iq type='get' id='g0'><vCard xmlns='{NS_VCARD}'/></iq>")
    assert empty.get("type") == "result" and len(empty.find(f"{V}vCard")) == 0
    assert (await juliet.request(f"<iq type='set' id='s1'>{CARD}</iq>")).get("type") == "result"
    mine = await juliet.request(f"<iq type='get' id='g1'><vCard xmlns='{NS_VCARD}'/></iq>")
    assert mine.findtext(f"{V}vCard/{V}NICKNAME") == "Jules"
    romeo = await online(raw, "romeo@example.net")
    hers = await romeo.request(f"<iq type='get' id='g2' to='juliet@example.com'><vCard xmlns='{NS_VCARD}'/></iq>")
    assert hers.get("from") == "juliet@example.com" and hers.findtext(f"{V}vCard/{V}FN") == "Juliet Capulet"


async def test_no_card_and_no_account_look_the_same_and_nobody_sets_anothers(raw):
    romeo = await online(raw, "romeo@example.net")
    none = await romeo.request(f"<iq type='get' id='n1' to='nurse@example.com'><vCard xmlns='{NS_VCARD}'/></iq>")
    ghost = await romeo.request(f"<iq type='get' id='n2' to='ghost@example.com'><vCard xmlns='{NS_VCARD}'/></iq>")
    assert condition(none) == condition(ghost) == "service-unavailable"
    meddle = await romeo.request(f"<iq type='set' id='n3' to='juliet@example.com'>{CARD}</iq>")
    assert condition(meddle) == "forbidden"


async def test_a_card_too_big_is_refused(raw, monkeypatch):
    monkeypatch.setattr("xmpplab.server.modules.vcard.MAX_CHARS", 100)
    juliet = await online(raw, "juliet@example.com")
    big = f"<iq type='set' id='b'><vCard xmlns='{NS_VCARD}'><DESC>{'x' * 200}</DESC></vCard></iq>"
    assert condition(await juliet.request(big)) == "not-acceptable"


@pytest.mark.timeout(60)
async def test_slixmpp_vcard_plugin(server, slix):
    """A real client's XEP-0054 plugin (slixmpp xep_0054) publishes a card and reads another's."""
    juliet = await slix("juliet@example.com/balcony", plugins=("xep_0030", "xep_0054"))
    vcard = juliet.plugin["xep_0054"].make_vcard()
    vcard["FN"] = "Juliet Capulet"
    await juliet.plugin["xep_0054"].publish_vcard(vcard)
    romeo = await slix("romeo@example.net/orchard", plugins=("xep_0030", "xep_0054"))
    got = await romeo.plugin["xep_0054"].get_vcard("juliet@example.com", local=False, cached=False)
    assert got["vcard_temp"]["FN"] == "Juliet Capulet"
