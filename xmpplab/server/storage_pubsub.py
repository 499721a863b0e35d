"""The publish-subscribe tables of the server's SQLite storage (XEP-0060): nodes, affiliations,
subscriptions and items, each keyed by the service's JID (``pubsub.example.com``, or an account's bare
JID for personal eventing), so they survive a restart. :class:`~xmpplab.server.storage.Storage` has
these methods; only :mod:`xmpplab.server.pubsub` calls them.
"""

from __future__ import annotations

SCHEMA = """
CREATE TABLE IF NOT EXISTS pubsub_nodes (      -- XEP-0060 nodes (8.1) and their configuration (8.2)
    service TEXT NOT NULL, node TEXT NOT NULL, config TEXT NOT NULL,
    PRIMARY KEY (service, node)
);
CREATE TABLE IF NOT EXISTS pubsub_affiliations ( -- 4.1: owner, publisher, member, outcast
    service TEXT NOT NULL, node TEXT NOT NULL, jid TEXT NOT NULL, affiliation TEXT NOT NULL,
    PRIMARY KEY (service, node, jid)
);
CREATE TABLE IF NOT EXISTS pubsub_subscriptions ( -- 6.1: who gets notifications
    service TEXT NOT NULL, node TEXT NOT NULL, jid TEXT NOT NULL, state TEXT NOT NULL,
    PRIMARY KEY (service, node, jid)
);
CREATE TABLE IF NOT EXISTS pubsub_items (       -- 7.1: published items of nodes with persist_items
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    service TEXT NOT NULL, node TEXT NOT NULL, item TEXT NOT NULL, publisher TEXT, payload TEXT,
    UNIQUE (service, node, item)
);
"""


class PubSubRows:
    """Storage methods for XEP-0060 (mixed into :class:`~xmpplab.server.storage.Storage`)."""

    def pubsub_nodes(self, service: str) -> list[tuple[str, str]]:
        """The stored nodes of a service: (node, config JSON)."""
        return list(self._exec("SELECT node, config FROM pubsub_nodes WHERE service=? ORDER BY node", (service,)))

    def put_pubsub_node(self, service: str, node: str, config: str, owner: str | None = None) -> None:
        """Store a node's configuration (configured, or with its ``owner`` created), all or nothing."""
        with self._transaction():
            self._db.execute("INSERT OR REPLACE INTO pubsub_nodes VALUES (?,?,?)", (service, node, config))
            if owner is not None:
                self._db.execute("INSERT OR REPLACE INTO pubsub_affiliations VALUES (?,?,?,?)",
                                 (service, node, owner, "owner"))

    def delete_pubsub_node(self, service: str, node: str) -> None:
        """Forget a node with its affiliations, subscriptions and items (8.4), all or none."""
        with self._transaction():
            for table in ("pubsub_nodes", "pubsub_affiliations", "pubsub_subscriptions", "pubsub_items"):
                self._db.execute(f"DELETE FROM {table} WHERE service=? AND node=?", (service, node))

    def pubsub_affiliations(self, service: str, node: str) -> list[tuple[str, str]]:
        """(bare JID, affiliation) of a stored node."""
        return list(self._exec("SELECT jid, affiliation FROM pubsub_affiliations WHERE service=? AND node=?",
                               (service, node)))

    def put_pubsub_affiliation(self, service: str, node: str, jid: str, affiliation: str) -> None:
        """Set one affiliation; ``none`` removes it."""
        if affiliation == "none":
            self._exec("DELETE FROM pubsub_affiliations WHERE service=? AND node=? AND jid=?", (service, node, jid))
        else:
            self._exec("INSERT OR REPLACE INTO pubsub_affiliations VALUES (?,?,?,?)", (service, node, jid, affiliation))

    def pubsub_subscriptions(self, service: str, node: str) -> list[tuple[str, str]]:
        """(JID, state) of the subscribers of a stored node."""
        return list(self._exec("SELECT jid, state FROM pubsub_subscriptions WHERE service=? AND node=?",
                               (service, node)))

    def put_pubsub_subscription(self, service: str, node: str, jid: str, state: str | None) -> None:
        """Store a subscription; ``None`` removes it (6.2)."""
        if state is None:
            self._exec("DELETE FROM pubsub_subscriptions WHERE service=? AND node=? AND jid=?", (service, node, jid))
        else:
            self._exec("INSERT OR REPLACE INTO pubsub_subscriptions VALUES (?,?,?,?)", (service, node, jid, state))

    def pubsub_items(self, service: str, node: str) -> list[tuple[str, str | None, str | None]]:
        """(item id, publisher, payload XML) of a stored node, oldest first."""
        return list(self._exec("SELECT item, publisher, payload FROM pubsub_items WHERE service=? AND node=?"
                               " ORDER BY seq", (service, node)))

    def put_pubsub_item(self, service: str, node: str, item: str, publisher: str | None, payload: str | None,
                        drop: tuple[str, ...] = ()) -> None:
        """Store an item as the newest (one with the same id is replaced, 7.1.2) and drop the ``drop`` ids."""
        with self._transaction():
            self._db.execute("DELETE FROM pubsub_items WHERE service=? AND node=? AND item=?", (service, node, item))
            self._db.execute("INSERT INTO pubsub_items (service, node, item, publisher, payload) VALUES (?,?,?,?,?)",
                             (service, node, item, publisher, payload))
            self._db.executemany("DELETE FROM pubsub_items WHERE service=? AND node=? AND item=?",
                                 [(service, node, old) for old in drop])

    def delete_pubsub_items(self, service: str, node: str, items: tuple[str, ...] | None = None) -> None:
        """Delete some items of a node (7.2), or all of them (``None``: 8.5 purge)."""
        if items is None:
            self._exec("DELETE FROM pubsub_items WHERE service=? AND node=?", (service, node))
        else:
            with self._transaction():
                self._db.executemany("DELETE FROM pubsub_items WHERE service=? AND node=? AND item=?",
                                     [(service, node, i) for i in items])

    def forget_pubsub_jid(self, jid: str) -> None:
        """An account is gone: drop its affiliations and subscriptions on every node (its full JIDs too)."""
        with self._transaction():
            self._db.execute("DELETE FROM pubsub_affiliations WHERE jid=?", (jid,))
            self._db.execute("DELETE FROM pubsub_subscriptions WHERE jid=? OR jid LIKE ? ESCAPE '\\'",
                             (jid, jid.replace("%", r"\%").replace("_", r"\_") + "/%"))
