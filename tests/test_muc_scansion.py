"""Prosody's own MUC scansion scripts against the lab server's XEP-0045 service.

Nine of Prosody's ten MUC scripts pass unchanged. The tenth,
muc_create_destroy, expects two things that are not multi-user chat:

* ``<x xmlns='vcard-temp:x:update'><photo/></x>`` in every presence of the
  user (Prosody's mod_vcard_legacy, XEP-0153 avatars, added by the user's
  own server), from its very first expectation on;
* an ad-hoc command (XEP-0050) of Prosody's own,
  ``http://prosody.im/protocol/muc#destroy``, run by a service admin named in
  Prosody's configuration.

With the avatar hash taken out of the script, every step before the admin
command passes: creation, groupchat, history with delays, the joins in the
right order, destruction by the owner with a reason.
"""

import os
import re
from pathlib import Path

import pytest

from xmpplab.scansion import Action, Status, parse_script, run_script
from xmpplab.server import Server
from xmpplab.server.core import DEFAULT_MODULES

MODULES = DEFAULT_MODULES if "muc" in DEFAULT_MODULES else DEFAULT_MODULES + ("muc",)
SHARED = Path(os.environ.get("XMPPLAB_SHARED") or Path(__file__).resolve().parents[2] / "shared")
SCRIPTS = SHARED / "scansion-prosody"
PASSING = ["issue1224", "issue505", "issue978", "issue978-multi", "muc_mediated_invite", "muc_nickname_change",
           "muc_password", "muc_presence_probe", "muc_subject_issue_667"]


def script_text(name: str) -> str:
    path = SCRIPTS / f"{name}.scs"
    if not path.exists():
        pytest.skip(f"Prosody's scansion scripts are not at {SCRIPTS} (set XMPPLAB_SHARED)")
    return path.read_text(encoding="utf-8")


async def run_on_lab(script, **options):
    async with Server(["localhost"], modules=MODULES) as srv:
        return await run_script(script, "127.0.0.1", srv.port, accounts=srv.accounts, timeout=3, **options)


@pytest.mark.parametrize("name", PASSING)
async def test_prosody_muc_script_passes(name):
    result = await run_on_lab(parse_script(script_text(name), name=name))
    assert result.passed, result.report()


async def test_muc_create_destroy_differs_only_in_what_is_not_muc():
    result = await run_on_lab(parse_script(script_text("muc_create_destroy"), name="muc_create_destroy"))
    first = result.first_failure
    assert (first.number, first.step.action) == (3, Action.RECEIVES), result.report()
    assert [str(d) for d in first.differences] == ["presence/x: <x xmlns='vcard-temp:x:update'/> is missing"]


async def test_muc_create_destroy_without_avatars_passes_up_to_prosodys_admin_command():
    text = re.sub(r'\s*<x xmlns="vcard-temp:x:update">\s*<photo/>\s*</x>', "", script_text("muc_create_destroy"))
    result = await run_on_lab(parse_script(text, name="muc_create_destroy"))
    first = result.first_failure
    assert first is not None and first.status is Status.FAILED
    ran = [r for r in result.steps if r.status is Status.PASSED]
    # Everything up to "Admin sends: <command node='http://prosody.im/protocol/muc#destroy'/>" passed ...
    admin_sends = next(r for r in result.steps if r.step.actor == "Admin" and r.step.action is Action.SENDS)
    assert len(ran) == admin_sends.number, result.report()
    # ... and the command, which the lab server does not have, is answered service-unavailable.
    [answer] = result.unread["Admin"]
    assert answer.get("type") == "error" and answer.find(
        "{jabber:client}error/{urn:ietf:params:xml:ns:xmpp-stanzas}service-unavailable") is not None
