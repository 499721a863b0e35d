"""XEP-0115 5.2 and 5.3: the verification strings of the XEP's own examples hash to the XEP's ``ver``."""

from lxml import etree

from xmpplab.server.pubsub.caps import Caps, caps_of, ver_of, verified

DISCO = "http://jabber.org/protocol/disco#info"
FEATURES = ("http://jabber.org/protocol/caps", DISCO, "http://jabber.org/protocol/disco#items",
            "http://jabber.org/protocol/muc")


def query(inner: str):
    return etree.fromstring(f"<query xmlns='{DISCO}'>{inner}</query>")


def test_the_simple_example_of_5_2():
    exodus = query("<identity category='client' type='pc' name='Exodus 0.9.1'/>"
                   + "".join(f"<feature var='{f}'/>" for f in reversed(FEATURES)))  # order does not matter
    assert ver_of(exodus) == "QgayPKawpkPSDYmwT/WM94uAlu0="
    assert verified(Caps("http://code.google.com/p/exodus", "QgayPKawpkPSDYmwT/WM94uAlu0=", "sha-1"), exodus)
    assert not verified(Caps("http://code.google.com/p/exodus", "QgayPKawpkPSDYmwT/WM94uAlu0=", None), exodus)


def test_the_complex_example_of_5_3_with_languages_and_a_form():
    fields = {"ip_version": ("ipv6", "ipv4"), "os": ("Mac",), "os_version": ("10.5.1",), "software": ("Psi",),
              "software_version": ("0.11",)}
    form = ("<x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE' type='hidden'>"
            "<value>urn:xmpp:dataforms:softwareinfo</value></field>"
            + "".join(f"<field var='{var}'>" + "".join(f"<value>{v}</value>" for v in vals) + "</field>"
                      for var, vals in fields.items()) + "</x>")
    psi = query("<identity xml:lang='en' category='client' name='Psi 0.11' type='pc'/>"
                "<identity xml:lang='el' category='client' name='\u03a8 0.11' type='pc'/>"
                + "".join(f"<feature var='{f}'/>" for f in FEATURES) + form)
    assert ver_of(psi) == "q07IKJEyjvHSyhy//CH0CxmKi8w="


def test_c_in_a_presence():
    presence = etree.fromstring("<presence xmlns='jabber:client'><c xmlns='http://jabber.org/protocol/caps' "
                                "hash='sha-1' node='http://psi-im.org' ver='q07IKJEyjvHSyhy//CH0CxmKi8w='/></presence>")
    assert caps_of(presence).disco_node == "http://psi-im.org#q07IKJEyjvHSyhy//CH0CxmKi8w="
    assert caps_of(etree.fromstring("<presence xmlns='jabber:client'/>")) is None


async def test_the_server_announces_its_own_capabilities_and_they_check_out(server):
    """XEP-0115 §6.3: <c/> in the stream features after login; disco#info at node#ver hashes to that ver (§5.4)."""
    from xmpplab.rawclient import RawClient
    from xmpplab.server.pubsub.caps import ver_of

    c = await RawClient.connect("127.0.0.1", server.port)
    try:
        await c.login("juliet@example.com", "secret")
        announced = c.features.find("{http://jabber.org/protocol/caps}c")
        assert announced is not None and announced.get("hash") == "sha-1"
        node = f"{announced.get('node')}#{announced.get('ver')}"
        answer = await c.request(f"<iq type='get' id='caps' to='example.com'>"
                                 f"<query xmlns='http://jabber.org/protocol/disco#info' node='{node}'/></iq>")
        query = answer.find("{http://jabber.org/protocol/disco#info}query")
        assert answer.get("type") == "result" and query.get("node") == node
        assert ver_of(query) == announced.get("ver")
        wrong = await c.request("<iq type='get' id='caps2' to='example.com'><query "
                                "xmlns='http://jabber.org/protocol/disco#info' node='urn:xmpplab:server#nope'/></iq>")
        assert wrong.get("type") == "error"
    finally:
        await c.close()
