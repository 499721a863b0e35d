"""Waiting in tests: for a condition, re-checked when something happens, never on a timer.

A test says what it waits for, and what can make it true::

    await until(lambda: not server.sessions, server)           # after each event the server records
    await until(lambda: "line 9" in console.html, console.view_w)  # after each change of a widget's traits
    await until(lambda: R in juliet.client_roster, juliet)     # after each stanza a client receives
    await round_trip(juliet)                                   # XEP-0199 ping: all she sent was processed

``check()`` is evaluated at once, then again after each event of the ``sources``, on a later
turn of the event loop, so the code that fired the event (the server handling a chunk of
input, slixmpp dispatching a stanza) has finished. The timeout only guards against a hang: a
test that reaches it has failed. A source is

* a server or a recording proxy (anything with a ``recorder``): every event it records
  (connections opened and closed, data in and out, TLS, authentication, binding);
* a :class:`xmpplab.lab.Lab`: the same, for each of its servers;
* a slixmpp client, :class:`tests.support.SlixClient` or :class:`xmpplab.client.Client`: every
  stanza it receives;
* a :class:`xmpplab.transcript.Transcript`: every item it completes;
* an ipywidgets widget (a traitlets ``HasTraits``): every change of one of its traits;
* a function ``subscribe(wake) -> unsubscribe`` for anything else.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable

Unsubscribe = Callable[[], None]


async def until(check: Callable[[], object], *sources, timeout: float = 5.0, what: str | None = None) -> None:
    """Wait until ``check()`` is true, checking again after each event of ``sources`` (see the module)."""
    if not sources:
        raise ValueError("name what can make the condition true (a server, a client, a widget...)")
    woken = asyncio.Event()
    stops = [subscribe(source, woken.set) for source in sources]
    try:
        async with asyncio.timeout(timeout):
            while not check():
                await woken.wait()
                woken.clear()
    except TimeoutError:
        raise AssertionError(f"{what or 'the condition'} still false {timeout:g} s later") from None
    finally:
        for stop in stops:
            stop()


def subscribe(source, wake: Callable[[], None]) -> Unsubscribe:
    """Call ``wake()`` on each event of ``source``; return the function that stops it."""
    from xmpplab.lab import Lab
    from xmpplab.transcript import Transcript

    if inspect.isfunction(source):
        return source(wake)
    if isinstance(source, Lab):
        stops = [_tee_recorder(server, wake) for server in source.servers]

        def stop_all():
            for stop in stops:
                stop()
        return stop_all
    if isinstance(source, Transcript):
        return source.watch(lambda _item: wake())
    xmpp = getattr(source, "xmpp", source)  # SlixClient and xmpplab's Client wrap a slixmpp ClientXMPP
    if hasattr(xmpp, "add_filter") and hasattr(xmpp, "del_filter"):
        def incoming(stanza):
            wake()
            return stanza
        xmpp.add_filter("in", incoming)
        return lambda: xmpp.del_filter("in", incoming)
    if hasattr(source, "observe") and hasattr(source, "unobserve"):  # traitlets, as in ipywidgets
        def changed(_change):
            wake()
        source.observe(changed)
        return lambda: source.unobserve(changed)
    if hasattr(source, "recorder"):  # a Server, a RecordingProxy
        return _tee_recorder(source, wake)
    raise TypeError(f"cannot watch {type(source).__name__} for events")


def _tee_recorder(owner, wake: Callable[[], None]) -> Unsubscribe:
    """Put a recorder in front of ``owner.recorder`` that passes each event on, then wakes."""
    previous = owner.recorder
    live = [True]

    def tee(event):
        if previous is not None:
            previous(event)
        if live[0]:
            wake()

    owner.recorder = tee

    def stop():
        live[0] = False
        if owner.recorder is tee:
            owner.recorder = previous
    return stop


async def round_trip(client, to: str | None = None, timeout: float = 5.0) -> None:
    """An XEP-0199 ping to ``to`` (the client's own server) and its result: a barrier.

    A server handles one stream's stanzas in order (RFC 6120 10.1), so when the pong is back,
    everything the client sent before it has been processed. Works with xmpplab's Client and
    with slixmpp clients (an error reply fails: slixmpp's own ping would take it for a pong).
    """
    from xmpplab.client import Client

    xmpp = getattr(client, "xmpp", client)
    to = to or xmpp.boundjid.domain
    if isinstance(client, Client):  # it raises IqError on an error reply
        await client.iq(f"<iq type='get' to='{to}'><ping xmlns='urn:xmpp:ping'/></iq>", timeout=timeout)
        return
    iq = xmpp.make_iq_get(ito=to)
    iq.enable("ping")
    result = await iq.send(timeout=timeout)
    assert result["type"] == "result", result


def gone(server, jid: str) -> Callable[[], bool]:
    """A check for :func:`until`: the server has closed the session of the full JID ``jid``.

    The server removes the session, then tells the modules (``session-closed``), which send the
    unavailable presence and leave rooms for it, all before the next turn of the event loop."""
    from xmpplab.jid import JID

    full = JID(jid)
    return lambda: server.session_for(full) is None
