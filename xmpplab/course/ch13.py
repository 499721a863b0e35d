"""Chapter 13, Accounts: in-band registration (XEP-0077 section 3.1), cancelling an account (section 3.2),
and an account registered in-band that then logs in."""

from __future__ import annotations

from ..jid import JID, InvalidJID
from ..ns import NS_REGISTER
from ..xml import split_qname
from .core import Checker, exercise, same_account, settle

DOMAIN = "example.com"
BALTHASAR = JID("balthasar@example.com")


def _query(c: Checker):
    """The <query xmlns='jabber:iq:register'/> of the answer, with a point saying so (or why not)."""
    query = c.el.find(f"{{{NS_REGISTER}}}query")
    if query is not None:
        c.ok("it carries <query xmlns='jabber:iq:register'/>")
        return query
    other = next((child for child in c.el if isinstance(child.tag, str)
                  and split_qname(child.tag)[1] == "query"), None)
    if other is not None:
        c.fail(f"the <query/> needs xmlns='{NS_REGISTER}' (XEP-0077), not "
               f"{split_qname(other.tag)[0] or 'no namespace'}")
    else:
        c.fail(f"the <iq/> needs a <query xmlns='{NS_REGISTER}'/> child: registration is that namespace")
    return None


def _type_set(c: Checker, get_means: str) -> None:
    c.value("type", "set", "type='set': it changes something on the server",
            {"get": f"type='get' {get_means}; to change something on the server, the iq is type='set'",
             None: "the <iq/> needs type='set'"},
            "the iq is type='set', not '{}'")
    if c.el.get("id"):
        c.ok("it has an id, for the answer to carry back")
    else:
        c.fail("give the <iq/> an id: the server's answer carries the same one (RFC 6120 §8.2.3)")


def _to_the_server(c: Checker) -> None:
    """'to' may be left out (the server answers) or be the domain; never a user's address."""
    to = c.el.get("to")
    if to is None:
        return
    try:
        jid = JID(to)
    except InvalidJID as exc:
        c.fail(f"'to' is not a valid address: {exc.reason}")
        return
    if jid.local is None and jid.domain == DOMAIN:
        c.ok("to='example.com': the server itself")
    else:
        c.fail(f"the request goes to the server, example.com (or leave 'to' out), not to '{to}'")


@exercise("13.1", "Register mercutio in-band", stanza="iq")
def _(c, **context):
    """Before logging in, a client asks the server for a new account with an <iq/> of type 'set' carrying
    <query xmlns='jabber:iq:register'/>, with the fields the form asked for inside.

    The form asked for <username/> and <password/>. The username is only the part before the @: the server
    adds its own domain.

    <iq type='set' id='reg2'><query xmlns='jabber:iq:register'><username>mercutio</username>
    <password>queenmab</password></query></iq>"""
    _type_set(c, "asks for the registration form")
    _to_the_server(c)
    query = _query(c)
    if query is None:
        return c
    if query.find(f"{{{NS_REGISTER}}}remove") is not None:
        c.fail("<remove/> cancels an account; to create one, send <username/> and <password/>")
    username = query.findtext(f"{{{NS_REGISTER}}}username")
    if username is None:
        c.fail("the <query/> needs a <username/>: the form asked for it")
    elif username.strip() == "mercutio":
        c.ok("<username>mercutio</username>")
    elif "@" in username:
        c.fail(f"the username is only the local part, 'mercutio': the server adds @{DOMAIN} itself, "
               f"not '{username.strip()}'")
    else:
        c.fail(f"the username should be 'mercutio', not '{username.strip()}'")
    password = query.findtext(f"{{{NS_REGISTER}}}password")
    if password is None:
        c.fail("the <query/> needs a <password/>: without one the server answers not-acceptable")
    elif not password:
        c.fail("the <password/> is empty: choose one")
    else:
        c.ok("it chooses a password")
    return c


@exercise("13.2", "Cancel your own account", stanza="iq")
def _(c, **context):
    """Logged in, a client cancels its own account with the same namespace as registration, jabber:iq:register,
    and one empty element inside the query (XEP-0077 section 3.2).

    The element is <remove/>. It changes something, so the iq is a 'set'.

    <iq type='set' id='unreg1'><query xmlns='jabber:iq:register'><remove/></query></iq>"""
    _type_set(c, "asks whether you are registered")
    _to_the_server(c)
    query = _query(c)
    if query is None:
        return c
    remove = query.find(f"{{{NS_REGISTER}}}remove")
    if remove is not None:
        c.ok("<remove/>: cancel the account")
    else:
        named = next((child for child in query if isinstance(child.tag, str)
                      and split_qname(child.tag)[1] == "remove"), None)
        if named is not None:
            c.fail(f"<remove/> belongs to the query's namespace, {NS_REGISTER}")
        elif query.find(f"{{{NS_REGISTER}}}password") is not None:
            c.fail("a <password/> changes the password (XEP-0077 §3.3); to cancel the account, send <remove/>")
        else:
            c.fail("put <remove/> inside the <query/>: that is what cancels the account")
    return c


@exercise("13.3", "Balthasar registers in-band, then logs in", live=True, hints=[
    "Open a raw connection as in the chapter, send the stream header, then an <iq type='set'> with "
    "<query xmlns='jabber:iq:register'> holding <username>balthasar</username> and a password. "
    "own.add_account would create the account without XMPP: this exercise wants the XMPP way.",
    "Then log in with the password you chose, without letting the lab create the account: "
    "own.connect('balthasar@example.com/mantua', PASSWORD, create=False).",
    "raw = await RawClient.connect('127.0.0.1', own.server.port)\n"
    "await raw.send(\"<stream:stream to='example.com' version='1.0' xmlns='jabber:client' "
    "xmlns:stream='http://etherx.jabber.org/streams'>\")\nawait raw.recv()\n"
    "await raw.request(\"<iq type='set' id='b1'><query xmlns='jabber:iq:register'><username>balthasar</username>"
    "<password>horses</password></query></iq>\")\nawait raw.close()\n"
    "balthasar = await own.connect('balthasar@example.com/mantua', 'horses', create=False)",
])
async def _(answer=None, *, lab=None, **context):
    c = Checker()
    if lab is None:
        c.fail("this check looks at your own server: write await acheck('13.3', lab=own)")
        return c
    try:
        server = lab.server_for(DOMAIN)
    except ValueError:
        c.fail("this Lab does not serve example.com: start one with own = await xmpplab.Lab.start(db=...)")
        return c

    def registered():
        for item in lab.transcript.items(kind="iq", direction="C→S", namespace=NS_REGISTER, type="set"):
            query = item.payload
            name = query.findtext(f"{{{NS_REGISTER}}}username") if query is not None else None
            if name is not None and name.strip().lower() == BALTHASAR.local:
                answer = lab.transcript.answer_to(item)
                if answer is not None:
                    return answer
        return None

    def logged_in():
        return [conn for conn in lab.transcript.connections.values() if same_account(conn.jid, BALTHASAR)]

    answer = await settle(registered)
    if answer is None:
        c.fail("no in-band registration of balthasar is in the Lab's recording: send <iq type='set'> with "
               "<query xmlns='jabber:iq:register'><username>balthasar</username>… on a stream that has not "
               "logged in (XEP-0077 §3.1)")
    elif answer.type == "result":
        c.ok("balthasar registered in-band, and the server answered type='result'")
    else:
        error = answer.element.find("{jabber:client}error") if answer.element is not None else None
        condition = split_qname(error[0].tag)[1] if error is not None and len(error) else "an error"
        c.fail(f"the registration of balthasar was answered with {condition}: read that answer in the stream view")
    if not server.accounts.exists(str(BALTHASAR)):
        if answer is not None and answer.type == "result":
            c.fail("there is no account balthasar@example.com on the server now: was it removed?")
        return c
    if await settle(logged_in):
        c.ok("balthasar logged in with his new account")
    else:
        c.fail("balthasar has not logged in yet: own.connect('balthasar@example.com/mantua', PASSWORD, create=False)")
    return c
