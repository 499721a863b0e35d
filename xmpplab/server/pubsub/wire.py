"""XEP-0060 on the wire: read a pubsub iq, call the service's use case, answer with the XEP's XML.

Every request is an iq whose ``<pubsub/>`` (or ``<pubsub xmlns='…#owner'/>``) holds one action::

    C: <iq type='set' to='pubsub.example.com' id='p1'>
         <pubsub xmlns='http://jabber.org/protocol/pubsub'>
           <publish node='sensors'><item id='r1'><reading xmlns='urn:example:sensor' celsius='21.5'/></item></publish>
         </pubsub></iq>
    S: <iq type='result' from='pubsub.example.com' to='juliet@example.com/balcony' id='p1'>
         <pubsub xmlns='http://jabber.org/protocol/pubsub'>
           <publish node='sensors'><item id='r1'/></publish></pubsub></iq>
    S: <message from='pubsub.example.com' to='romeo@example.net' type='headline' id='…'>         (7.1.2.1)
         <event xmlns='http://jabber.org/protocol/pubsub#event'>
           <items node='sensors'><item id='r1'><reading xmlns='urn:example:sensor' celsius='21.5'/></item></items>
         </event></message>

:data:`ACTIONS` is the routing table, ``(iq type, namespace, element) -> handler``;
:func:`handle_iq` is the whole entry point, so personal eventing (XEP-0163) can
serve an account's own service with the same table.
"""

from __future__ import annotations

from ...errors import error_reply
from ...jid import JID, InvalidJID
from ...xml import element, local_name, parse_fragment, sub
from ..forms import Form, find_form, values
from .model import AFFILIATIONS, NODE_CONFIG, NS, NS_ERRORS, NS_OWNER, PUBLISH_OPTIONS, PubSubError


def _jid(value: str | None, default: JID | None = None) -> JID:
    if value is None and default is not None:
        return default
    try:
        return JID(value or "")
    except InvalidJID:
        raise PubSubError("bad-request", "invalid-jid", text=f"{value!r} is not a JID") from None


def _answer(name: str, attrs: dict | None = None, ns: str = NS):
    wrapper = element("pubsub", ns=ns)
    return wrapper, sub(wrapper, name, attrs or {})


def _form_fields(parent, form_type: str = NODE_CONFIG) -> dict[str, str]:
    """The ``pubsub#…`` fields of a submitted form, without the prefix: a node_config form (17.4.4) or, with
    ``form_type=PUBLISH_OPTIONS``, the preconditions of ``<publish-options/>`` (7.1.5). A cancelled form is empty."""
    form = find_form(parent)
    if form is None or form.get("type") == "cancel":
        return {}
    got = values(form)
    if got.get("FORM_TYPE", [form_type])[:1] != [form_type]:
        raise PubSubError("bad-request", text=f"the form's FORM_TYPE must be {form_type}")
    return {var.removeprefix("pubsub#"): (vals[0] if vals else "") for var, vals in got.items()
            if var != "FORM_TYPE"}


# entity use cases (6, 7) --------------------------------------------------------------------
def create(service, event, action, pubsub):
    """8.1: ``<create node='…'/>``, perhaps with ``<configure>`` and a form (8.1.3); instant node: 8.1.2."""
    configure = pubsub.find(f"{{{NS}}}configure")
    node = service.create(event.from_, action.get("node"), _form_fields(configure))
    if action.get("node"):
        event.reply()
    else:
        event.reply(_answer("create", {"node": node.name})[0])


def publish(service, event, action, pubsub):
    """7.1: ``<publish node='…'><item id='…'>payload</item></publish>``; the answer names the item id (7.1.2)."""
    items = action.findall(f"{{{NS}}}item")
    if len(items) > 1:
        raise PubSubError("bad-request", "invalid-payload", text="publish one item at a time (7.1.3.6)")
    item = items[0] if items else None
    if item is None:
        raise PubSubError("bad-request", "item-required", text="publish an <item/> (7.1.3.7)")
    payloads = [c for c in item if isinstance(c.tag, str)]
    if len(payloads) > 1:
        raise PubSubError("bad-request", "invalid-payload", text="an item carries one payload element (7.1.3.6)")
    options = _form_fields(pubsub.find(f"{{{NS}}}publish-options"), PUBLISH_OPTIONS)
    published = service.publish(event.from_, action.get("node"), item.get("id"), payloads[0] if payloads else None,
                                options)
    wrapper, answer = _answer("publish", {"node": action.get("node")})
    sub(answer, "item", {"id": published.id})
    event.reply(wrapper)


def subscribe(service, event, action, pubsub):
    """6.1: ``<subscribe node='…' jid='…'/>``; the answer is the subscription (6.1.2)."""
    jid = _jid(action.get("jid"))
    node = service.subscribe(event.from_, action.get("node"), jid)
    wrapper, answer = _answer("subscription", {"node": node.name, "jid": str(jid), "subscription": "subscribed"})
    event.reply(wrapper)
    service.last_item(node, jid)


def unsubscribe(service, event, action, pubsub):
    """6.2: ``<unsubscribe node='…' jid='…'/>``; an empty result."""
    service.unsubscribe(event.from_, action.get("node"), _jid(action.get("jid")))
    event.reply()


def retract(service, event, action, pubsub):
    """7.2: ``<retract node='…' notify='true'><item id='…'/></retract>``; an empty result."""
    item = action.find(f"{{{NS}}}item")
    service.retract(event.from_, action.get("node"), item.get("id") if item is not None else None,
                    action.get("notify") in ("1", "true"))
    event.reply()


def items(service, event, action, pubsub):
    """6.5: ``<items node='…' max_items='2'/>`` (6.5.7) or with ``<item id='…'/>`` children (6.5.8)."""
    max_items = action.get("max_items")
    if max_items is not None and (not max_items.isdigit() or int(max_items) < 1):
        raise PubSubError("bad-request", text="max_items is a positive number")
    ids = [i.get("id") for i in action.findall(f"{{{NS}}}item") if i.get("id")]
    node, found = service.items(event.from_, action.get("node"), ids, int(max_items) if max_items else None)
    wrapper, answer = _answer("items", {"node": node.name})
    for item in found:
        el = sub(answer, "item", {"id": item.id, "publisher": item.publisher})
        if item.payload:
            el.append(parse_fragment(item.payload))
    event.reply(wrapper)


def subscriptions(service, event, action, pubsub):
    """5.6: the asker's subscriptions, on every node or on one."""
    wrapper, answer = _answer("subscriptions", {"node": action.get("node")})
    for node, jid, state in service.subscriptions_of(event.from_, action.get("node")):
        sub(answer, "subscription", {"node": node, "jid": jid, "subscription": state})
    event.reply(wrapper)


def my_affiliations(service, event, action, pubsub):
    """5.7: the asker's affiliations, node by node."""
    wrapper, answer = _answer("affiliations")
    for node in sorted(service.nodes.values(), key=lambda n: n.name):
        affiliation = node.affiliation(event.from_)
        if affiliation != "none" and action.get("node") in (None, node.name):
            sub(answer, "affiliation", {"node": node.name, "affiliation": affiliation})
    event.reply(wrapper)


# owner use cases (8) ------------------------------------------------------------------------
def configure_form(node) -> Form:
    """8.2.1: the node configuration form, its current values filled in (17.4.4)."""
    c = node.config
    form = Form(f"Configuration of {node.name}", form_type=NODE_CONFIG)
    form.field("pubsub#title", "text-single", "A friendly name for the node", values=[c.title])
    form.field("pubsub#access_model", "list-single", "Who may subscribe and retrieve items", values=[c.access_model],
               options=[("open", "Anyone"), ("presence", "Those subscribed to the owner's presence"),
                        ("whitelist", "Only those on a whitelist (members)")])
    form.field("pubsub#publish_model", "list-single", "Who may publish", values=[c.publish_model],
               options=[("publishers", "Publishers and owners"), ("subscribers", "Subscribers"),
                        ("open", "Anyone")])
    form.field("pubsub#max_items", "text-single", "How many items to keep", values=[c.max_items])
    for name, label in (("persist_items", "Keep items in storage"), ("deliver_payloads", "Send payloads"),
                        ("notify_retract", "Notify subscribers when items are retracted"),
                        ("notify_delete", "Notify subscribers when the node is deleted")):
        form.field(f"pubsub#{name}", "boolean", label, values=["1" if getattr(c, name) else "0"])
    form.field("pubsub#notification_type", "list-single", "Message type of notifications",
               values=[c.notification_type], options=[("headline", "headline"), ("normal", "normal")])
    form.field("pubsub#send_last_published_item", "list-single", "Send the last item to new subscribers",
               values=[c.send_last_published_item], options=[("never", "Never"), ("on_sub", "On subscription"),
                                                            ("on_sub_and_presence", "On subscription and presence")])
    return form


def configure(service, event, action, pubsub):
    """8.2: get the form (8.2.1), or submit it (8.2.4)."""
    if event.type == "get":
        node = service.owned(action.get("node"), event.from_)
        wrapper, answer = _answer("configure", {"node": node.name}, ns=NS_OWNER)
        answer.append(configure_form(node).element("form"))
        event.reply(wrapper)
        return
    if find_form(action) is None:
        raise PubSubError("bad-request", text="send the configuration form (8.2.4)")
    service.configure(event.from_, action.get("node"), _form_fields(action))
    event.reply()


def delete(service, event, action, pubsub):
    """8.4: ``<delete node='…'/>``; subscribers get ``<delete node='…'/>`` in an event."""
    service.delete(event.from_, action.get("node"))
    event.reply()


def purge(service, event, action, pubsub):
    """8.5: ``<purge node='…'/>``: every item goes."""
    service.purge(event.from_, action.get("node"))
    event.reply()


def affiliations(service, event, action, pubsub):
    """8.9: an owner reads (8.9.1) or changes (8.9.2) who is owner, publisher, member or outcast."""
    if event.type == "get":
        node = service.owned(action.get("node"), event.from_)
        wrapper, answer = _answer("affiliations", {"node": node.name}, ns=NS_OWNER)
        for jid, affiliation in sorted(node.affiliations.items()):
            sub(answer, "affiliation", {"jid": jid, "affiliation": affiliation})
        event.reply(wrapper)
        return
    service.owned(action.get("node"), event.from_)
    changes = [(_jid(a.get("jid")), a.get("affiliation")) for a in action.findall(f"{{{NS_OWNER}}}affiliation")]
    for _, affiliation in changes:
        if affiliation not in AFFILIATIONS:
            raise PubSubError("bad-request", text=f"{affiliation!r} is not an affiliation (4.1)")
    for jid, affiliation in changes:
        service.set_affiliation(event.from_, action.get("node"), jid, affiliation)
    event.reply()


def owner_subscriptions(service, event, action, pubsub):
    """8.8.1: an owner reads who is subscribed to the node (changing them, 8.8.2, is not served)::

        S: <pubsub xmlns='…#owner'><subscriptions node='sensors'>
             <subscription jid='romeo@example.net' subscription='subscribed'/></subscriptions></pubsub>
    """
    node = service.owned(action.get("node"), event.from_)
    wrapper, answer = _answer("subscriptions", {"node": node.name}, ns=NS_OWNER)
    for jid, state in sorted(node.subscriptions.items()):
        sub(answer, "subscription", {"jid": jid, "subscription": state})
    event.reply(wrapper)


#: The routing table of XEP-0060: (iq type, namespace, action element) -> handler.
ACTIONS = {
    ("set", NS, "create"): create, ("set", NS, "publish"): publish, ("set", NS, "subscribe"): subscribe,
    ("set", NS, "unsubscribe"): unsubscribe, ("set", NS, "retract"): retract, ("get", NS, "items"): items,
    ("get", NS, "subscriptions"): subscriptions, ("get", NS, "affiliations"): my_affiliations,
    ("get", NS_OWNER, "configure"): configure, ("set", NS_OWNER, "configure"): configure,
    ("set", NS_OWNER, "delete"): delete, ("set", NS_OWNER, "purge"): purge,
    ("get", NS_OWNER, "affiliations"): affiliations, ("set", NS_OWNER, "affiliations"): affiliations,
    ("get", NS_OWNER, "subscriptions"): owner_subscriptions,
}


def handle_iq(service, event) -> bool:
    """Serve a ``<pubsub/>`` iq for ``service``; False when the payload is not XEP-0060's.

    Raises :class:`~.model.PubSubError` (and :class:`~xmpplab.errors.StanzaError`) for the error reply.
    """
    pubsub = event.payload
    if pubsub is None or local_name(pubsub.tag) != "pubsub" or pubsub.tag[1:].partition("}")[0] not in (NS, NS_OWNER):
        return False
    ns = pubsub.tag[1:].partition("}")[0]
    action = next((c for c in pubsub if isinstance(c.tag, str)), None)
    if action is None or action.tag[1:].partition("}")[0] != ns:
        raise PubSubError("bad-request", text="a <pubsub/> holds one action (XEP-0060 section 6, 7, 8)")
    handler = ACTIONS.get((event.type, ns, local_name(action.tag)))
    if handler is None:
        raise PubSubError("feature-not-implemented", "unsupported", feature=local_name(action.tag))
    handler(service, event, action, pubsub)
    return True


def error_for(stanza, exc, by: str):
    """The error reply to ``stanza``, with XEP-0060's application condition in the ``<error/>`` (7.1.3 …)."""
    reply = error_reply(stanza, exc.condition, exc.text, exc.type, by=by)
    app = getattr(exc, "app", None)
    if app:
        err = reply[-1]
        attrs = {"feature": exc.feature} if getattr(exc, "feature", None) else {}
        err.append(element(app, attrs, ns=NS_ERRORS))  # RFC 6120 8.3.2: after the condition and text
    return reply
