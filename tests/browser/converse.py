"""Converse.js in a page of its own: the page and the fixture that serves it with Converse.js's ``dist/``.

``url = converse_site(settings)`` writes a page that runs ``converse.initialize(settings)`` with a small plugin
that publishes the API as ``window.xmpplab.api`` and sets ``window.xmpplab.connected`` once logged in; it is
served from 127.0.0.1 on a port of its own (so the page's origin differs from the server's WebSocket).
"""

import functools
import http.server
import json
import threading

import pytest

from tests.peers import PEERS_DIR, need_node_package
from tests.ws_support import ws_url

CONVERSE_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>xmpplab: Converse.js</title>
<link rel="stylesheet" href="/dist/converse.min.css">
<script type="module" src="/dist/converse.min.js"></script></head>
<body><script type="module">
window.xmpplab = {connected: false, errors: []};
converse.plugins.add("xmpplab-probe", {
  initialize() {
    const api = this._converse.api;
    window.xmpplab.api = api;
    api.listen.on("connected", () => { window.xmpplab.connected = true; });
  }
});
converse.initialize(Object.assign(%s, {whitelisted_plugins: ["xmpplab-probe"]}));
</script></body></html>
"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def romeo_settings(server) -> dict:
    """Converse.js settings that log romeo@example.net (password 'secret') in to ``server`` over its WebSocket,
    in a full-screen page, keeping its data only for the tab (so a test can empty it and reload)."""
    return {
        "websocket_url": ws_url(server), "discover_connection_methods": False, "jid": "romeo@example.net",
        "password": "secret", "auto_login": True, "auto_reconnect": False, "persistent_store": "sessionStorage",
        "view_mode": "fullscreen", "assets_path": "/dist/", "i18n": "en", "play_sounds": False,
        "loglevel": "warn", "enable_smacks": False, "show_controlbox_by_default": True,
    }


@pytest.fixture
def converse_site(tmp_path):
    """A page running Converse.js, served with its ``dist/`` from 127.0.0.1 on a port of its own."""
    need_node_package("converse.js")
    dist = PEERS_DIR / "node_modules" / "converse.js" / "dist"
    (tmp_path / "dist").symlink_to(dist)
    site = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(tmp_path)))
    thread = threading.Thread(target=site.serve_forever, daemon=True)
    thread.start()

    def page(settings: dict) -> str:
        (tmp_path / "index.html").write_text(CONVERSE_PAGE % json.dumps(settings))
        return f"http://127.0.0.1:{site.server_address[1]}/index.html"

    try:
        yield page
    finally:
        site.shutdown()
        site.server_close()
        thread.join(5)
