"""Where things are defined: RFC and XEP sections, error conditions, known namespaces.

Every section number here was checked against the documents' tables of
contents (RFC 6120, RFC 6121, RFC 3921 for the old session step, and the
XEPs named). Where a XEP's numbering has changed between versions (XEP-0045)
the citation names the XEP without a section. A wrong citation is a bug:
the tests pin the ones a learner meets first.

Links go to the RFC Editor's HTML (``#section-8.3.3.19`` anchors) and to the
XEP pages on xmpp.org (with the page's own anchor where it has a stable one).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Citation:
    """A section of an RFC or XEP: ``Citation("RFC 6121", "2.1.3", "Roster Get")``."""

    spec: str             # "RFC 6120", "XEP-0199"
    section: str | None   # "2.1.3"; None for a whole XEP
    title: str
    anchor: str | None = None  # for XEPs: the HTML anchor on xmpp.org, when the page has a stable one

    @property
    def label(self) -> str:
        """``RFC 6121 §2.1.3`` or ``XEP-0199 §4.2`` or ``XEP-0092``."""
        return f"{self.spec} §{self.section}" if self.section else self.spec

    @property
    def url(self) -> str:
        """The link to the spec, at the section when there is one."""
        kind, _, number = self.spec.partition(" ") if self.spec.startswith("RFC") else self.spec.partition("-")
        if kind == "RFC":
            base = f"https://www.rfc-editor.org/rfc/rfc{number}.html"
            if not self.section:
                return base
            if self.section[:1].isalpha():  # an appendix: "A.2"
                return f"{base}#appendix-{self.section}"
            return f"{base}#section-{self.section}"
        base = f"https://xmpp.org/extensions/xep-{int(number):04d}.html"
        return f"{base}#{self.anchor}" if self.anchor else base

    def __str__(self) -> str:
        return f"{self.label} ({self.title})"


def rfc6120(section: str) -> Citation:
    """A citation of a section of RFC 6120 (XMPP Core)."""
    return Citation("RFC 6120", section, RFC6120[section])


def rfc6121(section: str) -> Citation:
    """A citation of a section of RFC 6121 (XMPP Instant Messaging and Presence)."""
    return Citation("RFC 6121", section, RFC6121[section])


def xep(number: int, section: str | None = None) -> Citation:
    """A citation of XEP `number`, or of one of its sections (KeyError for a section not in the table)."""
    title, anchors = XEPS[number]
    anchor = anchors.get(section) if section else None
    if section is not None and section not in anchors:
        raise KeyError(f"XEP-{number:04d} §{section} is not in the table of checked sections")
    return Citation(f"XEP-{number:04d}", section, title if section is None else anchors[section][1],
                    anchor[0] if anchor else None)


#: RFC 6120 (XMPP Core): the sections cited.
RFC6120 = {
    "4": "XML Streams",
    "4.2": "Opening a Stream",
    "4.3": "Stream Negotiation",
    "4.3.2": "Stream Features Format",
    "4.3.3": "Restarts",
    "4.3.5": "Completion of Stream Negotiation",
    "4.4": "Closing a Stream",
    "4.7": "Stream Attributes",
    "4.9": "Stream Errors",
    "4.9.2": "Syntax",
    "5": "STARTTLS Negotiation",
    "5.4.1": "Exchange of Stream Headers and Stream Features",
    "5.4.2.1": "STARTTLS Command",
    "5.4.2.2": "Failure Case",
    "5.4.2.3": "Proceed Case",
    "5.4.3.3": "TLS Success",
    "6": "SASL Negotiation",
    "6.4.1": "Exchange of Stream Headers and Stream Features",
    "6.4.2": "Initiation",
    "6.4.3": "Challenge-Response Sequence",
    "6.4.4": "Abort",
    "6.4.5": "SASL Failure",
    "6.4.6": "SASL Success",
    "6.5": "SASL Errors",
    "7": "Resource Binding",
    "7.4": "Advertising Support",
    "7.6": "Server-Generated Resource Identifier",
    "7.7": "Client-Submitted Resource Identifier",
    "8": "XML Stanzas",
    "8.2.1": "Message Semantics",
    "8.2.2": "Presence Semantics",
    "8.2.3": "IQ Semantics",
    "8.3": "Stanza Errors",
    "8.3.2": "Syntax",
    "10.3": "No 'to' Address",
    "11.1": "XML Restrictions",
}

#: RFC 6120 section 4.9.3: stream error conditions, in the RFC's order (4.9.3.1 ... 4.9.3.25).
STREAM_ERRORS = {
    "bad-format": "the entity sent XML that cannot be processed",
    "bad-namespace-prefix": "a namespace prefix is not supported, or is missing (such as the 'stream' prefix)",
    "conflict": "a new stream for the same entity replaced this one (the same full JID logged in again)",
    "connection-timeout": "the peer sent nothing for too long",
    "host-gone": "the domain in 'to' is no longer served by this server",
    "host-unknown": "the domain in 'to' is not served by this server",
    "improper-addressing": "a stanza between servers lacks a 'to' or 'from', or has a wrong one",
    "internal-server-error": "the server hit a misconfiguration or an internal error",
    "invalid-from": "the 'from' address does not match a JID or domain authorized on this stream",
    "invalid-namespace": "the stream namespace is not http://etherx.jabber.org/streams, or the content namespace "
                         "is not supported",
    "invalid-xml": "the XML is invalid (it breaks a schema the server checks)",
    "not-authorized": "the entity sent data before the stream was authenticated",
    "not-well-formed": "the XML is not well-formed",
    "policy-violation": "the entity broke a local policy (a stanza too large, too many stanzas...)",
    "remote-connection-failed": "the server could not reach a remote entity it needed for authentication",
    "reset": "security details changed (new credentials, a new certificate): connect again",
    "resource-constraint": "the server lacks the resources to serve this stream",
    "restricted-xml": "the entity sent XML that XMPP forbids: a comment, a processing instruction, a DTD or an "
                      "entity reference",
    "see-other-host": "the server will not serve this stream: connect to the host named in the error instead",
    "system-shutdown": "the server is shutting down",
    "undefined-condition": "an error that no defined condition describes",
    "unsupported-encoding": "the stream is not encoded in UTF-8",
    "unsupported-feature": "a mandatory feature the receiving entity advertised is not supported",
    "unsupported-stanza-type": "the entity sent a first-level element the server does not support",
    "unsupported-version": "the stream's 'version' is not supported",
}

#: RFC 6120 section 8.3.3: stanza error conditions, in the RFC's order (8.3.3.1 ... 8.3.3.22).
STANZA_ERRORS = {
    "bad-request": "the request was malformed or could not be processed",
    "conflict": "it clashes with something that exists already (a resource or nickname in use)",
    "feature-not-implemented": "the recipient or server does not implement this feature",
    "forbidden": "the sender does not have the permissions needed",
    "gone": "the recipient can no longer be reached at this address",
    "internal-server-error": "the server failed because of a misconfiguration or an internal error",
    "item-not-found": "the JID or item asked for does not exist",
    "jid-malformed": "the address is not a valid JID",
    "not-acceptable": "the recipient or server understood the request but will not accept it",
    "not-allowed": "nobody may do this here",
    "not-authorized": "the sender must authenticate first, or sent wrong credentials",
    "policy-violation": "the sender broke a local policy (too large, spam...)",
    "recipient-unavailable": "the recipient is temporarily unavailable",
    "redirect": "the request is redirected to another entity",
    "registration-required": "the sender must register first",
    "remote-server-not-found": "the recipient's server does not exist or cannot be resolved",
    "remote-server-timeout": "the recipient's server exists but could not be reached in time",
    "resource-constraint": "the recipient or server is too busy to serve the request",
    "service-unavailable": "the recipient or server does not offer this service (also the answer to a request "
                           "nobody handles, or to a user who does not exist)",
    "subscription-required": "the sender must be subscribed first",
    "undefined-condition": "an error that no defined condition describes",
    "unexpected-request": "the request was understood but not expected now",
}

#: RFC 6120 section 8.3.2: what each error type tells the sender to do.
STANZA_ERROR_TYPES = {
    "auth": "retry after giving credentials",
    "cancel": "do not retry: the error cannot be remedied",
    "continue": "go on: it was only a warning",
    "modify": "retry after changing what was sent",
    "wait": "retry later: the error is temporary",
}

#: RFC 6120 section 6.5: SASL failure conditions, in the RFC's order (6.5.1 ... 6.5.11).
SASL_ERRORS = {
    "aborted": "the client aborted the handshake",
    "account-disabled": "the account is disabled",
    "credentials-expired": "the credentials have expired",
    "encryption-required": "this mechanism may only be used over an encrypted (TLS) connection",
    "incorrect-encoding": "the data was not correctly base64-encoded",
    "invalid-authzid": "the authorization identity is invalid or not allowed",
    "invalid-mechanism": "the server does not support this mechanism",
    "malformed-request": "the request was malformed",
    "mechanism-too-weak": "the mechanism is weaker than the server's policy allows",
    "not-authorized": "the credentials are wrong (a wrong password, or no such user)",
    "temporary-auth-failure": "a temporary problem on the server's side: try again later",
}

for _prefix, _table in (("4.9.3", STREAM_ERRORS), ("8.3.3", STANZA_ERRORS), ("6.5", SASL_ERRORS)):
    for _n, _name in enumerate(_table, 1):
        RFC6120[f"{_prefix}.{_n}"] = _name


def stream_error(condition: str) -> Citation | None:
    """``not-well-formed`` -> RFC 6120 §4.9.3.13."""
    return _numbered("4.9.3", STREAM_ERRORS, condition)


def stanza_error(condition: str) -> Citation | None:
    """``service-unavailable`` -> RFC 6120 §8.3.3.19."""
    return _numbered("8.3.3", STANZA_ERRORS, condition)


def sasl_error(condition: str) -> Citation | None:
    """``not-authorized`` -> RFC 6120 §6.5.10."""
    return _numbered("6.5", SASL_ERRORS, condition)


def _numbered(prefix: str, table: dict, condition: str) -> Citation | None:
    if condition not in table:
        return None
    return rfc6120(f"{prefix}.{list(table).index(condition) + 1}")


#: RFC 6121 (XMPP IM): the sections cited.
RFC6121 = {
    "2": "Managing the Roster",
    "2.1.3": "Roster Get",
    "2.1.4": "Roster Result",
    "2.1.5": "Roster Set",
    "2.1.6": "Roster Push",
    "2.2": "Retrieving the Roster on Login",
    "2.3": "Adding a Roster Item",
    "2.5": "Deleting a Roster Item",
    "2.6": "Roster Versioning",
    "3.1": "Requesting a Subscription",
    "3.2": "Canceling a Subscription",
    "3.3": "Unsubscribing",
    "3.3.3": "Server Processing of Inbound Unsubscribe",
    "3.4": "Pre-Approving a Subscription Request",
    "4": "Exchanging Presence Information",
    "4.2": "Initial Presence",
    "4.2.2": "Server Processing of Outbound Initial Presence",
    "4.3": "Presence Probes",
    "4.3.2": "Server Processing of Inbound Presence Probe",
    "4.4": "Subsequent Presence Broadcast",
    "4.5": "Unavailable Presence",
    "4.6": "Directed Presence",
    "4.7.2.1": "Show Element",
    "4.7.2.2": "Status Element",
    "4.7.2.3": "Priority Element",
    "5.1": "One-to-One Chat Sessions",
    "5.2.2": "Type Attribute",
    "8.5.2.1.1": "Message (localpart@domainpart, available or connected resources)",
    "8.5.2.2": "No Available or Connected Resources",
    "8.5.3": "localpart@domainpart/resourcepart",
}

#: RFC 3921 section 3: the session establishment step RFC 6121 removed (servers still accept it).
RFC3921_SESSION = Citation("RFC 3921", "3", "Session Establishment")

#: XEP number -> (title, {section: (anchor or None, section title)}) for the sections cited.
XEPS: dict[int, tuple[str, dict]] = {
    4: ("Data Forms", {}),
    12: ("Last Activity", {}),
    30: ("Service Discovery", {"3": ("info", "Discovering Information About a Jabber Entity"),
                               "4": ("items", "Discovering the Items Associated with a Jabber Entity")}),
    45: ("Multi-User Chat", {}),
    47: ("In-Band Bytestreams", {}),
    48: ("Bookmarks", {}),
    49: ("Private XML Storage", {"2.2": (None, "Methods"), "2.3": (None, "Elements"),
                                 "3": (None, "Error Conditions")}),
    50: ("Ad-Hoc Commands", {}),
    54: ("vcard-temp", {"3.1": (None, "Retrieving One's vCard"), "3.2": (None, "Updating One's vCard"),
                        "3.3": (None, "Viewing Another User's vCard")}),
    59: ("Result Set Management", {"2.1": ("limit", "Limiting the Number of Items"),
                                   "2.2": ("forwards", "Paging Forwards Through a Result Set"),
                                   "2.3": ("backwards", "Paging Backwards Through a Result Set"),
                                   "2.5": ("last", "Requesting the Last Page in a Result Set"),
                                   "2.7": ("count", "Getting the Item Count")}),
    60: ("Publish-Subscribe", {  # numbered as in version 1.30 (the feature summary moved from 10 to 11 in 1.29)
        "4.5": ("accessmodels", "Node Access Models"),
        "5.6": ("entity-subscriptions", "Retrieve Subscriptions"),
        "6.1": ("subscriber-subscribe", "Subscribe to a Node"),
        "6.2": ("subscriber-unsubscribe", "Unsubscribe from a Node"),
        "6.5": ("subscriber-retrieve", "Retrieve Items from a Node"),
        "6.5.7": ("subscriber-retrieve-requestrecent", "Requesting the Most Recent Items"),
        "7.1": ("publisher-publish", "Publish an Item to a Node"),
        "7.1.2": ("publisher-publish-success", "Success Case"),
        "7.1.2.1": ("publisher-publish-success-withpayload", "Notification With Payload"),
        "7.2": ("publisher-delete", "Delete an Item from a Node"),
        "7.2.2.1": ("publisher-delete-success-notify", "Delete And Notify"),
        "8.1": ("owner-create", "Create a Node"),
        "8.2": ("owner-configure", "Configure a Node"),
        "8.4": ("owner-delete", "Delete a Node"),
        "8.5": ("owner-purge", "Purge All Node Items"),
        "8.9": ("owner-affiliations", "Manage Affiliations"),
        "12": ("errors", "Error Conditions")}),
    66: ("Out of Band Data", {}),
    71: ("XHTML-IM", {}),
    77: ("In-Band Registration", {"3.1": ("usecases-register", "Entity Registers with a Host")}),
    85: ("Chat State Notifications", {}),
    92: ("Software Version", {}),
    84: ("User Avatar", {"3.1": ("process-pubdata", "User Publishes Data"),
                         "3.2": ("process-pubmeta", "User Publishes Metadata Notification"),
                         "3.3": ("process-subnotify", "Subscribers Receive Metadata Notification"),
                         "3.4": ("process-subretrieve", "Subscribers Retrieve Data")}),
    115: ("Entity Capabilities", {"4": ("protocol", "Protocol"), "5.1": ("ver-gen", "Generation Method"),
                                  "5.4": ("ver-proc", "Processing Method"),
                                  "6.2": ("discover", "Discovering Capabilities"), "8.2": ("impl-cache", "Caching")}),
    138: ("Stream Compression", {}),
    153: ("vCard-Based Avatars", {}),
    160: ("Best Practices for Handling Offline Messages", {}),
    166: ("Jingle", {}),
    163: ("Personal Eventing Protocol", {"3": ("publish", "Publishing Events"),
                                         "4": ("notify", "Receiving Event Notifications"),
                                         "4.2": ("notify-filterednotifications", "Notification Filtering"),
                                         "4.3.1": ("notify-addressing", "Addressing"),
                                         "4.3.4": ("notify-last", "Sending the Last Published Item"),
                                         "6.1": ("support-owner", "Account Owner Service Discovery")}),
    172: ("User Nickname", {"4.3": ("manage", "Nickname Management")}),
    184: ("Message Delivery Receipts", {}),
    191: ("Blocking Command", {"3.2": ("blocklist", "User Retrieves Block List"), "3.3": ("block", "User Blocks JID"),
                               "3.4": ("unblock", "User Unblocks JID"),
                               "3.5": ("unblockall", "User Unblocks All blocked JIDs"),
                               "6": ("matching", "JID Matching")}),
    198: ("Stream Management", {"2": ("feature", "Stream Feature"), "3": ("enable", "Enabling Stream Management"),
                                "4": ("acking", "Acks"), "5": ("resumption", "Resumption"),
                                "6": ("errors", "Error Handling"), "7": ("closure", "Stream Closure")}),
    199: ("XMPP Ping", {"4.1": ("s2c", "Server-To-Client Pings"), "4.2": ("c2s", "Client-To-Server Pings")}),
    202: ("Entity Time", {}),
    203: ("Delayed Delivery", {"2": ("protocol", "Protocol Definition")}),
    220: ("Server Dialback", {}),
    249: ("Direct MUC Invitations", {}),
    280: ("Message Carbons", {"4": ("enabling", "Enabling Carbons"), "5": ("disabling", "Disabling Carbons"),
                              "6": ("which-messages", "Messages Eligible for Carbons Delivery"),
                              "7": ("inbound", "Receiving Messages"), "8": ("outbound", "Sending Messages"),
                              "9": ("avoiding", "Avoiding Carbons for a single message")}),
    297: ("Stanza Forwarding", {}),
    308: ("Last Message Correction", {}),
    313: ("Message Archive Management", {"3.3.2": ("archives_muc", "MUC archives"),
                                         "3.5": ("archives_id", "Communicating the archive ID"),
                                         "4": ("query", "Querying an archive"), "4.1": ("filter", "Filtering results"),
                                         "4.2": ("results", "Query results"),
                                         "4.3": ("query-paging", "Paging through results"),
                                         "6.1.2": ("business-storeret-muc-archives", "MUC Archives")}),
    333: ("Chat Markers", {}),
    334: ("Message Processing Hints", {}),
    352: ("Client State Indication", {"4.1": ("discovery", "Discovering support"),
                                      "4.2": ("indication", "Indicating state"), "5": ("rules", "Business Rules")}),
    357: ("Push Notifications", {"4.1": (None, "Account Owner Service Discovery"),
                                  "5": ("enabling", "Enabling Notifications"),
                                  "6": ("disabling", "Disabling Notifications"),
                                  "7": ("publishing", "Publishing Notifications")}),
    359: ("Unique and Stable Stanza IDs", {"2.1": ("stanza-id", "Unique stanza IDs"),
                                           "2.2": ("origin-id", "Origin generated stanza IDs")}),
    360: ("Nonzas (are not Stanzas)", {}),
    363: ("HTTP File Upload", {"3": ("disco", "Discovering Support"), "4": ("request", "Requesting a slot"),
                               "6": ("errors", "Error conditions"), "7": ("upload", "Upload"),
                               "8": ("impl", "Implementation Notes")}),
    380: ("Explicit Message Encryption", {}),
    384: ("OMEMO Encryption", {}),
    386: ("Bind 2", {}),
    388: ("Extensible SASL Profile", {}),
    398: ("User Avatar to vCard-Based Avatars Conversion", {"2": ("disco", "Discovery"),
                                                             "3.1": ("pep2vcard", "From PEP to vCard"),
                                                             "4": ("presence", "Presence Broadcast")}),
}

#: Namespace -> (XEP number, what it is, in a few words). Prefix matches end with ':' or '#'.
NAMESPACES = {
    "jabber:x:data": (4, "a data form"),
    "jabber:iq:last": (12, "last activity"),
    "http://jabber.org/protocol/disco#info": (30, "service discovery (info)"),
    "http://jabber.org/protocol/disco#items": (30, "service discovery (items)"),
    "http://jabber.org/protocol/muc": (45, "multi-user chat (joining a room)"),
    "http://jabber.org/protocol/muc#user": (45, "multi-user chat (occupant information)"),
    "http://jabber.org/protocol/muc#admin": (45, "multi-user chat (moderation)"),
    "http://jabber.org/protocol/muc#owner": (45, "multi-user chat (room configuration)"),
    "http://jabber.org/protocol/ibb": (47, "in-band bytestreams"),
    "storage:bookmarks": (48, "bookmarks"),
    "jabber:iq:private": (49, "private XML storage"),
    "http://jabber.org/protocol/commands": (50, "ad-hoc commands"),
    "vcard-temp": (54, "a vCard"),
    "http://jabber.org/protocol/rsm": (59, "result set management"),
    "http://jabber.org/protocol/pubsub": (60, "publish-subscribe"),
    "http://jabber.org/protocol/pubsub#event": (60, "a publish-subscribe event"),
    "http://jabber.org/protocol/pubsub#owner": (60, "publish-subscribe (owner)"),
    "http://jabber.org/protocol/pubsub#errors": (60, "publish-subscribe's own error condition"),
    "jabber:x:oob": (66, "a link to a file (out of band data)"),
    "http://jabber.org/protocol/xhtml-im": (71, "formatted text (XHTML-IM)"),
    "jabber:iq:register": (77, "in-band registration"),
    "http://jabber.org/features/iq-register": (77, "in-band registration"),
    "http://jabber.org/protocol/chatstates": (85, "a chat state"),
    "jabber:iq:version": (92, "software version"),
    "urn:xmpp:avatar:data": (84, "an avatar picture"),
    "urn:xmpp:avatar:metadata": (84, "an avatar's metadata"),
    "http://jabber.org/protocol/caps": (115, "entity capabilities"),
    "http://jabber.org/features/compress": (138, "stream compression"),
    "http://jabber.org/protocol/compress": (138, "stream compression"),
    "vcard-temp:x:update": (153, "an avatar hash"),
    "urn:xmpp:jingle:1": (166, "a Jingle session"),
    "http://jabber.org/protocol/nick": (172, "a nickname"),
    "urn:xmpp:receipts": (184, "a delivery receipt"),
    "urn:xmpp:blocking": (191, "blocking"),
    "urn:xmpp:blocking:errors": (191, "the blocking error (the recipient is blocked)"),
    "urn:xmpp:sm:3": (198, "stream management"),
    "urn:xmpp:ping": (199, "a ping"),
    "urn:xmpp:time": (202, "entity time"),
    "urn:xmpp:delay": (203, "a delivery delay stamp"),
    "jabber:server:dialback": (220, "server dialback"),
    "urn:xmpp:features:dialback": (220, "server dialback"),
    "jabber:x:conference": (249, "a room invitation"),
    "urn:xmpp:carbons:2": (280, "message carbons"),
    "urn:xmpp:forward:0": (297, "a forwarded stanza"),
    "urn:xmpp:message-correct:0": (308, "a message correction"),
    "urn:xmpp:mam:2": (313, "the message archive"),
    "urn:xmpp:chat-markers:0": (333, "a chat marker"),
    "urn:xmpp:hints": (334, "a processing hint"),
    "urn:xmpp:csi:0": (352, "client state indication"),
    "urn:xmpp:push:0": (357, "push notifications"),
    "urn:xmpp:sid:0": (359, "a stable stanza id"),
    "urn:xmpp:http:upload:0": (363, "HTTP file upload"),
    "urn:xmpp:eme:0": (380, "an encryption marker"),
    "eu.siacs.conversations.axolotl": (384, "OMEMO encryption"),
    "urn:xmpp:bind:0": (386, "Bind 2"),
    "urn:xmpp:sasl:2": (388, "SASL2 authentication"),
    "urn:xmpp:pep-vcard-conversion:0": (398, "avatars converted between PEP and the vCard"),
}


def namespace_xep(ns: str | None) -> tuple[Citation, str] | None:
    """(the XEP, a few words) for a namespace xmpplab knows, else None."""
    if not ns:
        return None
    found = NAMESPACES.get(ns)
    if found is None:
        return None
    number, words = found
    return xep(number), words
