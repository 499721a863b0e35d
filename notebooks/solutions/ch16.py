"""Chapter 16 (Which server, which library): solutions, and what tests/test_course.py tries on each check."""

from xmpplab.rawclient import RawClient


async def _romeo_writes_to_juliet(lab, mechanisms=None):
    """Romeo logs in by hand (with ``mechanisms``, or the client's choice) and writes to Juliet, who is online."""
    juliet = await lab.connect("juliet@example.com/balcony")
    login = await lab.login_for("romeo@example.com")
    c = await RawClient.connect(login.host, login.port)
    await c.login(login.jid, login.password, **({"mechanisms": mechanisms} if mechanisms else {}))
    await c.send(f"<message to='{juliet.jid}' type='chat'><body>By hand, with PLAIN</body></message>")
    await juliet.next("message")
    await c.close()


async def solve_16_1(lab):
    """Log in as Romeo with only PLAIN allowed, then send Juliet a chat message."""
    await _romeo_writes_to_juliet(lab, ["PLAIN"])


async def near_miss_16_1(lab):
    """The same with the client's default choice: the strongest mechanism offered, SCRAM-SHA-256."""
    await _romeo_writes_to_juliet(lab)


# Live exercises (checked against a running Lab): id -> (async solve(lab), async near_miss(lab), words).
LIVE = {
    "16.1": (solve_16_1, near_miss_16_1, "not PLAIN"),
}
