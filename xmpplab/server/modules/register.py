"""XEP-0077 In-Band Registration: create an account from the client, change its password, cancel it.

Off unless the server is started with ``register=True`` (``xmpplab serve --register``).
The stream features before authentication say so (XEP-0077 section 4), and
the iqs of this namespace are served before authentication (registration)::

    S: <stream:features><mechanisms …/><register xmlns='http://jabber.org/features/iq-register'/></stream:features>
    C: <iq type='get' id='r1'><query xmlns='jabber:iq:register'/></iq>
    S: <iq type='result' id='r1'><query xmlns='jabber:iq:register'>
         <instructions>…</instructions><username/><password/></query></iq>
    C: <iq type='set' id='r2'><query xmlns='jabber:iq:register'>
         <username>juliet</username><password>secret</password></query></iq>
    S: <iq type='result' id='r2'/>

After authentication, the same namespace changes the password or, with
``<remove/>``, deletes the account (XEP-0077 sections 3.2 and 3.3).
"""

import math

from ...errors import StanzaError, error_reply
from ...jid import JID, InvalidJID
from ...sasl import make_credentials, password_problem
from ...xml import NS_REGISTER, NS_REGISTER_FEATURE, element, sub
from ..events import BEFORE_AUTH

INSTRUCTIONS = "Choose a username and password for use with this service."


def setup(server):
    """In-band registration (XEP-0077): before login when ``allow_registration`` is on, and for the logged-in user."""
    registration = Registration(server)
    if server.allow_registration:
        server.add_feature(NS_REGISTER)
    server.hook(f"stream-features/{BEFORE_AUTH}", registration.feature)
    server.hook(f"pre-auth/iq/{NS_REGISTER}:query", registration.pre_auth)
    server.hook(f"iq-get/self/{NS_REGISTER}:query", registration.get_registered)
    server.hook(f"iq-set/self/{NS_REGISTER}:query", registration.change)
    server.hook(f"iq-get/host/{NS_REGISTER}:query", registration.get_registered)
    server.hook(f"iq-set/host/{NS_REGISTER}:query", registration.change)


class Registration:
    """XEP-0077 on one server: the stream feature, registration before login, and the account's own iqs."""

    def __init__(self, server):
        self.server = server

    def feature(self, session):
        """XEP-0077 4: ``<register/>`` among the stream features, when registration is on."""
        return [element("register", ns=NS_REGISTER_FEATURE)] if self.server.allow_registration else ()

    def _form(self):
        query = element("query", ns=NS_REGISTER)
        sub(query, "instructions", text=INSTRUCTIONS)
        sub(query, "username")
        sub(query, "password")
        return query

    def pre_auth(self, event) -> bool:
        """An in-band registration iq on a stream that has not authenticated yet (XEP-0077 3.1)."""
        if not self.server.allow_registration:
            return False  # the stream is closed with <not-authorized/>, as for any stanza before login
        if event.stanza.get("type") == "get":
            event.reply(self._form())
        elif event.stanza.get("type") == "set":
            self._register(event)
        return True  # a result or an error: nothing to answer

    def _register(self, event) -> None:
        """XEP-0077 3.1: create the account, its password hashed off the event loop."""
        session, iq, answer = event.session, event.stanza, event.send
        query = event.payload
        username = (query.findtext(f"{{{NS_REGISTER}}}username") or "").strip()
        password = query.findtext(f"{{{NS_REGISTER}}}password") or ""
        if query.find(f"{{{NS_REGISTER}}}remove") is not None:
            return answer(error_reply(iq, "not-authorized", "log in before removing an account"))
        if not username or not password:
            return answer(error_reply(iq, "not-acceptable", "a username and a password are required"))
        problem = password_problem(password)
        if problem:  # XEP-0077 3.1: not acceptable (checked before the hashing thread, which would fail)
            return answer(error_reply(iq, "not-acceptable", problem))
        try:
            jid = JID(local=username, domain=session.host)
        except InvalidJID as exc:
            return answer(error_reply(iq, "jid-malformed", exc.reason))
        try:
            if self.server.storage.account_exists(jid.domain, jid.local):
                return answer(error_reply(iq, "conflict", f"{jid} is already registered"))
        except StanzaError as exc:
            return answer(error_reply(iq, exc.condition, exc.text, exc.type))
        if session.limit_key is not None:  # Limits.registrations per registration_window, per address
            registrations = self.server.throttle.registrations
            wait = registrations.wait(session.limit_key)
            if wait:  # XEP-0077 section 3.1 and RFC 6120 8.3.3.18: the server will not take more now
                return answer(error_reply(iq, "resource-constraint", "too many registrations from your "
                                          f"address; try again in {math.ceil(wait)} s", type="wait"))
            registrations.hit(session.limit_key)

        def store(credentials) -> None:
            try:
                if self.server.storage.account_exists(jid.domain, jid.local):  # taken while it was hashed
                    return answer(error_reply(iq, "conflict", f"{jid} is already registered"))
                self.server.accounts.add(jid, password, credentials=credentials)
            except StanzaError as exc:  # a StorageFault: a full disk, a read-only database (logged by storage)
                return answer(error_reply(iq, exc.condition, exc.text, exc.type))
            self.server.hooks.fire("account-registered", jid)
            answer(element("iq", {"type": "result", "id": iq.get("id")}))

        # PBKDF2 takes milliseconds of CPU: off the event loop, this connection's next elements wait for it
        session.offload(make_credentials, password, self.server.scram_iterations, then=store)

    def get_registered(self, event):
        """XEP-0077 3.2: an authenticated user asks: am I registered?"""
        if event.from_ is None or event.to.domain != event.from_.domain:
            raise StanzaError("service-unavailable")
        query = element("query", ns=NS_REGISTER)
        sub(query, "registered")
        sub(query, "username", text=event.from_.local)
        event.reply(query)
        return True

    def change(self, event):
        """XEP-0077 3.3 (password change) and 3.2 (cancel with <remove/>)."""
        if event.from_ is None or event.to.domain != event.from_.domain:
            raise StanzaError("service-unavailable")
        query = event.payload
        user = event.from_.bare
        username = (query.findtext(f"{{{NS_REGISTER}}}username") or "").strip()
        # A username, when given, must be the sender's own (compared as prepared JID localparts,
        # RFC 7622): <remove/> and a password change only ever apply to the logged-in account.
        try:
            own = not username or JID(local=username, domain=user.domain) == user
        except InvalidJID:
            own = False
        if not own:
            what = "cancel" if query.find(f"{{{NS_REGISTER}}}remove") is not None else "change the password of"
            raise StanzaError("not-allowed", f"you can only {what} your own account")
        if query.find(f"{{{NS_REGISTER}}}remove") is not None:
            self.server.storage.check_writable()  # a StorageFault before the result: the account stays
            event.reply()
            self.server.accounts.remove(user)
            return True
        password = query.findtext(f"{{{NS_REGISTER}}}password") or ""
        if not password:
            raise StanzaError("bad-request", "the new password is missing")
        problem = password_problem(password)
        if problem:
            raise StanzaError("not-acceptable", problem)
        server = self.server

        def store(credentials) -> None:
            try:
                server.accounts.add(user, password, credentials=credentials)
            except StanzaError as exc:  # a StorageFault: a full disk, a read-only database (logged by storage)
                event.error(exc.condition, exc.text, exc.type)
                return
            event.reply()

        # PBKDF2 takes milliseconds of CPU: off the event loop; this connection's next elements wait for it
        offload = getattr(event.origin, "offload", None)
        if offload is None:  # not from a client connection (the server's own API): nothing else waits on it
            store(make_credentials(password, server.scram_iterations))
        else:
            offload(make_credentials, password, server.scram_iterations, then=store)
        return True
