"""XEP-0054 vcard-temp: a profile card per account (name, nickname, photo...), kept in the database.

    C: <iq type='set' id='v1'><vCard xmlns='vcard-temp'><FN>Juliet Capulet</FN><NICKNAME>Jules</NICKNAME></vCard></iq>
    S: <iq type='result' id='v1' to='juliet@example.com/balcony'/>
    C: <iq type='get' id='v2' to='juliet@example.com'><vCard xmlns='vcard-temp'/></iq>      (anyone, §3.3)
    S: <iq type='result' id='v2' from='juliet@example.com' to='romeo@example.net/orchard'>
         <vCard xmlns='vcard-temp'><FN>Juliet Capulet</FN><NICKNAME>Jules</NICKNAME></vCard></iq>

One's own card with no ``to`` (§3.1; an empty ``<vCard/>`` when there is none) and
replaced whole by a set (§3.2: there are no partial updates); another account's card
by its bare JID, answered by the server (§3.3), with ``service-unavailable`` alike for
no card and no account, so nobody can harvest the account list. A set to someone else
is ``forbidden``. A card is at most ``MAX_CHARS`` characters (a photo included).
"""

from __future__ import annotations

from ...xml import NS_CLIENT, XMLInputError, element, parse_fragment, serialize

NS_VCARD = "vcard-temp"
MAX_CHARS = 256 * 1024
SCHEMA = "CREATE TABLE IF NOT EXISTS vcard (owner TEXT PRIMARY KEY, xml TEXT NOT NULL);"


def setup(server):
    """Serve vCards (XEP-0054 §3) from the database; advertise ``vcard-temp`` on the server (§4)."""
    server.storage.add_tables(SCHEMA)
    server.add_feature(NS_VCARD)
    server.hook_iq(f"{NS_VCARD}:vCard", get_self=own, set_self=update, get_bare=other, set_bare=forbidden)
    server.hook("account-removed", lambda bare: _forget(server, bare))


def card(server, bare) -> object | None:
    """The stored ``<vCard/>`` of an account, or None."""
    rows = server.storage.rows("SELECT xml FROM vcard WHERE owner = ?", (str(bare),))
    if not rows:
        return None
    try:
        return parse_fragment(rows[0][0])
    except XMLInputError:
        return None


def own(event) -> bool:
    """§3.1: one's own card, or an empty one."""
    found = card(event.server, event.from_.bare)
    event.reply(found if found is not None else element("vCard", ns=NS_VCARD))
    return True


def update(event) -> bool:
    """§3.2: replace one's card with the one sent."""
    text = serialize(event.payload, NS_CLIENT)
    if len(text) > MAX_CHARS:
        event.error("not-acceptable", f"a vCard is at most {MAX_CHARS // 1024} KiB here, photo included")
        return True
    event.server.storage.rows("INSERT OR REPLACE INTO vcard (owner, xml) VALUES (?, ?)",
                              (str(event.from_.bare), text))
    event.reply()
    return True


def other(event) -> bool:
    """§3.3: another account's card, answered by the server; no card and no account look the same."""
    found = card(event.server, event.to.bare) if event.server.user_exists(event.to.bare) else None
    if found is None:
        event.error("service-unavailable")
    else:
        event.reply(found)
    return True


def forbidden(event) -> bool:
    """§3.2: nobody sets another account's card."""
    event.error("forbidden", "you can only change your own vCard")
    return True


def _forget(server, bare) -> bool:
    server.storage.rows("DELETE FROM vcard WHERE owner = ?", (str(bare),))
    return False
