"""Stream negotiation (RFC 6120 sections 4 to 7), spoken in raw XML and by slixmpp."""

import base64

from lxml import etree

from xmpplab.jid import JID
from xmpplab.xml import NS_SASL, NS_SESSION, NS_TLS, serialize


def name(el):
    return el if isinstance(el, str) else etree.QName(el).localname


def stream_error_condition(el):
    assert name(el) == "error", el if isinstance(el, str) else serialize(el)
    return etree.QName(el[0]).localname


async def test_features_offer_starttls_and_sasl(raw):
    c = await raw()
    features = await c.open_stream("example.com")
    assert c.header.attrs["from"] == "example.com"
    assert c.header.attrs.get("id")
    assert features.find(f"{{{NS_TLS}}}starttls") is not None
    mechs = [m.text for m in features.iter(f"{{{NS_SASL}}}mechanism")]
    assert mechs == ["SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"]  # PLAIN: this is a loopback connection
    assert features.find("{http://jabber.org/features/iq-register}register") is not None


async def test_starttls_then_plain_login_and_bind(raw):
    c = await raw()
    jid = await c.login("juliet@example.com/balcony", tls=True)
    assert jid == "juliet@example.com/balcony"
    ssl_obj = c.writer.get_extra_info("ssl_object")
    assert ssl_obj is not None and ssl_obj.version() in ("TLSv1.2", "TLSv1.3")


async def test_unknown_host_gets_host_unknown(raw):
    c = await raw()
    err = await c.open_stream("example.org")
    assert stream_error_condition(err) == "host-unknown"
    assert await c.recv() == "</stream:stream>"


async def test_wrong_password_is_not_authorized_and_retries_are_limited(raw):
    c = await raw()
    await c.open_stream()
    token = base64.b64encode(b"\0juliet\0wrong").decode()
    for _attempt in range(3):
        await c.send(f"<auth xmlns='{NS_SASL}' mechanism='PLAIN'>{token}</auth>")
        failure = await c.recv()
        assert name(failure) == "failure" and name(failure[0]) == "not-authorized"
    err = await c.recv()
    assert stream_error_condition(err) == "policy-violation"


async def test_sasl_failure_conditions(raw):
    c = await raw()
    await c.open_stream()
    await c.send(f"<auth xmlns='{NS_SASL}' mechanism='DIGEST-MD5'/>")
    assert name((await c.recv())[0]) == "invalid-mechanism"
    await c.send(f"<auth xmlns='{NS_SASL}' mechanism='PLAIN'>!!notbase64</auth>")
    assert name((await c.recv())[0]) == "incorrect-encoding"
    c2 = await raw()
    await c2.open_stream()
    await c2.send(f"<auth xmlns='{NS_SASL}' mechanism='SCRAM-SHA-1'/>")
    challenge = await c2.recv()
    assert name(challenge) == "challenge"
    await c2.send(f"<abort xmlns='{NS_SASL}'/>")
    assert name((await c2.recv())[0]) == "aborted"


async def test_server_chooses_resource_and_session_iq_is_answered(raw):
    c = await raw()
    jid = await c.login("juliet@example.com", resource=None)
    assert jid.startswith("juliet@example.com/") and len(jid) > len("juliet@example.com/")
    result = await c.request(f"<iq type='set' id='sess'><session xmlns='{NS_SESSION}'/></iq>")
    assert result.get("type") == "result"


async def test_resource_conflict_replaces_the_old_session(raw):
    old = await raw()
    await old.login("juliet@example.com/balcony")
    new = await raw()
    await new.login("juliet@example.com/balcony")
    err = await old.recv()
    assert stream_error_condition(err) == "conflict"
    pong = await new.request("<iq type='get' id='p' to='example.com'><ping xmlns='urn:xmpp:ping'/></iq>")
    assert pong.get("type") == "result"


async def test_the_new_session_of_a_resource_conflict_is_reachable_at_its_address(server, raw):
    """RFC 6120 §7.7.2.2: the new session replaces the old one, also when the old one was the account's only
    session (a phone back from a tunnel before the server noticed the old connection died): stanzas to the full
    JID reach the new connection."""
    old = await raw()
    await old.login("juliet@example.com/balcony")
    new = await raw()
    await new.login("juliet@example.com/balcony")
    assert stream_error_condition(await old.recv()) == "conflict"
    assert server.session_for(JID("juliet@example.com/balcony")) is not None
    romeo = await raw()
    await romeo.login("romeo@example.net/orchard")
    await romeo.send("<message to='juliet@example.com/balcony' type='chat' id='m'><body>found thee</body></message>")
    got = await new.recv()
    assert got.findtext("{jabber:client}body") == "found thee"


async def test_stanza_before_auth_is_not_authorized(raw):
    c = await raw()
    await c.open_stream()
    await c.send("<message to='romeo@example.net'><body>hi</body></message>")
    assert stream_error_condition(await c.recv()) == "not-authorized"


async def test_slixmpp_logs_in_with_scram_over_tls(server, slix):
    juliet = await slix("juliet@example.com/balcony")
    assert str(juliet.boundjid) == "juliet@example.com/balcony"
    session = server.session_for(juliet.boundjid)
    assert session.secure
    assert session.mechanism_name.startswith("SCRAM-SHA-")


async def scram_login(c, mechanism, username, password):
    from scramp import ScramClient

    client = ScramClient([mechanism], username, password)
    first = base64.b64encode(client.get_client_first().encode()).decode()
    await c.send(f"<auth xmlns='{NS_SASL}' mechanism='{mechanism}'>{first}</auth>")
    challenge = await c.recv()
    assert name(challenge) == "challenge"
    client.set_server_first(base64.b64decode(challenge.text).decode())
    final = base64.b64encode(client.get_client_final().encode()).decode()
    await c.send(f"<response xmlns='{NS_SASL}'>{final}</response>")
    answer = await c.recv()
    if name(answer) == "success":
        client.set_server_final(base64.b64decode(answer.text).decode())  # the server proves it knows the key
    return answer


async def test_scram_sha_256_and_sha_1_with_raw_xml(raw):
    for mech in ("SCRAM-SHA-256", "SCRAM-SHA-1"):
        c = await raw()
        await c.open_stream()
        assert name(await scram_login(c, mech, "juliet", "secret")) == "success"
        bad = await raw()
        await bad.open_stream()
        answer = await scram_login(bad, mech, "juliet", "not-the-password")
        assert name(answer) == "failure" and name(answer[0]) == "not-authorized"
        # An unknown user gets a challenge like anyone (RFC 5802 5.1: don't reveal who exists),
        # then not-authorized.
        nobody = await raw()
        await nobody.open_stream()
        answer = await scram_login(nobody, mech, "tybalt", "secret")
        assert name(answer) == "failure" and name(answer[0]) == "not-authorized"


async def test_plain_authzid_must_be_the_user(raw):
    c = await raw()
    await c.open_stream()
    ok = base64.b64encode(b"juliet@example.com\0juliet\0secret").decode()  # as sendxmpp sends it
    await c.send(f"<auth xmlns='{NS_SASL}' mechanism='PLAIN'>{ok}</auth>")
    assert name(await c.recv()) == "success"
    c2 = await raw()
    await c2.open_stream()
    other = base64.b64encode(b"romeo@example.net\0juliet\0secret").decode()
    await c2.send(f"<auth xmlns='{NS_SASL}' mechanism='PLAIN'>{other}</auth>")
    failure = await c2.recv()
    assert name(failure[0]) == "invalid-authzid"


async def test_passwords_are_stored_only_as_scram_keys(server):
    row = server.storage._db.execute("SELECT * FROM accounts WHERE username='juliet'").fetchone()
    assert not any(isinstance(v, (str, bytes)) and b"secret" in (v if isinstance(v, bytes) else v.encode())
                   for v in row)
    assert server.accounts.check("juliet@example.com", "secret")
    assert not server.accounts.check("juliet@example.com", "Secret")


async def test_certificate_is_cached_between_servers():
    from xmpplab.server import Server

    async with Server(["example.com"]) as a, Server(["example.com"]) as b:
        der_a = a.tls_context.get_ca_certs(binary_form=True) or None
        assert a.tls_context is not None and b.tls_context is not None
    from xmpplab.server.tls import certificate_file

    assert certificate_file(["example.com"]) == certificate_file(["example.com"])
    assert certificate_file(["example.com"]).read_text().count("BEGIN CERTIFICATE") == 1
    del der_a
