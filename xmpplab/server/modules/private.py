"""XEP-0049 Private XML Storage: a client keeps any XML of its own namespace on its account.

    C: <iq type='set' id='p1'><query xmlns='jabber:iq:private'>
         <prefs xmlns='example:prefs'><theme>dark</theme></prefs></query></iq>
    S: <iq type='result' id='p1' to='juliet@example.com/balcony'/>
    C: <iq type='get' id='p2'><query xmlns='jabber:iq:private'><prefs xmlns='example:prefs'/></query></iq>
    S: <iq type='result' id='p2' to='juliet@example.com/balcony'>
         <query xmlns='jabber:iq:private'><prefs xmlns='example:prefs'><theme>dark</theme></prefs></query></iq>

The stored fragment is keyed by its namespace (§2.2): a get names one namespace by an
empty element of it and gets back what was stored, or that same empty element when
nothing was. A set replaces what the namespaces it carries held (it may carry several
elements of one namespace). Only the account itself reads or writes it: a get or set to
another account is ``forbidden`` (§3, the preferable of the two conditions it allows). A
get with no child is ``bad-request`` (§3 says "Bad Format", which RFC 6120 §8.3.3 does not
define as a stanza condition: ``bad-request`` is its defined equivalent, error code 400 in
XEP-0086), and a set with none ``not-acceptable`` (§2.3);
the reserved namespaces (``jabber:``, ``http://jabber.org/``, ``vcard-temp``) are
``not-acceptable`` (§3, optional, as Prosody and ejabberd do). What an account stores
is bounded: ``MAX_CHARS`` per namespace and ``MAX_NAMESPACES`` namespaces. Kept in the
server's database, so it survives a restart; forgotten with the account.
"""

from __future__ import annotations

from ...xml import NS_CLIENT, XMLInputError, element, parse_fragment, serialize, split_qname

NS_PRIVATE = "jabber:iq:private"
MAX_CHARS = 64 * 1024
MAX_NAMESPACES = 100
RESERVED = ("jabber:", "http://jabber.org/", "vcard-temp")
SCHEMA = ("CREATE TABLE IF NOT EXISTS private (owner TEXT NOT NULL, ns TEXT NOT NULL, xml TEXT NOT NULL, "
          "PRIMARY KEY (owner, ns));")


def setup(server):
    """Serve private XML storage (XEP-0049 §2) to each account from the database."""
    server.storage.add_tables(SCHEMA)
    server.add_feature(NS_PRIVATE)
    server.hook_iq(f"{NS_PRIVATE}:query", get_self=get, set_self=store, get_bare=forbidden, set_bare=forbidden)
    server.hook("account-removed", lambda bare: _forget(server, bare))


def _groups(event, empty: tuple[str, str]) -> dict[str, list] | None:
    """The payload's children by namespace; None (after answering the error) when they are not storable, or when
    there are none (answered with the ``empty`` condition and text)."""
    groups: dict[str, list] = {}
    for child in event.payload:
        if not isinstance(child.tag, str):
            continue  # a comment or processing instruction
        ns, _ = split_qname(child.tag)
        if not ns or ns == NS_CLIENT:
            event.error("not-acceptable", "each stored element needs a namespace of its own (XEP-0049 §2.3)")
            return None
        if ns.startswith(RESERVED):
            event.error("not-acceptable", f"{ns} is a reserved namespace (XEP-0049 §3)")
            return None
        groups.setdefault(ns, []).append(child)
    if not groups:
        event.error(*empty)
        return None
    return groups


def get(event) -> bool:
    """§2.2: what one namespace holds, or the empty element asked with when nothing was stored."""
    groups = _groups(event, ("bad-request", "name the namespace to fetch with an empty element of it (XEP-0049 §3)"))
    if groups is None:
        return True
    if len(groups) > 1:
        event.error("not-acceptable", "fetch one namespace per request (XEP-0049 §2.3)")
        return True
    (ns, asked), = groups.items()
    rows = event.server.storage.rows("SELECT xml FROM private WHERE owner = ? AND ns = ?",
                                     (str(event.from_.bare), ns))
    query = element("query", ns=NS_PRIVATE)
    stored = _parse(rows[0][0]) if rows else None
    for child in (stored if stored is not None else asked[:1]):
        query.append(child)
    event.reply(query)
    return True


def store(event) -> bool:
    """§2.2: replace what each namespace of the set holds."""
    groups = _groups(event, ("not-acceptable", "a set carries at least one element to store (XEP-0049 §2.3)"))
    if groups is None:
        return True
    owner = str(event.from_.bare)
    texts = {ns: "".join(serialize(child, NS_CLIENT) for child in children) for ns, children in groups.items()}
    for ns, text in texts.items():
        if len(text) > MAX_CHARS:
            event.error("not-acceptable", f"{ns} holds at most {MAX_CHARS // 1024} KiB here")
            return True
    storage = event.server.storage
    held = {ns for (ns,) in storage.rows("SELECT ns FROM private WHERE owner = ?", (owner,))}
    if len(held | set(texts)) > MAX_NAMESPACES:
        event.error("resource-constraint", f"an account stores at most {MAX_NAMESPACES} namespaces here")
        return True
    for ns, text in texts.items():
        storage.rows("INSERT OR REPLACE INTO private (owner, ns, xml) VALUES (?, ?, ?)", (owner, ns, text))
    event.reply()
    return True


def forbidden(event) -> bool:
    """§3: another account's private data is nobody else's business."""
    event.error("forbidden", "private XML storage belongs to the account alone")
    return True


def _parse(text: str) -> list | None:
    """The stored elements of one namespace (kept as one string of siblings)."""
    try:
        wrapper = parse_fragment(f"<q xmlns='{NS_PRIVATE}'>{text}</q>")
    except XMLInputError:
        return None
    return [child for child in wrapper if isinstance(child.tag, str)]


def _forget(server, bare) -> bool:
    server.storage.rows("DELETE FROM private WHERE owner = ?", (str(bare),))
    return False
