"""Tests read as transcripts: compare received XML structurally, mark 'so far' with a ping, name errors.

    c = await online(raw, "juliet@example.com/balcony")   # logged in, roster asked, presence sent, all read
    await c.send("<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>")
    same_list(await flush(c), ["<iq type='result' id='r1' to='*'><query xmlns='jabber:iq:roster' ver='*'/></iq>"])

Comparison is structural (element names, namespaces, attributes and children); an attribute
value or a text of ``*`` matches anything. :func:`flush` is a barrier: an XEP-0199 ping to the
client's own server, answered only after everything the client sent before it was processed
(RFC 6120 section 10.1: a server delivers one stream's stanzas in order).
"""

import itertools

from lxml import etree

from xmpplab.xml import parse_fragment, serialize

ROSTER = "jabber:iq:roster"
_ids = itertools.count(1)

#: Namespace-ill-formed messages (an unbound prefix): RFC 6120 4.9.3.13 <not-well-formed/>, never relayed.
BAD_CHILD = "<message to='{to}' type='chat' id='bad'><body>x</body><foo:bar/></message>"
BAD_ATTRIBUTE = "<message to='{to}' type='chat' id='bad' foo:y='1'><body>x</body></message>"


# comparing ------------------------------------------------------------------------
def show(el) -> str:
    """An element as XML text (a string such as ``"EOF"`` as it is)."""
    return el if isinstance(el, str) else serialize(el)


def _compare(got, exp, where: str) -> None:
    if isinstance(got, str) or got.tag != exp.tag:
        raise AssertionError(f"{where}: expected {serialize(exp)}\n   got {show(got)}")
    ga, ea = dict(got.attrib), dict(exp.attrib)
    for key, value in ea.items():
        if value == "*" and key in ga:
            ga[key] = "*"
    if ga != ea:
        raise AssertionError(f"{where}: attributes differ: expected {sorted(ea.items())}, "
                             f"got {sorted(ga.items())}\n   in {show(got)}")
    gc = [c for c in got if isinstance(c.tag, str)]
    ec = [c for c in exp if isinstance(c.tag, str)]
    if len(gc) != len(ec):
        raise AssertionError(f"{where}: expected {serialize(exp)}\n   got {show(got)}")
    for i, (g, e) in enumerate(zip(gc, ec, strict=True)):
        _compare(g, e, f"{where}/{etree.QName(e).localname}[{i}]")
    etext = (exp.text or "").strip()
    if etext != "*" and (got.text or "").strip() != etext:
        raise AssertionError(f"{where}: text {got.text!r} != {exp.text!r} in {show(got)}")


def same(got, expected: str) -> None:
    """Assert that the element ``got`` is structurally the XML ``expected``."""
    exp = parse_fragment(expected)
    _compare(got, exp, etree.QName(exp).localname)


def same_list(got: list, expected: list[str]) -> None:
    """Assert that a transcript (a list of received elements) is exactly ``expected``, in order."""
    if len(got) != len(expected):
        listing = "\n".join("   " + show(g) for g in got)
        raise AssertionError(f"expected {len(expected)} stanzas, got {len(got)}:\n{listing}")
    for i, (g, e) in enumerate(zip(got, expected, strict=True)):
        exp = parse_fragment(e)
        _compare(g, exp, f"stanza {i + 1}")


# barriers ---------------------------------------------------------------------------
async def flush(c) -> list:
    """Everything the server has sent ``c`` so far, in order (a ping round trip marks 'so far')."""
    pid = f"sync-{next(_ids)}"
    domain = c.jid.split("@")[1].split("/")[0]
    await c.send(f"<iq type='get' id='{pid}' to='{domain}'><ping xmlns='urn:xmpp:ping'/></iq>")
    got = []
    while True:
        el = await c.recv()
        if not isinstance(el, str) and el.get("id") == pid:
            return got
        if isinstance(el, str):
            raise AssertionError(f"the stream ended: {el} (after {[show(g) for g in got]})")
        got.append(el)


async def online(raw, jid: str, *, roster: bool = True, presence: str | None = "<presence/>"):
    """A raw client, logged in, that asked for its roster (an interested resource) and sent
    initial presence; whatever that brought is read and dropped."""
    c = await raw()
    await c.login(jid)
    if roster:
        await c.send(f"<iq type='get' id='roster-{next(_ids)}'><query xmlns='{ROSTER}'/></iq>")
    if presence:
        await c.send(presence)
    await flush(c)
    return c


# errors -----------------------------------------------------------------------------
def error_of(el) -> tuple[str, str]:
    """The (type, condition) of a stanza error (RFC 6120 8.3)."""
    err = el.find("{jabber:client}error")
    assert err is not None, show(el)
    return err.get("type"), etree.QName(err[0]).localname


def condition(el) -> str:
    """The condition of a <stream:error/> (RFC 6120 4.9.3) or a stanza's <error/>."""
    assert not isinstance(el, str), el
    err = el if etree.QName(el).localname == "error" else el.find("{jabber:client}error")
    assert err is not None, serialize(el)
    return etree.QName(err[0]).localname


async def assert_still_serving(raw) -> None:
    """A new client can still log in and get a pong: what went before did not break the server."""
    c = await raw()
    await c.login("nurse@example.com/check")
    pong = await c.request("<iq type='get' id='alive' to='example.com'><ping xmlns='urn:xmpp:ping'/></iq>")
    assert pong.get("type") == "result"


async def stream_error_after(raw, data: bytes | str, login: bool = False) -> str:
    """Send ``data`` on a new stream (logged in or not); return the stream error's condition.

    The stream must end right after the error (RFC 6120 4.9.1.1)."""
    c = await raw()
    if login:
        await c.login("juliet@example.com/balcony")
    else:
        await c.open_stream()
    await c.send(data)
    err = await c.recv()
    closed = await c.recv()
    assert closed in ("</stream:stream>", "EOF")
    return condition(err)


async def refused(c, data: str) -> None:
    """``c`` sends ``data`` and its stream ends with <not-well-formed/>."""
    await c.send(data)
    assert condition(await c.recv()) == "not-well-formed"
    assert await c.recv() in ("</stream:stream>", "EOF")
