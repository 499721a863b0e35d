"""The legacy session iq (RFC 3921 section 3, kept as optional by RFC 6121 appendix E).

Old clients send it after binding; the server advertises it as ``<optional/>``
and simply answers it.

    S: <stream:features><bind …/><session xmlns='urn:ietf:params:xml:ns:xmpp-session'><optional/></session>…
    C: <iq type='set' id='s1'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>
    S: <iq type='result' id='s1'/>
"""

from ...xml import NS_SESSION, element, sub
from ..events import AFTER_AUTH


def setup(server):
    server.hook(f"stream-features/{AFTER_AUTH}", feature)
    server.hook(f"iq-set/self/{NS_SESSION}:session", established)
    server.hook(f"iq-set/host/{NS_SESSION}:session", established)


def feature(session):
    el = element("session", ns=NS_SESSION)
    sub(el, "optional")
    return [el]


def established(event):
    event.reply()
    return True
