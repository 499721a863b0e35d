"""XEP-0060 Publish-Subscribe for tests: the service's address, namespaces and requests as raw XML.

    c = await online(raw, J)
    await create(c, "sensors")                         # juliet owns pubsub.example.com's node 'sensors'
    reply = await request(c, "set", "<subscribe node='sensors' jid='romeo@example.net'/>")
"""

import itertools

PS = "http://jabber.org/protocol/pubsub"
PS_OWNER = f"{PS}#owner"
PS_EVENT = f"{PS}#event"
PS_ERRORS = f"{PS}#errors"
SERVICE = "pubsub.example.com"
_ids = itertools.count(1)


async def request(c, type_: str, action: str, ns: str = PS, to: str = SERVICE):
    """Send ``<iq><pubsub xmlns=ns>action</pubsub></iq>`` to the service and return the answer."""
    return await c.request(f"<iq type='{type_}' id='ps-{next(_ids)}' to='{to}'><pubsub xmlns='{ns}'>{action}"
                           "</pubsub></iq>")


async def create(c, node: str, **config) -> None:
    """Create a node (8.1), with ``pubsub#<name>`` values when given; assert that it worked."""
    form = ""
    if config:
        fields = "".join(f"<field var='pubsub#{k}'><value>{v}</value></field>" for k, v in config.items())
        form = (f"<configure><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'>"
                f"<value>{PS}#node_config</value></field>{fields}</x></configure>")
    reply = await request(c, "set", f"<create node='{node}'/>{form}")
    assert reply.get("type") == "result", reply


def publish_xml(node: str, item_id: str, payload: str) -> str:
    """The ``<publish/>`` action of 7.1 with one item."""
    return f"<publish node='{node}'><item id='{item_id}'>{payload}</item></publish>"


def app_condition(el) -> str | None:
    """The XEP-0060 application condition of an error reply (``payload-too-big``), or None."""
    err = el.find("{jabber:client}error")
    found = err.find(f"{{{PS_ERRORS}}}*") if err is not None else None
    return found.tag.partition("}")[2] if found is not None else None
