"""The negotiators alone (RFC 6120 sections 4 to 7): parser events in, text and actions out, no socket.

The server's negotiator is fed what a client would send; the client's is fed what a
server would send; and the two are wired to each other in memory, through two stream
parsers, so a whole login (STARTTLS, SCRAM or PLAIN, the restarts, bind) runs without
a socket or an event loop.
"""

from __future__ import annotations

import ast
import collections
from pathlib import Path

import pytest

from xmpplab.negotiation import (
    ENCRYPTION_REQUIRED,
    TRANSITIONS,
    Authenticated,
    Bind,
    ClientNegotiator,
    Close,
    Failed,
    Hash,
    Policy,
    PreAuth,
    Ready,
    Restart,
    SASLFailed,
    Send,
    ServerNegotiator,
    Stanza,
    StartTLS,
    State,
)
from xmpplab.sasl import MECHANISMS, make_credentials, new_mechanism
from xmpplab.stream import StanzaReceived, StreamParser
from xmpplab.xml import parse_fragment

NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
NS_TLS = "urn:ietf:params:xml:ns:xmpp-tls"
NS_BIND = "urn:ietf:params:xml:ns:xmpp-bind"
HEADER = ("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
          "to='{to}' version='1.0'>")
PLAIN_JULIET = "AGp1bGlldABzZWNyZXQ="  # base64 of "\0juliet\0secret"
CREDENTIALS = {"juliet": make_credentials("secret")}


class ExampleCom(Policy):
    """A server for example.com with one account, juliet (password "secret")."""

    default_domain = "example.com"

    def __init__(self, register: bool = False):
        self.register = register

    def serves_domain(self, domain):
        return domain == "example.com"

    def sasl_mechanisms(self):
        return MECHANISMS

    def sasl_mechanism(self, name, host):
        return new_mechanism(name, CREDENTIALS.get, host)

    def accepts_pre_auth(self, iq):
        return self.register


class Peer:
    """A client's side of the wire for a ServerNegotiator: send text, get back what the server did."""

    def __init__(self, **kwargs):
        self.neg = ServerNegotiator(kwargs.pop("policy", None) or ExampleCom(), **kwargs)
        self.parser = StreamParser()

    def send(self, text: str) -> list:
        """Feed text as the client's bytes; perform Hash and Restart like a session would; return the actions."""
        out = []
        for event in self.parser.feed(text):
            out += self.neg.receive(event)
        done = []
        while out:
            action = out.pop(0)
            if isinstance(action, Hash):
                out[:0] = self.neg.hashed(action.func(*action.args))
                continue
            if isinstance(action, Restart):
                self.parser.reset()
            done.append(action)
        return done

    def open(self, to: str = "example.com") -> list:
        return self.send(HEADER.format(to=to))

    def login(self) -> None:
        self.open()
        assert any(isinstance(a, Authenticated) for a in self.send(f"<auth xmlns='{NS_SASL}' mechanism='PLAIN'>"
                                                                    f"{PLAIN_JULIET}</auth>"))
        self.open()


def sent(actions) -> str:
    return "".join(a.data for a in actions if isinstance(a, Send))


def closed(actions):
    """The stream error condition the actions close with (None: a close without error), or "open"."""
    return next((a.condition for a in actions if isinstance(a, Close)), "open")


# --- the server's side -----------------------------------------------------------------------------------
def test_a_plain_login_on_loopback_offers_sasl_and_binds_after_the_restart():
    peer = Peer(tls_available=True)
    first = peer.open()
    assert "from='example.com'" in sent(first) and peer.neg.state is State.OPEN
    features = [e.element for e in StreamParser().feed(sent(first)) if isinstance(e, StanzaReceived)][0]
    assert features.find(f"{{{NS_TLS}}}starttls") is not None
    assert [m.text for m in features.iter(f"{{{NS_SASL}}}mechanism")] == list(MECHANISMS)

    got = peer.send(f"<auth xmlns='{NS_SASL}' mechanism='PLAIN'>{PLAIN_JULIET}</auth>")
    assert sent(got) == f"<success xmlns='{NS_SASL}'></success>"
    assert Authenticated("juliet", "PLAIN") in got and peer.neg.state is State.AUTHENTICATED

    after = peer.open()
    assert "<bind xmlns=\"urn:ietf:params:xml:ns:xmpp-bind\"/>" in sent(after) and peer.neg.state is State.BIND
    ask = peer.send(f"<iq type='set' id='b1'><bind xmlns='{NS_BIND}'><resource>balcony</resource></bind></iq>")
    assert [type(a) for a in ask] == [Bind] and ask[0].resource == "balcony"
    answer = peer.neg.bound(ask[0].iq, "juliet@example.com/balcony")
    assert "<jid>juliet@example.com/balcony</jid>" in sent(answer) and peer.neg.state is State.READY
    assert [type(a) for a in peer.send("<message to='romeo@example.net'><body>hi</body></message>")] == [Stanza]


def test_tls_first_offers_only_starttls_and_closes_on_sasl_before_it():
    peer = Peer(tls_available=True, tls_required=True)
    features = sent(peer.open())
    assert "<required/>" in features and "mechanisms" not in features
    assert closed(peer.send(f"<auth xmlns='{NS_SASL}' mechanism='PLAIN'>{PLAIN_JULIET}</auth>")) == \
        "policy-violation"
    assert peer.neg.state is State.CLOSED

    peer = Peer(tls_available=True, tls_required=True)
    peer.open()
    got = peer.send(f"<starttls xmlns='{NS_TLS}'/>")
    assert sent(got) == f"<proceed xmlns='{NS_TLS}'/>" and isinstance(got[-1], StartTLS)
    assert peer.neg.state is State.TLS
    assert peer.neg.tls_established() == [] and peer.neg.state is State.CONNECTED
    peer.parser.reset()
    again = sent(peer.open())
    assert "starttls" not in again and "<mechanism>SCRAM-SHA-256</mechanism>" in again


def test_tls_first_with_no_tls_to_offer_says_so():
    peer = Peer(tls_available=False, tls_required=True)
    peer.open()
    got = peer.send("<iq type='get' id='r1'><query xmlns='jabber:iq:register'/></iq>")
    assert got == [Close("policy-violation", "encryption is required from your address, and this server does "
                                             "not offer TLS")]
    peer = Peer(tls_available=True, tls_required=True, policy=ExampleCom(register=True))
    peer.open()
    assert peer.send("<iq type='get' id='r1'><query xmlns='jabber:iq:register'/></iq>") == \
        [Close("policy-violation", ENCRYPTION_REQUIRED)]  # XEP-0077 section 11: no registration in clear


def test_registration_before_auth_goes_to_the_server_when_its_policy_takes_it():
    peer = Peer(policy=ExampleCom(register=True))
    peer.open()
    got = peer.send("<iq type='get' id='r1'><query xmlns='jabber:iq:register'/></iq>")
    assert [type(a) for a in got] == [PreAuth] and peer.neg.state is State.OPEN


def test_bind_before_auth_closes_the_stream_with_not_authorized():
    peer = Peer()
    peer.open()
    got = peer.send(f"<iq type='set' id='b1'><bind xmlns='{NS_BIND}'/></iq>")
    assert closed(got) == "not-authorized"


def test_a_stanza_before_bind_is_refused():
    peer = Peer()
    peer.login()
    got = peer.send("<iq type='get' id='v1'><query xmlns='jabber:iq:version'/></iq>")
    assert "<not-authorized" in sent(got) and "bind a resource first" in sent(got)
    assert peer.neg.state is State.BIND  # an iq error, the stream stays
    assert closed(peer.send("<message to='romeo@example.net'/>")) == "not-authorized"


def test_an_element_before_the_restart_after_sasl_success_closes_the_stream():
    peer = Peer()
    peer.open()
    peer.send(f"<auth xmlns='{NS_SASL}' mechanism='PLAIN'>{PLAIN_JULIET}</auth>")
    peer.parser = StreamParser()  # as if the client had not restarted: the parser is past the header
    peer.parser.feed(HEADER.format(to="example.com"))
    assert closed(peer.send(f"<iq type='set' id='b1'><bind xmlns='{NS_BIND}'/></iq>")) == "not-authorized"


def test_a_wrong_password_fails_and_three_failures_close_the_stream():
    peer = Peer()
    peer.open()
    wrong = "AGp1bGlldAB3cm9uZw=="  # "\0juliet\0wrong"
    for _ in (1, 2):
        got = peer.send(f"<auth xmlns='{NS_SASL}' mechanism='PLAIN'>{wrong}</auth>")
        assert SASLFailed("not-authorized") in got and closed(got) == "open" and peer.neg.state is State.OPEN
    got = peer.send(f"<auth xmlns='{NS_SASL}' mechanism='PLAIN'>{wrong}</auth>")
    assert closed(got) == "policy-violation"


def test_sasl_mistakes_are_failures_not_stream_errors():
    peer = Peer()
    peer.open()
    assert "<invalid-mechanism/>" in sent(peer.send(f"<auth xmlns='{NS_SASL}' mechanism='X-OAUTH'/>"))
    assert "<incorrect-encoding/>" in sent(peer.send(f"<auth xmlns='{NS_SASL}' mechanism='PLAIN'>%%%</auth>"))
    assert peer.neg.state is State.OPEN
    # a mechanism without an initial response gets an empty challenge (RFC 6120 6.4.2); abort ends it
    assert sent(peer.send(f"<auth xmlns='{NS_SASL}' mechanism='SCRAM-SHA-1'/>")) == f"<challenge xmlns='{NS_SASL}'/>"
    assert peer.neg.state is State.SASL
    got = peer.send(f"<abort xmlns='{NS_SASL}'/>")
    assert "<aborted/>" in sent(got) and peer.neg.state is State.OPEN and peer.neg.failures == 2


def test_a_throttled_address_is_told_to_wait():
    class Throttled(ExampleCom):
        def login_wait(self):
            return 41.5

    peer = Peer(policy=Throttled())
    peer.open()
    got = sent(peer.send(f"<auth xmlns='{NS_SASL}' mechanism='PLAIN'>{PLAIN_JULIET}</auth>"))
    assert "<temporary-auth-failure/>" in got and "try again in 42 s" in got


@pytest.mark.parametrize("header, condition", [
    ("<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' to='example.com' "
     "version='1.0'>", "invalid-namespace"),
    (HEADER.format(to="example.org"), "host-unknown"),
    ("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>",
     "host-unknown"),
    ("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='example.com'>",
     "unsupported-version"),
])
def test_a_bad_stream_header_is_answered_with_a_header_then_a_stream_error(header, condition):
    peer = Peer()
    got = peer.send(header)
    assert isinstance(got[0], Send) and got[0].data.startswith("<?xml") and closed(got) == condition


def test_the_to_address_must_stay_the_same_across_restarts():
    class TwoDomains(ExampleCom):
        def serves_domain(self, domain):
            return domain in ("example.com", "example.org")

    peer = Peer(policy=TwoDomains())
    peer.open()
    peer.send(f"<auth xmlns='{NS_SASL}' mechanism='PLAIN'>{PLAIN_JULIET}</auth>")
    assert closed(peer.open("example.org")) == "not-authorized"


def test_every_state_change_is_a_row_of_the_table(monkeypatch):
    import xmpplab.negotiation.server as server_module

    rows = {(t.source, t.event, t.target) for t in TRANSITIONS}
    taken = []

    def recording(state, event):
        target = server_module.next_state.__wrapped__(state, event)
        taken.append((state, event, target))
        return target

    recording.__wrapped__ = server_module.next_state
    monkeypatch.setattr(server_module, "next_state", recording)
    peer = Peer(tls_available=True)
    peer.open()
    peer.send(f"<starttls xmlns='{NS_TLS}'/>")
    peer.neg.tls_established()
    peer.parser.reset()
    peer.open()
    peer.send(f"<auth xmlns='{NS_SASL}' mechanism='PLAIN'>AGp1bGlldAB3cm9uZw==</auth>")  # a wrong password
    peer.send(f"<auth xmlns='{NS_SASL}' mechanism='SCRAM-SHA-256'/>")
    peer.send(f"<abort xmlns='{NS_SASL}'/>")
    peer.send(f"<auth xmlns='{NS_SASL}' mechanism='PLAIN'>{PLAIN_JULIET}</auth>")
    peer.open()
    peer.neg.bound(peer.send(f"<iq type='set' id='b'><bind xmlns='{NS_BIND}'/></iq>")[0].iq, "juliet@example.com/x")
    assert set(taken) <= rows
    path = [taken[0][0]] + [target for _, _, target in taken]
    # no state was set around the table
    assert all(source is before for (source, _, _), before in zip(taken, path[:-1], strict=True))
    assert peer.neg.state is path[-1] is State.READY
    assert [s.value for s in path] == ["connected", "open", "tls", "connected", "open", "sasl", "open", "sasl", "open",
                                       "sasl", "authenticated", "bind", "ready"]


# --- the client's side, and the two together ------------------------------------------------------------------
def converse(client: ClientNegotiator, server: ServerNegotiator):
    """Run both negotiators against each other in memory; return (client's Ready jid, the wire text, actions)."""
    to_client, to_server = StreamParser(), StreamParser()
    client_todo, server_todo = collections.deque(client.start()), collections.deque()
    wire, seen = [], []
    for _ in range(200):
        if server_todo:  # the server acts first: its parser restarts before the client's next header arrives
            action = server_todo.popleft()
            seen.append(action)
            if isinstance(action, Send):
                wire.append(("S", action.data))
                for event in to_client.feed(action.data):
                    client_todo.extend(client.receive(event))
            elif isinstance(action, Restart):
                to_server.reset()
            elif isinstance(action, StartTLS):  # the handshake, in memory: both sides are now "secure"
                to_server.reset()
                server_todo.extend(server.tls_established())
            elif isinstance(action, Hash):
                server_todo.extend(server.hashed(action.func(*action.args)))
            elif isinstance(action, Bind):
                server_todo.extend(server.bound(action.iq, f"{server.username}@{server.host}/{action.resource}"))
            elif isinstance(action, Close):
                raise AssertionError(f"the server closed the stream: {action}; wire: {wire}")
        elif client_todo:
            action = client_todo.popleft()
            seen.append(action)
            if isinstance(action, Send):
                wire.append(("C", action.data))
                for event in to_server.feed(action.data):
                    server_todo.extend(server.receive(event))
            elif isinstance(action, Restart):
                to_client.reset()
            elif isinstance(action, StartTLS):
                client_todo.extend(client.tls_established())
            elif isinstance(action, (Ready, Failed)):
                return action, wire, seen
        else:
            raise AssertionError(f"nobody has anything to do; wire: {wire}")
    raise AssertionError("the negotiation did not end")


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"])
def test_the_client_and_server_negotiators_log_in_with_each_other(mechanism):
    client = ClientNegotiator("example.com", user="juliet", password="secret", mechanisms=(mechanism,),
                              resource="balcony")
    server = ServerNegotiator(ExampleCom(), tls_available=True, tls_required=True)
    end, wire, seen = converse(client, server)
    assert end == Ready("juliet@example.com/balcony")
    assert client.state is server.state is State.READY and client.mechanism == mechanism
    assert Authenticated("juliet", mechanism) in seen
    sent_by_client = [text for side, text in wire if side == "C"]
    assert sent_by_client[1] == f"<starttls xmlns='{NS_TLS}'/>"
    assert sum("<stream:stream" in text for text in sent_by_client) == 3  # opened, after TLS, after SASL
    assert "from='juliet@example.com'" in sent_by_client[2]  # RFC 6120 4.7.1: under TLS the client says who


def test_the_client_reports_a_wrong_password_as_one_sentence():
    client = ClientNegotiator("example.com", user="juliet", password="wrong", tls="none")
    end, _, _ = converse(client, ServerNegotiator(ExampleCom()))
    assert end == Failed("SASL failed: not-authorized")


def test_the_client_refuses_what_its_tls_mode_forbids():
    plain_only = parse_fragment("<stream:features xmlns:stream='http://etherx.jabber.org/streams'>"
                                f"<mechanisms xmlns='{NS_SASL}'><mechanism>EXTERNAL</mechanism></mechanisms>"
                                "</stream:features>")
    client = ClientNegotiator("example.com", user="juliet", password="secret", tls="required")
    client.start()
    assert client.element(plain_only) == [Failed("example.com does not offer STARTTLS and tls='required'")]
    client = ClientNegotiator("example.com", user="juliet", password="secret", tls="none")
    client.start()
    assert client.element(plain_only) == [Failed("SASL failed: the server offers EXTERNAL, none of "
                                                 "SCRAM-SHA-256, SCRAM-SHA-1, PLAIN")]


def test_without_credentials_the_client_stops_at_the_first_features():
    client = ClientNegotiator("example.com", tls="none")
    end, wire, _ = converse(client, ServerNegotiator(ExampleCom()))
    assert end == Ready(None) and len(wire) == 3  # header; header, features


# --- the layering the negotiation package makes possible ----------------------------------------------------
@pytest.mark.parametrize("module", ["xmpplab/render/statemachine.py", "xmpplab/replay/fake.py",
                                    "xmpplab/negotiation/table.py", "xmpplab/negotiation/server.py",
                                    "xmpplab/negotiation/client.py"])
def test_the_diagram_the_fake_server_and_the_negotiators_import_nothing_of_the_server(module):
    root = Path(__file__).resolve().parent.parent
    package = module[:-3].split("/")[:-1]  # xmpplab/render/statemachine.py: xmpplab.render
    imported = []
    for node in ast.walk(ast.parse((root / module).read_text())):
        if isinstance(node, ast.Import):
            imported += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            imported.append(".".join(base + ([node.module] if node.module else [])))
    assert imported and not [m for m in imported if m == "xmpplab.server" or m.startswith("xmpplab.server.")]
