"""A student's own server federates with the class server: ``urn:xmpplab:class:0#federate`` (docs/classroom.md).

A student's laptop is behind NAT or a firewall: the class server cannot connect to it, so neither can it
ask the student's server about a dialback key (XEP-0220), nor open a stream of its own to send answers.
Instead the student registers ONE domain of their own, named after their account
(``student07.class.example``, so names cannot collide and the teacher sees whose it is), with the
certificate of the server in their kernel (public: never its key)::

    C: <iq type='set' to='class.example'><command xmlns='http://jabber.org/protocol/commands'
         node='urn:xmpplab:class:0#federate' sessionid='f1' action='complete'>
         <x xmlns='jabber:x:data' type='submit'><field var='certificate'>
           <value>-----BEGIN CERTIFICATE-----</value><value>MIIB…</value>…</field></x></command></iq>
    S: <iq type='result' …><command … status='completed'><note type='info'>student07.class.example may
         connect to 192.168.1.20 port 5269</note><x type='result'>…<field var='domain'>
         <value>student07.class.example</value></field><field var='fingerprint'><value>AB:CD:…</value>
         </field><field var='host'>…<field var='port'><value>5269</value></field></x></command></iq>

The class server then accepts a server-to-server stream from that domain only after STARTTLS and SASL
EXTERNAL with exactly that certificate (RFC 6120 6.3.4; the fingerprint is pinned as in RFC 6125 7.2), never
offers or tries dialback, and sends its stanzas for the domain back over that stream (XEP-0288,
:mod:`xmpplab.server.s2s`). An empty ``certificate`` withdraws the registration. Another student's domain
cannot be taken (the domain comes from the requester's own account); only class accounts may run it
(practice accounts get ``<forbidden/>``); one domain per account, kept in memory until the server stops.
"""

from __future__ import annotations

from ...errors import StanzaError
from ..forms import Form
from .adhoc import Command, Done
from .classmates import NS_CLASS, is_class_account

requires = ("adhoc",)


def federate(event, fields):
    """``#federate``: accept ``LOCAL.DOMAIN`` from a server showing the given certificate (or withdraw it)."""
    if fields is None:
        form = Form("Federate your own server", "The certificate (PEM) of the server in your kernel; "
                    "empty withdraws it.", form_type=NS_CLASS)
        form.field("certificate", "text-multi", "Certificate (PEM, no key)")
        return form
    server, owner = event.server, event.from_
    if owner.domain != event.to.domain:
        raise StanzaError("forbidden", "register your server with your own class server", type="auth")
    if server.s2s_port is None:
        raise StanzaError("service-unavailable", "this class server does not listen for servers "
                          "(xmpplab classroom --s2s-port)", type="cancel")
    domain = f"{owner.local}.{event.to.domain}"
    if server.s2s.serves(domain):
        raise StanzaError("conflict", f"{domain} is a service of this server", type="cancel")
    pem = "\n".join(fields.get("certificate") or []).strip()
    if not pem:
        gone = server.s2s.known.drop(domain)
        return Done(f"{domain} is {'no longer' if gone else 'not'} accepted by this server")
    try:
        fingerprint = server.s2s.known.register(domain, pem)
    except ValueError as exc:
        raise StanzaError("bad-request", f"not a certificate in PEM form: {exc}", type="modify") from None
    host = _address(event.origin) or str(server.address[0])
    result = Form(f"{domain} may connect", form_type=NS_CLASS)
    result.field("domain", "text-single", "Your server's domain", values=[domain])
    result.field("fingerprint", "text-single", "Its certificate's SHA-256 fingerprint", values=[fingerprint])
    result.field("host", "text-single", "Where this server listens for servers", values=[host])
    result.field("port", "text-single", "Its server-to-server port", values=[str(server.s2s_port)])
    return Done(f"{domain} may connect to {host} port {server.s2s_port} (STARTTLS, then SASL EXTERNAL with "
                "this certificate)", form=result)


def _address(session) -> str | None:
    """The address of ours that the student's connection reached: theirs to reach us again."""
    transport = getattr(session, "transport", None)
    sockname = transport.get_extra_info("sockname") if transport is not None else None
    return str(sockname[0]) if sockname else None


def setup(server):
    """Offer ``#federate`` to the class's accounts; s2s on this server is by certificate only (no dialback)."""
    server.s2s.dialback = False
    server.hook("adhoc-commands", lambda server: [
        Command(f"{NS_CLASS}#federate", "Federate your own server", federate, allowed=is_class_account)])
