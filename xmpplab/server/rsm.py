"""XEP-0059 Result Set Management, as far as archive and item queries need it: read a request, write a page.

    <set xmlns='http://jabber.org/protocol/rsm'><max>10</max><after>09af3</after></set>   (the next page, §2.2)
    <set xmlns='http://jabber.org/protocol/rsm'><max>10</max><before/></set>             (the last page, §2.5)

>>> from xmpplab.xml import parse_fragment
>>> page = request(parse_fragment("<q xmlns='x'><set xmlns='http://jabber.org/protocol/rsm'><max>5</max>"
...                               "<before/></set></q>"), limit=100)
>>> page.max, page.before, page.after
(5, '', None)
"""

from __future__ import annotations

from dataclasses import dataclass

from ..xml import element, sub

NS_RSM = "http://jabber.org/protocol/rsm"


class RSMError(ValueError):
    """A request the XEP does not allow (a negative or non-numeric ``<max/>``): ``bad-request``."""


@dataclass(frozen=True)
class Page:
    """What a request asks for: at most ``max`` items, ``after`` an id (§2.2) or ``before`` one (§2.3;
    ``""``: the last page, §2.5). None where the request says nothing."""

    max: int
    after: str | None = None
    before: str | None = None


def request(parent, limit: int) -> Page:
    """The page asked for in the ``<set/>`` of ``parent`` (none: the first ``limit`` items), capped at ``limit``."""
    rsm = parent.find(f"{{{NS_RSM}}}set") if parent is not None else None
    if rsm is None:
        return Page(limit)
    text = rsm.findtext(f"{{{NS_RSM}}}max")
    try:
        wanted = int(text) if text is not None and text.strip() else limit
    except ValueError:
        raise RSMError(f"<max/> is a number of items, not {text!r} (XEP-0059 §2.1)") from None
    if wanted < 0:
        raise RSMError("<max/> cannot be negative (XEP-0059 §2.1)")
    after = rsm.find(f"{{{NS_RSM}}}after")
    before = rsm.find(f"{{{NS_RSM}}}before")
    return Page(min(wanted, limit), after.text or "" if after is not None else None,
                (before.text or "") if before is not None else None)


def answer(first: str | None, last: str | None, count: int | None = None, index: int | None = None):
    """The ``<set/>`` that describes a page returned (§2.1): its first and last ids, the total count."""
    rsm = element("set", ns=NS_RSM)
    if first is not None:
        sub(rsm, "first", {"index": index}, text=first)
        sub(rsm, "last", text=last)
    if count is not None:
        sub(rsm, "count", text=str(count))
    return rsm
