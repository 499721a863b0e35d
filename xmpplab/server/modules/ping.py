"""XEP-0199 XMPP Ping: the server answers a ping with an empty result.

    C: <iq type='get' id='p1' to='example.com'><ping xmlns='urn:xmpp:ping'/></iq>
    S: <iq type='result' id='p1' from='example.com' to='juliet@example.com/balcony'/>
"""

from ...xml import NS_PING


def setup(server):
    """Answer pings to the server and to one's own account (XEP-0199 4.2)."""
    server.add_feature(NS_PING)
    server.hook(f"iq-get/host/{NS_PING}:ping", pong)
    server.hook(f"iq-get/self/{NS_PING}:ping", pong)


def pong(event):
    """Reply with an empty result iq."""
    event.reply()
    return True
