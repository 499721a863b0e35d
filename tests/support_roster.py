"""Roster state for tests (RFC 6121 Appendix A): set a subscription state directly, read it back."""

from xmpplab.server.storage import RosterItem


def put_state(server, owner: str, contact: str, state: str, **kw) -> None:
    """Store an Appendix A state (``none+out+in`` …) for ``contact`` in ``owner``'s roster."""
    parts = state.split("+")
    server.storage.put_item(owner, RosterItem(contact, subscription=parts[0], ask="out" in parts,
                                              pending_in="in" in parts, **kw))
    if "in" in parts:
        server.storage.put_subscription_request(
            owner, contact, f"<presence xmlns='jabber:client' from='{contact}' to='{owner}' type='subscribe'/>")


def state(server, owner: str, contact: str):
    """(subscription, ask, pending_in, approved, in_roster) as stored, or None."""
    item = server.roster.get(owner, contact)
    if item is None:
        return None
    return item.subscription, item.ask, item.pending_in, item.approved, item.in_roster
