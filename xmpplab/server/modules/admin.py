"""XEP-0133 Service Administration, as ad-hoc commands (XEP-0050, see :mod:`.adhoc`).

A teacher (any JID in ``server.adhoc.admins``) runs them from any client that speaks XEP-0050
(Gajim, profanity's ``/cmd``), or from a notebook; everyone else gets ``<forbidden/>``:

=======================================  ===========================================================
node (``http://jabber.org/protocol/admin#…``)  what it does (XEP-0133 section)
=======================================  ===========================================================
``add-user``                              create an account (§4.1)
``delete-user``                           delete accounts, ending their sessions (§4.2)
``end-user-session``                      end the sessions of accounts or of one resource (§4.5)
``change-user-password``                  set a new password (§4.7)
``get-registered-users-num``              how many accounts this domain has (§4.15)
``get-online-users-num``                  how many accounts are online (§4.17)
``get-online-users-list``                 who is online, resources included (§4.21)
``announce``                              a message to every online user (§4.23)
=======================================  ===========================================================

Passwords are hashed off the event loop when the command comes from a client connection.
"""

from __future__ import annotations

from ...errors import StanzaError
from ...jid import JID, InvalidJID
from ...sasl import make_credentials, password_problem
from ...xml import element, sub
from ..forms import Form
from .adhoc import COMMANDS, Command, Done

NS_ADMIN = "http://jabber.org/protocol/admin"


def _jids(fields, var: str, event, *, full: bool = False) -> list[JID]:
    """The JIDs of a field, each of this server's domain (``bad-request`` saying which one is wrong)."""
    out = []
    for text in fields.get(var, []):
        text = text.strip()
        if not text:
            continue
        try:
            jid = JID(text)
        except InvalidJID as exc:
            raise StanzaError("bad-request", f"{text!r} is not an address: {exc.reason}", type="modify") from None
        if jid.local is None or jid.domain != event.to.domain:
            raise StanzaError("bad-request", f"{text} is not an account of {event.to.domain}", type="modify")
        out.append(jid if full else jid.bare)
    if not out:
        raise StanzaError("bad-request", f"the field {var} needs an address", type="modify")
    return out


def _one(fields, var: str) -> str:
    return (fields.get(var) or [""])[0]


def _form(title: str, instructions: str | None = None) -> Form:
    return Form(title, instructions, form_type=NS_ADMIN)


def _password_form(title: str, instructions: str, account_label: str) -> Form:
    """The form of §4.1 and §4.7: accountjid and password."""
    form = _form(title, instructions)
    form.field("accountjid", "jid-single", account_label, required=True)
    form.field("password", "text-private", "The password for this account", required=True)
    return form


def _account_and_password(event, fields) -> tuple[JID, str]:
    """The fields accountjid and password (§4.1, §4.7); ``bad-request`` when either is missing."""
    jid = _jids(fields, "accountjid", event)[0]
    password = _one(fields, "password")
    if not password:
        raise StanzaError("bad-request", "the password is missing", type="modify")
    return jid, password


def _set_password(event, jid: JID, password: str, done: Done) -> Done:
    """Store the account, hashing off the loop when a client connection asked; the answer waits for it."""
    server = event.server
    problem = password_problem(password)
    if problem:
        raise StanzaError("not-acceptable", problem, type="modify")
    offload = getattr(event.origin, "offload", None)
    if offload is None:
        server.accounts.add(jid, password)
        return done

    def store(credentials) -> None:
        try:
            server.accounts.add(jid, password, credentials=credentials)
        except StanzaError as exc:
            event.error(exc.condition, exc.text, exc.type)
            return
        COMMANDS.of(server).reply_later(event, done)

    offload(make_credentials, password, server.scram_iterations, then=store)
    return None  # answered by store()


def add_user(event, fields):
    """§4.1: accountjid, password, password-verify."""
    if fields is None:
        form = _password_form("Adding a User", "Fill out this form to add a user.",
                              "The Jabber ID for the account to be added")
        form.field("password-verify", "text-private", "Retype password", required=True)
        return form
    jid, password = _account_and_password(event, fields)
    if fields.get("password-verify") is not None and _one(fields, "password-verify") != password:
        raise StanzaError("bad-request", "the two passwords differ", type="modify")
    if event.server.storage.account_exists(jid.domain, jid.local):
        raise StanzaError("conflict", f"{jid} already exists")
    return _set_password(event, jid, password, Done(f"{jid} was added"))


def change_user_password(event, fields):
    """§4.7: accountjid, password."""
    if fields is None:
        return _password_form("Changing a User Password", "Fill out this form to change a user's password.",
                              "The Jabber ID for this account")
    jid, password = _account_and_password(event, fields)
    if not event.server.storage.account_exists(jid.domain, jid.local):
        raise StanzaError("item-not-found", f"there is no account {jid}")
    return _set_password(event, jid, password, Done(f"the password of {jid} was changed"))


def delete_user(event, fields):
    """§4.2: accountjids (jid-multi)."""
    if fields is None:
        form = _form("Deleting a User", "Fill out this form to delete a user.")
        form.field("accountjids", "jid-multi", "The Jabber ID(s) to delete", required=True)
        return form
    jids = _jids(fields, "accountjids", event)
    server = event.server
    missing = [str(j) for j in jids if not server.storage.account_exists(j.domain, j.local)]
    if missing:
        raise StanzaError("item-not-found", f"there is no account {', '.join(missing)}")
    server.storage.check_writable()  # a StorageFault before anything is deleted
    for jid in jids:
        server.accounts.remove(jid)
    return Done(f"deleted: {', '.join(map(str, jids))}")


def end_user_session(event, fields):
    """§4.5: accountjids; a bare JID ends every session of the account, a full JID that one."""
    if fields is None:
        form = _form("Ending a User Session", "Fill out this form to end a user's session.")
        form.field("accountjids", "jid-multi", "The Jabber ID(s) for which to end sessions", required=True)
        return form
    ended = []
    for jid in _jids(fields, "accountjids", event, full=True):
        sessions = [event.server.session_for(jid)] if jid.resource else event.server.resources(jid.bare)
        for session in sessions:
            if session is not None:
                ended.append(str(session.jid))
                session.close("policy-violation", "an administrator ended this session")
    return Done(f"ended: {', '.join(ended)}" if ended else "none of them was online")


def _local_accounts(event) -> list[str]:
    return event.server.storage.list_accounts(event.to.domain)


def _online(event) -> list:
    domain = event.to.domain
    return [s for bare, resources in event.server.sessions.items() if bare.domain == domain
            for s in resources.values()]


def registered_users_num(event, fields):
    """§4.15: one result field, registeredusersnum."""
    form = _form("Registered Users")
    form.field("registeredusersnum", "text-single", "The number of registered users",
               values=[len(_local_accounts(event))])
    return Done(form=form)


def online_users_num(event, fields):
    """§4.17: one result field, onlineusersnum (accounts with at least one session)."""
    form = _form("Online Users")
    accounts = {s.jid.bare for s in _online(event)}
    form.field("onlineusersnum", "text-single", "The number of online users", values=[len(accounts)])
    return Done(form=form)


def online_users_list(event, fields):
    """§4.21: how many to list (max_items), then onlineuserjids (full JIDs, so a teacher sees resources)."""
    if fields is None:
        form = _form("Requesting List of Online Users")
        form.field("max_items", "list-single", "Maximum number of items to report",
                   options=[(n, n) for n in ("25", "50", "75", "100", "150", "200", "none")], values=["100"])
        return form
    limit = _one(fields, "max_items") or "none"
    if limit != "none" and not limit.isdigit():
        raise StanzaError("bad-request", f"max_items is a number or none, not {limit!r}", type="modify")
    online = sorted(str(s.jid) for s in _online(event))
    if limit != "none":
        online = online[:int(limit)]
    form = _form("Online Users")
    form.field("onlineuserjids", "jid-multi", "The list of all online users", values=online)
    return Done(form=form)


def announce(event, fields):
    """§4.23: subject and announcement, sent as a headline to every online session of this domain."""
    if fields is None:
        form = _form("Making an Announcement", "Fill out this form to make an announcement to all active "
                                               "users of this service.")
        form.field("subject", "text-single", "Subject")
        form.field("announcement", "text-multi", "Announcement", required=True)
        return form
    body = "\n".join(fields.get("announcement", [])).strip()
    if not body:
        raise StanzaError("bad-request", "the announcement is empty", type="modify")
    subject = _one(fields, "subject").strip()
    sessions = _online(event)
    for session in sessions:
        msg = element("message", {"from": event.to.domain, "to": str(session.jid), "type": "headline"})
        if subject:
            sub(msg, "subject", text=subject)
        sub(msg, "body", text=body)
        session.send(msg)
    return Done(f"sent to {len(sessions)} session(s)")


COMMANDS_OFFERED = [
    ("add-user", "Add a User", add_user),
    ("delete-user", "Delete a User", delete_user),
    ("end-user-session", "End User Session", end_user_session),
    ("change-user-password", "Change User Password", change_user_password),
    ("get-registered-users-num", "Get Number of Registered Users", registered_users_num),
    ("get-online-users-num", "Get Number of Online Users", online_users_num),
    ("get-online-users-list", "Get List of Online Users", online_users_list),
    ("announce", "Send Announcement to Online Users", announce),
]


requires = ("adhoc",)


def setup(server):
    """Offer the XEP-0133 service administration commands through the ad-hoc module."""
    server.add_feature(NS_ADMIN)
    server.hook("adhoc-commands", lambda server: [Command(f"{NS_ADMIN}#{name}", title, run)
                                                  for name, title, run in COMMANDS_OFFERED])
