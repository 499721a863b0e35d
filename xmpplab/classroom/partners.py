"""Partners for the exercises that need two people (chapters 03 and 06), found through the class room.

``partner = await lab.pair("03")`` in a notebook on the class server (:meth:`.remote.ClassLab.pair`):

1. the student's own account enters the class room ``class@conference.DOMAIN`` under the nickname the
   room reserved for it (XEP-0045 §7.12; ``xmpplab classroom`` reserves each student's account name) and,
   when nobody waits yet, says there that it looks for a partner for chapter 03: the teacher and the
   class see who waits, and both partners see each other in the room while their chapter's Lab runs;
2. it asks the class server (``urn:xmpplab:class:0#pair``, docs/classroom.md): the first to ask waits,
   the second is paired with them at once and says so in the room ("student02 and student01 are
   partners for chapter 03"); the first learns it from a headline message;
3. when nobody else asks within the bounded wait (:func:`partner_wait`: 60 s, or
   ``XMPPLAB_PARTNER_WAIT``), it leaves the queue (the form's ``leave``; a partner found meanwhile is
   still taken, so both sides agree), says so in the room, and answers None: the Lab then lets a
   practice account play the partner (:meth:`xmpplab.lab.Lab.pair`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import weakref
from xml.sax.saxutils import quoteattr

from ..client_errors import ClientError, StanzaTimeout
from ..jid import JID
from .accounts import ClassroomError
from .setup import ROOM_NAME
from .student import NS_CLASS
from .teacher import Teacher

log = logging.getLogger("xmpplab.classroom")

NS_MUC = "http://jabber.org/protocol/muc"
NS_DISCO_INFO = "http://jabber.org/protocol/disco#info"
ENV_WAIT = "XMPPLAB_PARTNER_WAIT"
#: How long (seconds) a student waits for a classmate before a practice account plays the partner.
PARTNER_WAIT = 60.0
_leaving: set = set()  # leave requests of stopped cells, still on their way
_in_room: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # client -> its occupant JID in the class room


def partner_wait(timeout: float | None = None) -> float:
    """The bounded wait for a classmate: ``timeout`` if given, else ``XMPPLAB_PARTNER_WAIT``, else 60 s."""
    if timeout is not None:
        return float(timeout)
    given = os.environ.get(ENV_WAIT)
    if not given:
        return PARTNER_WAIT
    try:
        return max(0.0, float(given))
    except ValueError:
        raise ClassroomError(f"{ENV_WAIT} is a number of seconds, not {given!r}") from None


def _paired(chapter: str):
    def test(msg) -> bool:
        el = msg.xml.find(f"{{{NS_CLASS}}}paired")
        return el is not None and (el.get("chapter") or "") == chapter
    return test


def _partner_in(msg) -> JID:
    return JID(msg.xml.find(f"{{{NS_CLASS}}}paired").get("partner"))


async def ask(client, chapter: str = "", *, leave: bool = False) -> JID | None:
    """One ``#pair`` request: the partner its answer names, or None (the first to ask waits; ``leave``: nobody)."""
    values = {"chapter": chapter, **({"leave": "true"} if leave else {})}
    result = await Teacher(client).command(f"{NS_CLASS}#pair", values)
    partner = result.value("partner")
    return JID(partner) if partner else None


async def _forget_old_news(client, chapter: str) -> None:
    """Drop a headline of an earlier pairing for ``chapter`` still waiting in the client's queue."""
    with contextlib.suppress(StanzaTimeout):
        while True:
            await client.next("message", predicate=_paired(chapter), timeout=0)


async def pair(client, chapter: str = "", *, timeout: float = 300.0) -> JID:
    """Ask the class server (``urn:xmpplab:class:0#pair``) for a partner; return their bare JID (waits for one)."""
    await _forget_old_news(client, chapter)
    partner = await ask(client, chapter)
    if partner is not None:
        return partner
    return _partner_in(await client.next("message", predicate=_paired(chapter), timeout=timeout))


async def enter_class_room(client, *, timeout: float = 5.0) -> str | None:
    """Enter ``class@conference.DOMAIN`` under one's reserved nickname (once per connection); its bare JID, or None.

    None when the class has no room (or it refuses this account): pairing works without it."""
    if client in _in_room:
        return _in_room[client].partition("/")[0]
    room = f"{ROOM_NAME}@conference.{client.jid.domain}"
    try:  # XEP-0045 §7.12: does the room exist, and which nickname does it keep for me?
        info = await client.iq(f"<iq type='get' to={quoteattr(room)}><query xmlns='{NS_DISCO_INFO}' "
                               "node='x-roomuser-item'/></iq>", timeout=timeout)
    except ClientError as exc:
        log.info("no class room to pair in: %s", exc)
        return None
    identity = info.xml.find(f"{{{NS_DISCO_INFO}}}query/{{{NS_DISCO_INFO}}}identity")
    occupant = f"{room}/{identity.get('name') if identity is not None else client.jid.local}"
    await client.send_raw(f"<presence to={quoteattr(occupant)}><x xmlns='{NS_MUC}'>"
                          "<history maxstanzas='0'/></x></presence>")
    try:
        joined = await client.next("presence", from_=occupant, timeout=timeout)
    except StanzaTimeout:
        return None
    if joined["type"] == "error":
        log.info("the class room refused %s: %s", client.jid, joined["error"]["condition"])
        return None
    _in_room[client] = occupant
    return room


async def _leave_quietly(client, chapter: str) -> None:
    try:
        await ask(client, chapter, leave=True)
    except ClientError as exc:  # disconnected meanwhile: the server forgot the wait with the session
        log.info("could not leave the queue for chapter %s: %s", chapter, exc)


async def _say(client, room: str | None, text: str) -> None:
    if room is not None:
        await client.send_message(room, text, type="groupchat")


async def find_classmate(client, chapter: str, wait: float) -> JID | None:
    """A classmate who asks for ``chapter`` too, found through the class room; None after ``wait`` s with nobody."""
    me = client.jid.local
    room = await enter_class_room(client)
    await _forget_old_news(client, chapter)
    partner = await ask(client, chapter)
    if partner is not None:
        await _say(client, room, f"{me} and {partner.local} are partners for chapter {chapter}.")
    else:
        await _say(client, room, f"{me} looks for a partner for chapter {chapter}: run its partner cell too.")
        print(f"Waiting up to {wait:g} s for a classmate to ask for a partner for chapter {chapter} too"
              + (f" (the class room {room} shows who waits)." if room else "."))
        try:
            partner = _partner_in(await client.next("message", predicate=_paired(chapter), timeout=wait))
        except asyncio.CancelledError:  # the student stopped the cell: nobody should be paired with them now
            _leaving.add(task := asyncio.ensure_future(_leave_quietly(client, chapter)))
            task.add_done_callback(_leaving.discard)
            raise
        except StanzaTimeout:
            partner = await ask(client, chapter, leave=True)  # a partner who came meanwhile is still taken
            if partner is None:
                await _say(client, room, f"Nobody came: a practice account plays {me}'s partner for chapter "
                                         f"{chapter}.")
                return None
    print(f"Your partner for chapter {chapter} is {partner}"
          + (f": you are both in the class room {room}." if room else "."))
    return partner
