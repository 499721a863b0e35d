"""XEP-0092 Software Version: the server tells its name and version.

    C: <iq type='get' id='v1' to='example.com'><query xmlns='jabber:iq:version'/></iq>
    S: <iq type='result' id='v1' from='example.com' ...>
         <query xmlns='jabber:iq:version'><name>xmpplab</name><version>0.1.0</version></query></iq>
"""

from ...xml import NS_VERSION, element, sub


def setup(server):
    """Answer software version requests to the server (XEP-0092)."""
    server.add_feature(NS_VERSION)
    server.hook(f"iq-get/host/{NS_VERSION}:query", version)


def version(event):
    """The server's name and version."""
    query = element("query", ns=NS_VERSION)
    sub(query, "name", text=event.server.name)
    sub(query, "version", text=event.server.version)
    event.reply(query)
    return True
