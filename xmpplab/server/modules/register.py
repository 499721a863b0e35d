"""XEP-0077 In-Band Registration: create an account from the client, change its password, cancel it.

Off unless the server is started with ``register=True`` (``xmpplab serve --register``).
Before authentication (registration)::

    C: <iq type='get' id='r1'><query xmlns='jabber:iq:register'/></iq>
    S: <iq type='result' id='r1'><query xmlns='jabber:iq:register'>
         <instructions>…</instructions><username/><password/></query></iq>
    C: <iq type='set' id='r2'><query xmlns='jabber:iq:register'>
         <username>juliet</username><password>secret</password></query></iq>
    S: <iq type='result' id='r2'/>

After authentication, the same namespace changes the password or, with
``<remove/>``, deletes the account (XEP-0077 sections 3.2 and 3.3).
"""

from ...errors import StanzaError, error_reply
from ...jid import JID, InvalidJID
from ...xml import NS_CLIENT, NS_REGISTER, element, serialize, sub

INSTRUCTIONS = "Choose a username and password for use with this service."


def setup(server):
    server.registration = Registration(server)
    if server.allow_registration:
        server.add_feature(NS_REGISTER)
    server.hook(f"iq-get/self/{NS_REGISTER}:query", server.registration.get_registered)
    server.hook(f"iq-set/self/{NS_REGISTER}:query", server.registration.change)
    server.hook(f"iq-get/host/{NS_REGISTER}:query", server.registration.get_registered)
    server.hook(f"iq-set/host/{NS_REGISTER}:query", server.registration.change)


class Registration:
    def __init__(self, server):
        self.server = server

    def _form(self):
        query = element("query", ns=NS_REGISTER)
        sub(query, "instructions", text=INSTRUCTIONS)
        sub(query, "username")
        sub(query, "password")
        return query

    def pre_auth(self, session, iq) -> None:
        """An in-band registration iq on a stream that has not authenticated yet."""
        def answer(el):
            session.write(serialize(el, NS_CLIENT))

        query = iq[0]
        if iq.get("type") == "get":
            result = element("iq", {"type": "result", "id": iq.get("id")})
            result.append(self._form())
            return answer(result)
        if iq.get("type") != "set":
            return None
        username = (query.findtext(f"{{{NS_REGISTER}}}username") or "").strip()
        password = query.findtext(f"{{{NS_REGISTER}}}password") or ""
        if query.find(f"{{{NS_REGISTER}}}remove") is not None:
            return answer(error_reply(iq, "not-authorized", "log in before removing an account"))
        if not username or not password:
            return answer(error_reply(iq, "not-acceptable", "a username and a password are required"))
        try:
            jid = JID(local=username, domain=session.host)
        except InvalidJID as exc:
            return answer(error_reply(iq, "jid-malformed", exc.reason))
        try:
            if self.server.storage.account_exists(jid.domain, jid.local):
                return answer(error_reply(iq, "conflict", f"{jid} is already registered"))
            self.server.accounts.add(jid, password)
        except StanzaError as exc:  # a StorageFault: a full disk, a read-only database (logged by storage)
            return answer(error_reply(iq, exc.condition, exc.text, exc.type))
        self.server.hooks.fire("account-registered", jid)
        return answer(element("iq", {"type": "result", "id": iq.get("id")}))

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
        if query.find(f"{{{NS_REGISTER}}}remove") is not None:
            self.server.storage.check_writable()  # a StorageFault before the result: the account stays
            event.reply()
            self.server.accounts.remove(user)
            return True
        username = (query.findtext(f"{{{NS_REGISTER}}}username") or "").strip()
        password = query.findtext(f"{{{NS_REGISTER}}}password") or ""
        if username and username.lower() != user.local:
            raise StanzaError("not-allowed", "you can only change your own password")
        if not password:
            raise StanzaError("bad-request", "the new password is missing")
        self.server.accounts.add(user, password)
        event.reply()
        return True
