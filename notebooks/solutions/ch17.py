"""Chapter 17 (the final project): the Nurse bot, and what tests/test_course.py tries on its check."""

from xmpplab.course.project import Bot, open_room

ROOM = "lobby@conference.example.com"


def nurse_handler(nurse, group_chat: bool = True):
    """The solution's handler: approve and ask back, answer chats, answer in the room when called."""

    async def handle(stanza):
        if stanza.name == "presence" and stanza["type"] == "subscribe":
            await nurse.approve(stanza["from"].bare)
            await nurse.subscribe(stanza["from"].bare)
        elif stanza.name == "message" and stanza["type"] == "chat" and stanza["body"]:
            await nurse.send_message(stanza["from"], "Anon, anon! Your Juliet is on her balcony.")
        elif (group_chat and stanza.name == "message" and stanza["type"] == "groupchat"
              and stanza["from"].resource != "Nurse" and "nurse" in stanza["body"].lower()):
            await nurse.send_message(ROOM, "I come, I come!", type="groupchat")

    return handle


async def _start(lab, group_chat: bool):
    juliet = await lab.connect("juliet@example.com/balcony")
    await open_room(juliet, ROOM, "juliet")
    nurse = await lab.connect("nurse@example.com/bot")
    await open_room(nurse, ROOM, "Nurse")
    return Bot.start(nurse, nurse_handler(nurse, group_chat))


async def solve_17_1(lab):
    """The whole bot."""
    await _start(lab, group_chat=True)


async def near_miss_17_1(lab):
    """The bot without group chat: it never answers in the room."""
    await _start(lab, group_chat=False)


# Live exercises (checked against a running Lab): id -> (async solve(lab), async near_miss(lab), words).
LIVE = {
    "17.1": (solve_17_1, near_miss_17_1, "no answer in the room"),
}
