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
    """Offer and accept the old session establishment (RFC 3921 3), marked optional (RFC 6121 Appendix E)."""
    server.hook(f"stream-features/{AFTER_AUTH}", feature)
    server.hook(f"iq-set/self/{NS_SESSION}:session", established)
    server.hook(f"iq-set/host/{NS_SESSION}:session", established)


def feature(session):
    """``<session><optional/></session>`` among the stream features after login."""
    el = element("session", ns=NS_SESSION)
    sub(el, "optional")
    return [el]


def established(event):
    """Answer the session request with an empty result."""
    event.reply()
    return True
