"""Chapter 02 (Streams): solutions, and the answers tests/test_course.py tries on each check."""

SOLUTIONS = {
    "02.1": "<stream:stream to='example.com' version='1.0' xmlns='jabber:client' "
            "xmlns:stream='http://etherx.jabber.org/streams'>",
    "02.2": "<iq type='set' id='bind_1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
            "<resource>balcony</resource></bind></iq>",
}

# Right answers written differently: attribute order, quotes, prefixes, an XML declaration, whitespace.
REWRITTEN = {
    "02.1": [("<?xml version='1.0'?>\n<stream:stream\n    xmlns='jabber:client'\n"
             "    xmlns:stream='http://etherx.jabber.org/streams'\n    version=\"1.0\"\n"
             "    xml:lang='en'\n    to='Example.COM'>"),
             ('<stream:stream from="juliet@example.com" to="example.com" version="1.0" xmlns="jabber:client" '
              'xmlns:stream="http://etherx.jabber.org/streams">\n'),
             ("<s:stream xmlns:s='http://etherx.jabber.org/streams' xmlns='jabber:client' to='example.com' "
              "version='1.0'>")],
    "02.2": [("<iq id='b1' type='set'>\n  <bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>\n"
             "    <resource>balcony</resource>\n  </bind>\n</iq>"),
             ("<iq xmlns='jabber:client' type='set' id='x'><b:bind xmlns:b='urn:ietf:params:xml:ns:xmpp-bind'>"
              "<b:resource>balcony</b:resource></b:bind></iq>")],
}

# Near misses, each with words its result must contain.
_NS = "xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'"
NEAR_MISSES = {
    "02.1": [(f"<stream:stream to='example.com' {_NS}>", "add version='1.0'"),
             (f"<stream:stream to='juliet@example.com' version='1.0' {_NS}>", "a stream goes to a server"),
             (f"<stream:stream to='example.net' version='1.0' {_NS}>", "'to' should be 'example.com'"),
             ("<stream:stream to='example.com' version='1.0' xmlns:stream='http://etherx.jabber.org/streams'>",
              "xmlns='jabber:client'"),
             ("<stream:stream to='example.com' version='1.0' xmlns='jabber:client'>",
              "xmlns:stream='http://etherx.jabber.org/streams'"),
             (f"<stream:stream to='example.com' version='1.0' {_NS}/>", "never closed"),
             (f"<stream:stream to='example.com' version='1.0' id='abc' {_NS}>", "leave out the 'id'"),
             ("<stream to='example.com' version='1.0' xmlns='jabber:client'>", "namespace")],
    "02.2": [(("<iq type='get' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
              "<resource>balcony</resource></bind></iq>"), "type='set'"),
             (("<iq type='set'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
              "<resource>balcony</resource></bind></iq>"), "needs an 'id'"),
             ("<iq type='set' id='b1'><bind><resource>balcony</resource></bind></iq>",
              "needs its own namespace"),
             (("<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
              "<resource>Balcony</resource></bind></iq>"), "should say 'balcony', not 'Balcony'"),
             ("<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>",
              "needs a <resource/> child"),
             ("<message type='set' id='b1'/>", "should be <iq/>")],
}

LIVE = {}
