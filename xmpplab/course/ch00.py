"""Chapter 00, Welcome: the first message."""

from .core import Checker, exercise


@exercise("00.1", "Say hello to Romeo", hints=[
    "A message stanza is <message/>; who it is for goes in the 'to' attribute.",
    "Romeo's address is romeo@example.net; the words go in a <body/> child: <body>Hello</body>.",
])
def _(answer, **context):
    c = Checker(answer)
    if c.element("message"):
        c.attribute("to", "romeo@example.net", jid=True)
        c.child("body", text=True)
    return c
