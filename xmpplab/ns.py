"""Every XML namespace xmpplab names, in one place (RFC 6120, RFC 6121 and the XEPs).

Import them from here (``from xmpplab.ns import NS_ROSTER``); :mod:`xmpplab.xml`
re-exports the core ones for older imports. :data:`SHORT_NAMES` gives the few
words a view shows for a namespace ("roster" for ``jabber:iq:roster``).
"""

from __future__ import annotations

# RFC 6120 (XMPP Core) and RFC 6121 (IM and Presence)
NS_CLIENT = "jabber:client"
NS_SERVER = "jabber:server"
NS_COMPONENT = "jabber:component:accept"  # XEP-0114
NS_STREAM = "http://etherx.jabber.org/streams"
NS_STREAMS = "urn:ietf:params:xml:ns:xmpp-streams"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
NS_TLS = "urn:ietf:params:xml:ns:xmpp-tls"
NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
NS_BIND = "urn:ietf:params:xml:ns:xmpp-bind"
NS_SESSION = "urn:ietf:params:xml:ns:xmpp-session"
NS_ROSTER = "jabber:iq:roster"
NS_ROSTERVER = "urn:xmpp:features:rosterver"
NS_PREAPPROVAL = "urn:xmpp:features:pre-approval"
NS_XML = "http://www.w3.org/XML/1998/namespace"
# XEPs: disco 0030, ping 0199, version 0092, register 0077, delay 0203, offline 0160, dialback 0220,
# SASL2 0388, stream management 0198, compression 0138, chat states 0085, receipts 0184, carbons 0280, MUC 0045
NS_DISCO_INFO = "http://jabber.org/protocol/disco#info"
NS_DISCO_ITEMS = "http://jabber.org/protocol/disco#items"
NS_PING = "urn:xmpp:ping"
NS_VERSION = "jabber:iq:version"
NS_REGISTER = "jabber:iq:register"
NS_REGISTER_FEATURE = "http://jabber.org/features/iq-register"
NS_DELAY = "urn:xmpp:delay"
NS_OFFLINE = "msgoffline"
NS_DIALBACK = "jabber:server:dialback"
NS_DIALBACK_FEATURE = "urn:xmpp:features:dialback"
NS_BIDI = "urn:xmpp:bidi"  # XEP-0288 Bidirectional Server-to-Server Connections: the request
NS_BIDI_FEATURE = "urn:xmpp:features:bidi"  # XEP-0288: the stream feature
NS_SASL2 = "urn:xmpp:sasl:2"
NS_SM = "urn:xmpp:sm:3"
NS_COMPRESS = "http://jabber.org/protocol/compress"
NS_CHATSTATES = "http://jabber.org/protocol/chatstates"
NS_RECEIPTS = "urn:xmpp:receipts"
NS_CARBONS = "urn:xmpp:carbons:2"
NS_FORWARD = "urn:xmpp:forward:0"
NS_HINTS = "urn:xmpp:hints"
NS_CHAT_MARKERS = "urn:xmpp:chat-markers:0"
NS_BLOCKING = "urn:xmpp:blocking"
NS_BLOCKING_ERRORS = "urn:xmpp:blocking:errors"
NS_CSI = "urn:xmpp:csi:0"
NS_MAM = "urn:xmpp:mam:2"
NS_RSM = "http://jabber.org/protocol/rsm"
NS_SID = "urn:xmpp:sid:0"
NS_VCARD = "vcard-temp"
NS_PRIVATE = "jabber:iq:private"
NS_PUSH = "urn:xmpp:push:0"
NS_MUC = "http://jabber.org/protocol/muc"
NS_MUC_USER = "http://jabber.org/protocol/muc#user"
NS_MUC_ADMIN = "http://jabber.org/protocol/muc#admin"
NS_MUC_OWNER = "http://jabber.org/protocol/muc#owner"

#: What a view shows for a namespace: a word or two instead of the URI.
SHORT_NAMES = {
    NS_ROSTER: "roster",
    NS_PING: "ping",
    NS_DISCO_INFO: "disco#info",
    NS_DISCO_ITEMS: "disco#items",
    NS_VERSION: "version",
    NS_BIND: "bind",
    NS_SESSION: "session",
    NS_REGISTER: "register",
    NS_STANZAS: "stanza error",
    NS_MUC: "muc",
    NS_MUC_USER: "muc#user",
    NS_MUC_OWNER: "muc#owner",
    NS_MUC_ADMIN: "muc#admin",
    NS_DELAY: "delay",
    NS_CHATSTATES: "chat state",
    NS_CARBONS: "carbons",
    NS_FORWARD: "forwarded",
    NS_VCARD: "vcard",
    NS_BLOCKING: "blocking",
    NS_MAM: "archive (MAM)",
    "jabber:iq:last": "last",
    "urn:xmpp:time": "time",
    "jabber:iq:private": "private",
}
