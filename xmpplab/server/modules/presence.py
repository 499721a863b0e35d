"""RFC 6121 presence (placeholder: availability only; subscriptions come next)."""


def setup(server):
    server.hook("pre-presence/bare", outbound)


def outbound(event):
    if event.to is not None:
        return False
    session = event.origin
    stanza = event.stanza
    if stanza.get("type") is None:
        try:
            session.priority = int(stanza.findtext("{jabber:client}priority") or 0)
        except ValueError:
            session.priority = 0
        first = not session.available
        session.available = True
        session.presence = stanza
        if first:
            event.server.hooks.fire("presence-available", session)
    elif stanza.get("type") == "unavailable":
        session.available = False
    return True
