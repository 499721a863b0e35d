"""XEP-0398: an avatar published with PEP (XEP-0084) is the vCard's photo and its hash rides on presence.

Juliet's client publishes her avatar the modern way (slixmpp's xep_0084). Romeo, her
contact, reads her vCard (the old way, as chat rooms and older clients do) and finds the
picture; the nurse, who is no contact, does not (the PEP nodes' access model holds in
the vCard too). Every available presence Juliet sends carries the picture's SHA-1
(XEP-0153's ``vcard-temp:x:update``), directed ones and room joins included.
"""

import base64
import hashlib

import pytest
from slixmpp.exceptions import IqError

from tests.support import slix_client
from tests.support_roster import put_state
from tests.support_stanzas import online
from xmpplab.server import Server
from xmpplab.server.modules.avatars import NS_CONVERSION

J, R, N = "juliet@example.com", "romeo@example.net", "nurse@example.com"
PLUGINS = ("xep_0030", "xep_0054", "xep_0060", "xep_0084", "xep_0163")
PICTURE = bytes(range(256)) * 16  # 4 KiB standing in for a PNG
HASH = hashlib.sha1(PICTURE).hexdigest()
UPDATE = "{vcard-temp:x:update}"
VCARD = "{vcard-temp}"
PUBSUB = "http://jabber.org/protocol/pubsub"


async def publish(client, picture: bytes = PICTURE, type_: str = "image/png") -> str:
    """The avatar, as a XEP-0084 client publishes it: the data, then the metadata naming its SHA-1."""
    digest = hashlib.sha1(picture).hexdigest()
    await client.plugin["xep_0084"].publish_avatar(picture)
    await client.plugin["xep_0084"].publish_avatar_metadata({"id": digest, "type": type_, "bytes": len(picture)})
    return digest


async def expect(client, kind: str, matches, timeout: float = 5.0):
    """The next ``kind`` stanza the raw client gets that ``matches`` (others are dropped)."""
    while True:
        got = await client.recv(timeout)
        assert not isinstance(got, str), f"the stream ended: {got}"
        if got.tag == f"{{jabber:client}}{kind}" and matches(got):
            return got


@pytest.fixture
async def juliet(server):
    put_state(server, J, R, "both")
    put_state(server, R, J, "both")
    client = await slix_client(server.port, f"{J}/balcony", plugins=PLUGINS)
    yield client
    await client.close()


async def test_the_account_advertises_the_conversion(raw):
    c = await online(raw, J)
    info = await c.request(f"<iq type='get' id='d' to='{J}'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>")
    assert NS_CONVERSION in {f.get("var") for f in info.iter("{http://jabber.org/protocol/disco#info}feature")}


@pytest.mark.timeout(60)
async def test_a_contact_reads_the_pep_avatar_in_the_vcard_and_a_stranger_does_not(server, juliet):
    await publish(juliet)
    romeo = await slix_client(server.port, f"{R}/orchard", plugins=PLUGINS)
    nurse = await slix_client(server.port, f"{N}/desk", plugins=PLUGINS)
    try:
        got = await romeo.plugin["xep_0054"].get_vcard(J, local=False, cached=False)
        photo = got["vcard_temp"]["PHOTO"]
        assert photo["TYPE"] == "image/png"
        assert photo["BINVAL"] == PICTURE  # slixmpp decodes BINVAL
        with pytest.raises(IqError) as refused:  # she has no card of her own: nothing to show the nurse
            await nurse.plugin["xep_0054"].get_vcard(J, local=False, cached=False)
        assert refused.value.condition == "service-unavailable"
        # her own client sees her avatar in her own vCard too
        mine = await juliet.plugin["xep_0054"].get_vcard(local=False, cached=False)
        assert mine["vcard_temp"]["PHOTO"]["BINVAL"] == PICTURE
    finally:
        await romeo.close()
        await nurse.close()


@pytest.mark.timeout(60)
async def test_the_stored_vcard_keeps_its_fields_and_gets_the_new_photo(server, juliet, raw):
    card = juliet.plugin["xep_0054"].make_vcard()
    card["FN"] = "Juliet Capulet"
    await juliet.plugin["xep_0054"].publish_vcard(card)
    await publish(juliet)
    romeo = await online(raw, R)
    answer = await romeo.request(f"<iq type='get' id='v' to='{J}'><vCard xmlns='vcard-temp'/></iq>")
    assert answer.findtext(f"{VCARD}vCard/{VCARD}FN") == "Juliet Capulet"
    assert base64.b64decode(answer.findtext(f"{VCARD}vCard/{VCARD}PHOTO/{VCARD}BINVAL")) == PICTURE


@pytest.mark.timeout(60)
async def test_presence_carries_the_hash_of_the_current_avatar(server, juliet, raw):
    romeo = await online(raw, R, presence="<presence/>")
    await publish(juliet)
    juliet.send_presence(pstatus="on the balcony")
    seen = await expect(romeo, "presence", lambda p: p.get("from") == f"{J}/balcony"
                              and p.findtext("{jabber:client}status") == "on the balcony")
    assert seen.findtext(f"{UPDATE}x/{UPDATE}photo") == HASH
    # a new picture: the next presence says so
    newer = await publish(juliet, bytes(range(128)) * 8)
    juliet.send_presence(pstatus="again")
    seen = await expect(romeo, "presence", lambda p: p.findtext("{jabber:client}status") == "again")
    assert seen.findtext(f"{UPDATE}x/{UPDATE}photo") == newer != HASH


async def test_presence_rules_of_section_4(server, raw):
    """An empty <photo/> is the client's word and stays; an <x/> without one gets the hash; a directed presence
    (a room join) carries it too; an account that never published an avatar is left alone."""
    put_state(server, J, R, "both")
    put_state(server, R, J, "both")
    romeo = await online(raw, R)
    jul = await online(raw, J)
    data, meta = "urn:xmpp:avatar:data", "urn:xmpp:avatar:metadata"
    b64 = base64.b64encode(PICTURE).decode()
    await jul.request(f"<iq type='set' id='p1'><pubsub xmlns='{PUBSUB}'><publish node='{data}'>"
                      f"<item id='{HASH}'><data xmlns='{data}'>{b64}</data></item></publish></pubsub></iq>")
    await jul.request(f"<iq type='set' id='p2'><pubsub xmlns='{PUBSUB}'><publish node='{meta}'>"
                      f"<item id='{HASH}'><metadata xmlns='{meta}'><info id='{HASH}' type='image/png' "
                      f"bytes='{len(PICTURE)}'/></metadata></item></publish></pubsub></iq>")
    await jul.send("<presence><status>empty</status><x xmlns='vcard-temp:x:update'><photo/></x></presence>")
    p = await expect(romeo, "presence", lambda p: p.findtext("{jabber:client}status") == "empty")
    assert p.find(f"{UPDATE}x/{UPDATE}photo") is not None and not p.findtext(f"{UPDATE}x/{UPDATE}photo")
    await jul.send("<presence><status>bare x</status><x xmlns='vcard-temp:x:update'/></presence>")
    p = await expect(romeo, "presence", lambda p: p.findtext("{jabber:client}status") == "bare x")
    assert p.findtext(f"{UPDATE}x/{UPDATE}photo") == HASH
    await jul.send("<presence to='lobby@conference.example.com/juliet'><x xmlns='http://jabber.org/protocol/muc'/>"
                   "</presence>")
    joined = await expect(jul, "presence", lambda p: p.get("from") == "lobby@conference.example.com/juliet")
    assert joined.findtext(f"{UPDATE}x/{UPDATE}photo") == HASH  # the room passes on what the join carried
    # Romeo never published one: his presence is not touched
    await romeo.send("<presence><status>plain</status></presence>")
    p = await expect(jul, "presence", lambda p: p.findtext("{jabber:client}status") == "plain")
    assert p.find(f"{UPDATE}x") is None


async def test_an_avatar_switched_off_is_an_empty_photo_and_it_survives_a_restart(tmp_path):
    from tests.support import RawClient
    db = str(tmp_path / "lab.sqlite")
    meta = "urn:xmpp:avatar:metadata"
    first = await Server(["example.com"], db=db).start()
    first.accounts.add(J, "secret")
    c = await RawClient.open(first.port)
    await c.login(J)
    await c.request(f"<iq type='set' id='p'><pubsub xmlns='{PUBSUB}'><publish node='{meta}'>"
                    f"<item id='{HASH}'><metadata xmlns='{meta}'><info id='{HASH}' type='image/png' bytes='1'/>"
                    "</metadata></item></publish></pubsub></iq>")
    await c.close()
    await first.stop()
    second = await Server(["example.com"], db=db).start()
    try:
        a = await RawClient.open(second.port)
        await a.login(J, resource="a")
        await a.send("<presence/>")
        b = await RawClient.open(second.port)
        await b.login(J, resource="b")
        await b.send("<presence><status>b here</status></presence>")
        p = await expect(a, "presence", lambda p: p.findtext("{jabber:client}status") == "b here")
        assert p.findtext(f"{UPDATE}x/{UPDATE}photo") == HASH  # known again after the restart
        await b.request(f"<iq type='set' id='off'><pubsub xmlns='{PUBSUB}'>"
                        f"<publish node='{meta}'><item id='off'><metadata xmlns='{meta}'/></item></publish>"
                        "</pubsub></iq>")
        await b.send("<presence><status>no picture</status></presence>")
        p = await expect(a, "presence", lambda p: p.findtext("{jabber:client}status") == "no picture")
        assert p.find(f"{UPDATE}x/{UPDATE}photo") is not None and not p.findtext(f"{UPDATE}x/{UPDATE}photo")
        await a.close()
        await b.close()
    finally:
        await second.stop()
