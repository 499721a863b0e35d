"""Personal eventing with slixmpp's own plugins: nickname (XEP-0172) and avatar (XEP-0084) over XEP-0163.

slixmpp's xep_0172 and xep_0084 plugins add ``…+notify`` to the client's
features, and xep_0115 puts the ``ver`` of those features in its presence;
the server learns from that who wants what. Juliet publishes an avatar and a
nick; Romeo (her contact) gets both as slixmpp events; the nurse (no roster
entry) gets nothing and may not read them.
"""

import hashlib

import pytest
from slixmpp.exceptions import IqError

from tests.support import slix_client
from tests.support_roster import put_state
from tests.support_wait import round_trip, until
from xmpplab.lab import Lab

J, R, N = "juliet@example.com", "romeo@example.net", "nurse@example.com"
PLUGINS = ("xep_0030", "xep_0060", "xep_0115", "xep_0163", "xep_0084", "xep_0172", "xep_0199")
PICTURE = bytes(range(256)) * 64  # 16 KiB standing in for a PNG


@pytest.fixture
async def people(server):
    put_state(server, J, R, "both")
    put_state(server, R, J, "both")
    opened = [await slix_client(server.port, jid, plugins=PLUGINS)
              for jid in (f"{J}/balcony", f"{R}/orchard", f"{N}/desk")]
    yield opened
    for c in opened:
        await c.close()


def listen(client, got: dict) -> None:
    """Record the nick and avatar events slixmpp raises (``user_nick_publish``, ``avatar_metadata_publish``)."""
    client.add_event_handler("user_nick_publish", lambda msg: got.setdefault("nick", []).append(
        (str(msg["from"]), msg["pubsub_event"]["items"]["item"]["payload"].text)))  # the <nick/> element
    client.add_event_handler("avatar_metadata_publish", lambda msg: got.setdefault("avatar", []).append(
        (str(msg["from"]), msg["pubsub_event"]["items"]["item"]["id"])))


async def test_romeo_sees_juliets_avatar_and_nick_and_the_nurse_does_not(people):
    juliet, romeo, nurse = people
    seen: dict = {}
    stranger: dict = {}
    listen(romeo, seen)
    listen(nurse, stranger)
    avatar_id = hashlib.sha1(PICTURE).hexdigest()  # XEP-0084 4.2: the id is the SHA-1 of the image data
    await juliet.plugin["xep_0084"].publish_avatar(PICTURE)
    await juliet.plugin["xep_0084"].publish_avatar_metadata({"id": avatar_id, "type": "image/png",
                                                             "bytes": len(PICTURE)})
    await juliet.plugin["xep_0172"].publish_nick("Jules")
    await until(lambda: ("juliet@example.com", "Jules") in seen.get("nick", ())
                and ("juliet@example.com", avatar_id) in seen.get("avatar", ()), romeo,
                what="Romeo's client raises the nick and avatar events, from Juliet's bare JID")
    data = await romeo.plugin["xep_0084"].retrieve_avatar(J, avatar_id)
    item = data["pubsub"]["items"]["item"]
    assert item["id"] == avatar_id
    assert item["avatar_data"]["value"] == PICTURE  # the picture, as Romeo's client decodes it
    await round_trip(nurse)
    assert stranger == {}
    with pytest.raises(IqError) as refused:
        await nurse.plugin["xep_0084"].retrieve_avatar(J, avatar_id)
    assert refused.value.condition == "not-authorized"


async def test_a_contact_who_comes_online_later_gets_the_current_nick(server, people):
    juliet, _, _ = people
    await juliet.plugin["xep_0172"].publish_nick("Jules")
    put_state(server, J, "benvolio@example.net", "both")
    put_state(server, "benvolio@example.net", J, "both")
    seen: dict = {}
    benvolio = await slix_client(server.port, "benvolio@example.net/square", plugins=PLUGINS)
    try:
        listen(benvolio, seen)
        await until(lambda: ("juliet@example.com", "Jules") in seen.get("nick", ()), benvolio,
                    what="the last published nick arrives with Benvolio's presence (XEP-0163 4.3.4)")
    finally:
        await benvolio.close()


async def test_across_federation_the_remote_contact_gets_the_nick():
    async with Lab.start(["example.com", "example.net"], federate=True, replace=False) as lab:
        lab.add_account(J)
        lab.add_account(R)
        put_state(lab.server_for("example.com"), J, R, "both")
        put_state(lab.server_for("example.net"), R, J, "both")
        juliet = await lab.connect(f"{J}/balcony", plugins=PLUGINS)
        romeo = await lab.connect(f"{R}/orchard", plugins=PLUGINS)
        seen: dict = {}
        listen(romeo.xmpp, seen)
        await juliet.xmpp.plugin["xep_0172"].publish_nick("Jules")
        await until(lambda: (J, "Jules") in seen.get("nick", ()), romeo.xmpp,
                    what="the nick crosses server-to-server to Romeo's resource on example.net")
