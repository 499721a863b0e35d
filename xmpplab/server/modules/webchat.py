"""A chat page on the server's HTTP port: Converse.js in the browser, over the WebSocket endpoint.

A student opens ``https://HOST:HTTP_PORT/`` and logs in with the account on their card. The page
is Converse.js (MPL-2.0, https://conversejs.org) connecting to this server's own
``/xmpp-websocket`` (RFC 7395). Its files come from ``assets``:

- a folder holding Converse's ``dist/`` files (``converse.min.js``, ``converse.min.css``, …), served
  by this server under ``/converse/`` (a school without internet: ``npm install converse.js`` once,
  and give ``node_modules/converse.js/dist``);
- or a URL ending in ``/`` where they are published (default: the Converse CDN).

Add it to a server as a module object: ``Server(..., http_port=5280, modules=(*DEFAULT_MODULES,
WebChat("/path/to/dist")))``; ``xmpplab classroom --http-port 5280 --converse DIR`` does.
"""

from __future__ import annotations

import json
import mimetypes
from pathlib import Path

from ..http import WEBSOCKET_PATH, HttpRequest, websocket_url

CDN = "https://cdn.conversejs.org/14.0.0/dist/"
PREFIX = "/converse/"

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="{assets}converse.min.css">
<script type="module" src="{assets}converse.min.js"></script></head>
<body class="converse-fullscreen"><noscript>This chat page needs JavaScript.</noscript>
<script type="module">
converse.initialize({settings});
</script></body></html>
"""


class WebChat:
    """The server module (an object: it carries where Converse's files are)."""

    name = "webchat"

    def __init__(self, assets: str | Path | None = None, *, title: str = "xmpplab chat"):
        text = str(assets) if assets is not None else CDN
        if text.startswith(("http://", "https://")):
            self.url, self.folder = text if text.endswith("/") else text + "/", None
        else:
            folder = Path(text).expanduser()
            if not (folder / "converse.min.js").is_file():
                raise ValueError(f"{folder} does not hold Converse.js's files (converse.min.js): give its dist "
                                 "folder, e.g. node_modules/converse.js/dist, or a URL")
            self.url, self.folder = PREFIX, folder.resolve()
        self.title = title

    def __repr__(self) -> str:
        return f"<WebChat assets {self.folder or self.url}>"

    def setup(self, server) -> None:
        """Serve the chat page and Converse's files on the HTTP port."""
        self.server = server
        server.hook("http-request", self.serve)

    def page(self, request: HttpRequest) -> str:
        """The HTML page that starts Converse.js on this server's WebSocket endpoint."""
        domain = self.server.default_domain
        settings = {
            "websocket_url": websocket_url(request.host, request.secure),
            "discover_connection_methods": False, "view_mode": "fullscreen", "assets_path": self.url,
            "authentication": "login", "auto_reconnect": True, "persistent_store": "sessionStorage",
            "default_domain": domain, "locked_domain": domain, "show_controlbox_by_default": True,
            "allow_registration": False, "i18n": "en", "play_sounds": False,
            "auto_join_rooms": [f"class@conference.{domain}"] if f"conference.{domain}" in self.server.muc else [],
        }
        return PAGE.format(title=self.title, assets=self.url, settings=json.dumps(settings))

    def serve(self, request: HttpRequest) -> bool:
        """Answer GET or HEAD for the page and Converse's files; False for any other path."""
        path = request.path.partition("?")[0]
        if request.method not in ("GET", "HEAD") or path == WEBSOCKET_PATH:
            return False
        if path in ("/", "/index.html"):
            body = self.page(request).encode()
            request.response = (200, {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"},
                                body if request.method == "GET" else b"")
            return True
        if self.folder is not None and path.startswith(PREFIX):
            request.response = self._file(path[len(PREFIX):], request.method)
            return True
        return False

    def _file(self, name: str, method: str) -> tuple[int, dict, bytes]:
        target = (self.folder / name).resolve()
        if self.folder not in target.parents or not target.is_file():  # no way out of the folder
            return 404, {"Content-Type": "text/plain; charset=utf-8"}, b"not found\n"
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if kind.startswith("text/") or kind in ("application/javascript", "application/json"):
            kind += "; charset=utf-8"
        body = target.read_bytes() if method == "GET" else b""
        return 200, {"Content-Type": kind, "Cache-Control": "max-age=3600"}, body
