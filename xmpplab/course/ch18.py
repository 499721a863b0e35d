"""Chapter 18, From stanzas to WhatsApp: the pictures it shares, and Juliet's tablet made a modern device (18.1).

The check looks at the Lab's server and recording: Juliet's tablet is online with message
carbons on (XEP-0280 §4), stream management on and resumable (XEP-0198 §3), and it asked
the archive for her conversation with Romeo (XEP-0313 §4.1.1: the ``with`` filter). On a
class server, whose inside is not the student's to read, it reads the same from the tablet's
streams as the Lab recorded them: its ``<enable/>`` for carbons, the server's ``<enabled
resume='true'/>``, and whether its session is still open.
"""

from __future__ import annotations

import struct
import zlib

from ..jid import JID
from ..ns import NS_CARBONS, NS_MAM, NS_SM
from ..server.modules.carbons import ENABLED
from ..server.modules.sm import STATE
from .core import Result, exercise

TABLET = JID("juliet@example.com/tablet")
ROMEO = JID("romeo@example.net")


def _png(size: int, colour) -> bytes:
    """A ``size`` × ``size`` RGB PNG (RFC 2083): ``colour(x, y)`` in -1..1 gives each pixel's (r, g, b)."""
    rows = b"".join(b"\x00" + bytes(c for x in range(size)
                                    for c in colour(2 * x / (size - 1) - 1, 1 - 2 * y / (size - 1)))
                    for y in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


def _heart(x: float, y: float) -> tuple[int, int, int]:
    x, y = 1.3 * x, 1.3 * y + 0.15
    return (200, 30, 60) if (x * x + y * y - 1) ** 3 - x * x * y ** 3 <= 0 else (255, 250, 245)


def _moon(x: float, y: float) -> tuple[int, int, int]:
    lit = x * x + y * y <= 0.5 and (x - 0.3) ** 2 + (y - 0.2) ** 2 > 0.4
    return (250, 220, 90) if lit else (20, 30, 80)


#: Juliet's avatar: a red heart, 64 × 64 pixels (a PNG of about 300 bytes).
HEART = _png(64, _heart)
#: The picture she shares: the moon over her balcony, 96 × 96 pixels.
MOON = _png(96, _moon)


def _conns_of(lab, jid: JID) -> set[str]:
    """The recorded connections (both sides) that were bound to ``jid``, or took over its session."""
    return {e["conn"] for e in lab.events if e.get("type") == "bound" and e.get("jid") == str(jid)}


def _asked_archive(lab, conns: set[str], romeo: str = str(ROMEO)) -> bool:
    """Whether one of ``conns`` carried an archive query (XEP-0313 §4) filtered on Romeo."""
    return any(e.get("type") == "data" and e.get("conn") in conns and NS_MAM in (e.get("data") or "")
               and "<field var='with'>" in (e.get("data") or "").replace('"', "'") and romeo in e["data"]
               for e in lab.events)


def _on_the_server(lab) -> tuple[bool, bool, bool] | None:
    """(online, carbons on, resumable) from the tablet's session on the Lab's own server; None on a class server."""
    resources = getattr(lab.server_for(TABLET), "resources", None)  # a class server's inside is not ours to read
    if resources is None:
        return None
    session = next((s for s in resources(TABLET.bare) if s.jid == TABLET), None)
    if session is None:
        return False, False, False
    state = STATE.get(session)
    return True, bool(ENABLED.get(session)), state is not None and state.id is not None


def _on_the_streams(lab, tablet: str) -> tuple[bool, bool, bool]:
    """(online, carbons on, resumable) from the recording of the tablet's current session: its last fresh login
    and the connections that resumed it (XEP-0198 §5)."""
    bound = [e for e in lab.events if e.get("type") == "bound" and e.get("jid") == tablet]
    fresh = [i for i, e in enumerate(bound) if not e.get("resumed")]
    conns = {e["conn"] for e in bound[fresh[-1]:]} if fresh else set()
    closed = {e["conn"] for e in lab.events if e.get("type") == "close"}
    said = [(e.get("data") or "").replace('"', "'") for e in lab.events
            if e.get("type") == "data" and e.get("conn") in conns]
    carbons = any(f"<enable xmlns='{NS_CARBONS}'" in d for d in said)
    resumable = any(f"<enabled xmlns='{NS_SM}'" in d and "resume='true'" in d for d in said)
    return bool(conns - closed), carbons, resumable


@exercise("18.1", "Juliet's tablet: copies, a session that survives, and the history", live=True)
async def _(answer=None, *, lab=None, **context):
    """Log the tablet in with tablet = await lab.connect('juliet@example.com/tablet'), then do on it what the phone
    and the laptop did in this chapter, one helper each.

    Copies of what her other devices send and receive: await tablet.enable_carbons(). A session that survives a
    tunnel: await tablet.enable_sm(). The conversation so far: earlier = await tablet.history(with_=...), with
    Romeo's address.

    tablet = await lab.connect('juliet@example.com/tablet'); await tablet.enable_carbons(); await
    tablet.enable_sm(); earlier = await tablet.history(with_='romeo@example.net')"""
    if lab is None:
        return Result("18.1", False, [(False, "this check looks at the Lab: write await acheck('18.1', lab=lab)")])
    facts = _on_the_server(lab)
    if facts is None:  # on a class server: the practice account behind the tablet, as its streams show it
        names = lab.server.names
        tablet, romeo = names.real(str(TABLET)), names.real(str(ROMEO))
        facts = _on_the_streams(lab, tablet)
    else:
        tablet, romeo = str(TABLET), str(ROMEO)
    online, carbons, resumable = facts
    if not online:
        return Result("18.1", False, [(False, "the tablet is not online: tablet = await lab.connect("
                                              "'juliet@example.com/tablet') logs it in")])
    points = [(True, f"the tablet is online ({TABLET})")]
    points.append((carbons, "carbons are on: it sees what her phone and laptop send and receive"
                   if carbons else "carbons are off: the tablet will not see what her phone sends; "
                   "await tablet.enable_carbons() (XEP-0280)"))
    points.append((resumable, "stream management is on and resumable: a tunnel loses nothing" if resumable else
                   "stream management is off: what arrives during a network cut is lost; "
                   "await tablet.enable_sm() (XEP-0198)"))
    asked = _asked_archive(lab, _conns_of(lab, JID(tablet)), romeo)
    points.append((asked, "it fetched the conversation with Romeo from the archive" if asked else
                   "it has not asked the archive for the conversation with Romeo: "
                   "await tablet.history(with_='romeo@example.net') (XEP-0313)"))
    return Result("18.1", all(ok for ok, _ in points), points)
