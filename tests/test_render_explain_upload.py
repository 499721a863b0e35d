"""explain() on HTTP File Upload (XEP-0363): the slot request, the slot, and the refusals, each with its section."""

from xmpplab.render import explain

U = "urn:xmpp:http:upload:0"
REQUEST = (f"<iq type='get' id='u1' to='upload.example.com'><request xmlns='{U}' filename='balcony.jpg' size='23456' "
           "content-type='image/jpeg'/></iq>")


def cited(explanation) -> set:
    return {(c.spec, c.section) for c in explanation.citations}


def test_the_slot_request_and_the_slot():
    asked = explain(REQUEST, direction="C→S")
    assert asked.citation == "XEP-0363 §4" and "'balcony.jpg'" in asked.text and "22.9 KiB" in asked.text
    assert asked.url == "https://xmpp.org/extensions/xep-0363.html#request"
    slot = explain(f"<iq type='result' id='u1' from='upload.example.com'><slot xmlns='{U}'>"
                   "<put url='https://127.0.0.1:5280/upload/x/balcony.jpg'><header name='Authorization'>Bearer s"
                   "</header></put><get url='https://127.0.0.1:5280/upload/x/balcony.jpg'/></slot></iq>",
                   direction="S→C")
    assert slot.citation == "XEP-0363 §4" and "Authorization" in slot.text and "201 Created" in slot.text
    assert ("XEP-0363", "7") in cited(slot)


def test_a_refusal_says_the_limit_or_when_to_retry():
    big = explain(f"<iq type='error' id='u1' from='upload.example.com'><request xmlns='{U}' filename='a' size='9'/>"
                  "<error type='modify'><not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
                  f"<file-too-large xmlns='{U}'><max-file-size>20000</max-file-size></file-too-large></error></iq>",
                  direction="S→C")
    assert "at most 20000 bytes" in big.text and ("XEP-0363", "6") in cited(big)
    wait = explain(f"<iq type='error' id='u1' from='upload.example.com'><error type='wait'>"
                   "<resource-constraint xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
                   f"<retry xmlns='{U}' stamp='2026-12-05T23:42:05Z'/></error></iq>", direction="S→C")
    assert "2026-12-05T23:42:05Z" in wait.text and "quota" in wait.text and ("XEP-0363", "6") in cited(wait)
