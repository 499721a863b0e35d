"""Chapter 10, Security: check a password against the SCRAM keys a server stores (10.1), and put a
'from' on a stanza that the server accepts (10.2); in a class, say where the chapter's wiretap sits."""

from __future__ import annotations

from ..jid import JID
from .core import Checker, exercise, same_account, settle

JULIET = JID("juliet@example.com")
ROMEO = JID("romeo@example.net")


def beyond_the_tap(lab, client) -> str | None:
    """In a class, print (and return) one line on the leg the wiretap cannot see; on a private Lab, nothing.

    On a class server the Lab's clients reach it through the recording proxy in the kernel
    (:mod:`xmpplab.proxy`), so a tap in front of ``lab.server`` sits between the client and that proxy. The proxy
    does its own STARTTLS (RFC 6120 section 5) to the class server; its recording says so (a ``tls`` event with
    ``upstream_version``), and that is what this line reports, for ``client``'s connection."""
    jid = str(client.jid)
    conns = {e["conn"] for e in lab.events if e.get("type") == "bound" and e.get("jid") == jid}
    upstream = next((e.get("upstream") for e in lab.events
                     if e.get("type") == "open" and e["conn"] in conns and e.get("upstream")), None)
    version = next((e["upstream_version"] for e in lab.events
                    if e.get("type") == "tls" and e["conn"] in conns and e.get("upstream_version")), None)
    if upstream is None:  # a private Lab: the tap is right in front of the server
        return None
    leg = (f"went through STARTTLS too ({version})" if version else "did NOT use TLS")
    line = (f"In the class, this tap sits in your kernel between {jid} and the Lab's recording proxy; the proxy's own "
            f"connection to the class server at {upstream} {leg}, as its recording shows.")
    print(line)
    return line


def _call(c: Checker, func, password: str, creds, label: str):
    """Call the learner's function; a failure is a point, not a crash. Returns (ok, value)."""
    try:
        return True, func(password, creds)
    except Exception as exc:  # the learner's code: any failure is feedback
        c.fail(f"password_ok({password!r}, {label}) raised {type(exc).__name__}: {exc}")
        return False, None


@exercise("10.1", "Be the server: check a password it never stored", hints=[
    "creds.sha256 is the tuple (salt, stored_key, server_key) and creds.iterations the iteration count. "
    "RFC 5802 §3 first computes SaltedPassword: PBKDF2 with HMAC-SHA-256 of the password, the salt and the "
    "count. In Python: hashlib.pbkdf2_hmac(\"sha256\", password.encode(), salt, creds.iterations).",
    "Then ClientKey = HMAC(SaltedPassword, \"Client Key\") and StoredKey = SHA-256(ClientKey) (RFC 5802 §3). "
    "In Python: hmac.new(salted, b\"Client Key\", \"sha256\").digest(), then hashlib.sha256(...).digest(). "
    "The password is right when that equals the stored key.",
    "def password_ok(password, creds):\n"
    "    salt, stored_key, server_key = creds.sha256\n"
    "    salted = hashlib.pbkdf2_hmac(\"sha256\", password.encode(), salt, creds.iterations)\n"
    "    client_key = hmac.new(salted, b\"Client Key\", \"sha256\").digest()\n"
    "    return hmac.compare_digest(hashlib.sha256(client_key).digest(), stored_key)",
])
def _(answer, **context):
    from ..server.auth import make_credentials

    c = Checker()
    if not callable(answer):
        c.fail("the answer is a function: define `def password_ok(password, creds): ...` and call "
               "check(\"10.1\", password_ok) (the name, without parentheses)")
        return c
    right = "wherefore art thou"
    mine = make_credentials(right)
    other = make_credentials(right)   # the same password, another salt
    cases = [
        (right, mine, "the keys of that password", True,
         "the right password is accepted"),
        ("wherefore", mine, "the same keys", False,
         "a wrong password is refused"),
        ("Wherefore art thou", mine, "the same keys", False,
         "a password that differs only in case is refused"),
        ("", mine, "the same keys", False,
         "an empty password is refused"),
        (right, other, "another account's keys, same password, another salt", True,
         "the same password is accepted with another account's keys (another salt)"),
    ]
    for password, creds, label, expected, good in cases:
        called, got = _call(c, answer, password, creds, label)
        if not called:
            continue
        if not isinstance(got, bool):
            c.fail(f"password_ok({password!r}, {label}) returned {got!r}; it should return True or False")
            continue
        if got == expected:
            c.ok(good)
        elif expected:
            c.fail(f"password_ok({password!r}, {label}) returned False for the right password: check the salt, "
                   "the iteration count and the hash (use creds.sha256 with SHA-256, not creds.sha1), and "
                   "compare with the stored key (the second item), not the server key (the third)")
        else:
            c.fail(f"password_ok({password!r}, {label}) returned True: a wrong password would log in")
    return c


# ---------------------------------------------------------------------------------------------
# 10.2: a 'from' the server accepts (RFC 6120 section 8.1.2.1), checked in the Lab's recording.

def _juliet_streams(lab):
    """Every recording of Juliet's client streams: her clients' own (what they send is there at once) and the
    server's (which also has clients that do not record into the Lab)."""
    return [conn for conn in lab.transcript.connections.values()
            if conn.kind == "c2s" and same_account(conn.jid, JULIET)]


def _stream_error_after(conn, item):
    for later in conn.items(kind="stream-error", since=item.t):
        if (later.seq, later.index) > (item.seq, item.index):
            return later
    return None


def _delivered_to_romeo(lab, sent) -> bool:
    for conn in lab.transcript.connections.values():
        if conn.kind != "c2s" or conn.role != "receiving" or not same_account(conn.jid, ROMEO):
            continue
        for item in conn.items(kind="message", direction="S→C", since=sent.t):
            if same_account(item.from_, JULIET) and item.type != "error" and \
                    (not sent.id or item.id == sent.id):
                return True
    return False


@exercise("10.2", "A 'from' the server accepts", live=True)
async def _(answer=None, *, lab=None, **context):
    """The server knows which account and resource each stream is authenticated as. It accepts a 'from' only when it
    names the sender herself.

    Juliet's stream is authenticated as juliet@example.com/balcony: that full JID, or her bare JID
    juliet@example.com, is accepted (RFC 6120 §8.1.2.1). Anyone else's address gets the stream error <invalid-from/>
    (§4.9.3.9).

    <message from='juliet@example.com/balcony' to='romeo@example.net' type='chat'><body>It is I</body></message>"""
    c = Checker()
    if lab is None:
        c.fail("this exercise looks at what happened in your Lab: write `await acheck(\"10.2\", lab=lab)`")
        return c
    if not _juliet_streams(lab):
        c.fail("Juliet is not logged in: run the cell with `juliet = await lab.connect(...)` first")
        return c

    def to_romeo():  # what was just sent may still be on its way into the recording: wait for it, not the clock
        return sorted(((conn, item) for conn in _juliet_streams(lab)
                       for item in conn.items(kind="message", direction="C→S") if same_account(item.to, ROMEO)),
                      key=lambda pair: pair[1].t) or None

    sent = await settle(to_romeo, timeout=1.5)
    if not sent:
        c.fail("Juliet has not sent Romeo (romeo@example.net) a message yet: write one in `answer` and send it "
               "with `await juliet.send_raw(answer)`")
        return c
    conn, item = sent[-1]                 # her last message to Romeo: the answer
    if item.from_ is None:
        c.fail("her last message to Romeo has no 'from': the exercise is to write one yourself")
        return c
    c.ok(f"Juliet sent Romeo a message with from='{item.from_}'")

    def outcome():   # the server may still be routing it: wait for a stream error or the delivery
        error = _stream_error_after(conn, item)
        if error is not None:
            return "refused", error
        return ("delivered", None) if _delivered_to_romeo(lab, item) else None

    found = await settle(outcome)
    refused = found[1] if found and found[0] == "refused" else None
    if refused is not None:
        # the stream is closing: wait until every recording of it has seen the close (then juliet.connected is False)
        closing = [other for other in _juliet_streams(lab) if other.jid == conn.jid and other.closed is None]
        await settle(lambda: all(other.closed is not None for other in closing), timeout=1.5)
        if refused.stream_error == "invalid-from":
            c.fail(f"the server answered with the stream error <invalid-from/> and closed Juliet's stream: "
                   f"from='{item.from_}' is not the address her stream is authenticated as ({conn.jid}). "
                   "Log her in again (`juliet = await lab.connect(\"juliet@example.com/balcony\")`; the "
                   "exercise cell does it for you) and try her own address")
        else:
            c.fail(f"the server answered with the stream error <{refused.stream_error}/> and closed Juliet's "
                   "stream: is the XML right? Log her in again and try once more")
        return c
    if found:
        c.ok(f"the server accepted it: '{item.from_}' is Juliet's own address ({conn.jid}), and Romeo got the "
             "message (RFC 6120 §8.1.2.1)")
    else:
        c.fail("the server did not refuse the message, but it did not reach Romeo: is he still logged in "
               "(romeo = await lab.connect(\"romeo@example.net/orchard\"))?")
    return c

