"""Chapter 16 (Which server, which library): solutions, and what tests/test_course.py tries on each check."""

from xmpplab.rawclient import RawClient

MESSAGE = "<message to='juliet@example.com' type='chat'><body>By hand, with PLAIN</body></message>"


async def solve_16_1(lab):
    """Log in as Romeo with only PLAIN allowed, then send Juliet a chat message."""
    lab.add_account("romeo@example.com")
    c = await RawClient.connect("127.0.0.1", lab.server.port)
    await c.login("romeo@example.com", lab.password, mechanisms=["PLAIN"])
    await c.send(MESSAGE)
    await c.close()


async def near_miss_16_1(lab):
    """The same with the client's default choice: the strongest mechanism offered, SCRAM-SHA-256."""
    lab.add_account("romeo@example.com")
    c = await RawClient.connect("127.0.0.1", lab.server.port)
    await c.login("romeo@example.com", lab.password)
    await c.send(MESSAGE)
    await c.close()


# Live exercises (checked against a running Lab): id -> (async solve(lab), async near_miss(lab), words).
LIVE = {
    "16.1": (solve_16_1, near_miss_16_1, "not PLAIN"),
}
