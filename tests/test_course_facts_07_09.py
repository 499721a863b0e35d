"""Facts chapters 07-09 state on their core path (issue 13), which a rewrite must keep: what the items of each
service are, who sees a real JID in a room and who receives a groupchat message, and which server answers for a
domain that does not exist."""

import json
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def _cells(name: str, *, core: bool) -> list[dict]:
    cells = json.loads((NOTEBOOKS / name).read_text(encoding="utf-8"))["cells"]
    return [c for c in cells if ("deep-dive" in c.get("metadata", {}).get("tags", [])) != core]


def _text(name: str, *, core: bool = True, kind: str = "markdown") -> str:
    return "\n".join(" ".join("".join(c["source"]).split()) for c in _cells(name, core=core) if c["cell_type"] == kind)


def test_chapter_07_calls_a_chat_service_s_items_rooms_and_a_pubsub_service_s_items_nodes():
    assert "The items of a chat service are its **rooms**" in _text("07-disco.ipynb")
    assert "not rooms but **nodes**" in _text("07-disco.ipynb", core=False)
    for code in _text("07-disco.ipynb", kind="code").splitlines():  # no walk over every service prints "rooms"
        if not code.startswith("xmpplab.predict("):
            assert "rooms" not in code or "conference.example.com" in code, code


def test_chapter_07_says_who_answers_disco_for_an_account_and_for_a_client():
    text = _text("07-disco.ipynb")
    assert "to those who may see its presence" in text and "| a full JID | that client |" in text


def test_chapter_08_says_who_sees_real_jids_and_who_receives_a_groupchat_message():
    text = _text("08-muc.ipynb")
    assert "in a semi-anonymous room only moderators see your real JID" in text
    assert "reaches every occupant, you included, from your occupant JID" in text


def test_chapter_09_says_the_recipient_s_server_delivers_and_an_unknown_domain_is_answered_at_home():
    text = _text("09-federation.ipynb")
    assert "goes from the sender's server to the recipient's server" in text
    assert "`remote-server-not-found`, from the sender's own server" in text
