"""Chapter 04, Presence: show, status and priority (RFC 6121 section 4)."""

from ..presence_values import PRIORITY_MAX, PRIORITY_MIN, SHOW_VALUES
from ..presence_values import SHOW_MEANINGS as _MEANING
from ..xml import split_qname
from .core import Checker, exercise

PRESENCE_TYPES = ("unavailable", "subscribe", "subscribed", "unsubscribe", "unsubscribed", "probe", "error")


def _available_broadcast(c: Checker, show_wanted: str | None = None) -> None:
    """An available presence for broadcast: no 'type', no 'to' (RFC 6121 sections 4.2 and 4.4)."""
    wrong = {show: f"'{show}' is not a presence type: leave out 'type' (available) and put <show>{show}</show> "
                   "inside the presence (RFC 6121 section 4.7.2.1)" for show in SHOW_VALUES}
    wrong["unavailable"] = "type='unavailable' says you are offline; an available presence has no 'type' at all"
    c.value("type", None, "no 'type': it says you are available", wrong,
            "leave out type='{}': an available presence has no 'type' attribute")
    c.no_attribute("to", "a presence with no 'to' goes to the server, which broadcasts it to your contacts")


def _unknown_children(c: Checker, allowed: tuple[str, ...]) -> None:
    for child in c.el:
        if not isinstance(child.tag, str):
            continue
        ns, name = split_qname(child.tag)
        if ns == split_qname(c.el.tag)[0] and name not in allowed:
            c.fail(f"<{name}/> is not part of presence; the children are <show/>, <status/> and <priority/>")


@exercise("04.1", "Juliet does not want to be disturbed", stanza="presence")
def _(c, **context):
    """Juliet stays available (a presence with no 'type' and no 'to'); the sub-state goes in a <show/> child.

    The four values of <show/> are chat, away, xa and dnd (do not disturb). The words people read go in <status/>.

    <presence><show>dnd</show><status>Speaking with the Nurse</status></presence>"""
    _available_broadcast(c)
    show = c.child("show")
    if show is not None:
        value = (show.text or "").strip()
        if value == "dnd":
            c.ok("<show>dnd</show>: do not disturb")
        elif value in SHOW_VALUES:
            c.fail(f"<show>{value}</show> is a real value, but it says '{_MEANING[value]}'; "
                   "'do not disturb' is dnd")
        else:
            c.fail(f"<show/> takes one of chat, away, xa or dnd, not '{value}' (RFC 6121 section 4.7.2.1)")
    c.child("status", text=True)
    _unknown_children(c, ("show", "status", "priority"))
    return c


@exercise("04.2", "phone2 takes the messages", stanza="presence")
def _(c, **context):
    """Messages sent to the bare JID user1@server1.com go to the available resource with the highest <priority/>; pc
    has 10.

    A priority is a whole number from -128 to 127 in a <priority/> child of an available presence (no 'type', no
    'to').

    <presence><priority>20</priority></presence>"""
    _available_broadcast(c)
    prio = c.child("priority")
    if prio is not None:
        text = (prio.text or "").strip()
        try:
            value = int(text)
        except ValueError:
            c.fail(f"<priority/> holds a whole number, not '{text}' (RFC 6121 section 4.7.2.3)")
        else:
            if not PRIORITY_MIN <= value <= PRIORITY_MAX:
                c.fail(f"a priority is from {PRIORITY_MIN} to {PRIORITY_MAX}, not {value} (RFC 6121 section 4.7.2.3)")
            elif value < 0:
                c.fail(f"priority {value} is negative: phone2 would never get messages sent to the bare JID")
            elif value <= 10:
                c.fail(f"priority {value} is not above pc's 10: " + (
                    "a tie, and the server may deliver to both or pick one" if value == 10
                    else "pc would still get the messages"))
            else:
                c.ok(f"priority {value} is above pc's 10: messages to user1@server1.com now go to phone2")
    _unknown_children(c, ("show", "status", "priority"))
    return c
