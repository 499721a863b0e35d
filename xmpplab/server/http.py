"""What the server's HTTP port serves besides the WebSocket endpoint: XEP-0156 discovery.

A web client that knows only a domain asks ``/.well-known/host-meta`` (an XRD
document, XEP-0156 section 3.2 and RFC 6415) or ``/.well-known/host-meta.json``
(its JSON form) where to connect, and finds the WebSocket URL under the
relation ``urn:xmpp:alt-connections:websocket``::

    <XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'>
      <Link rel='urn:xmpp:alt-connections:websocket' href='ws://127.0.0.1:5280/xmpp-websocket'/>
    </XRD>

The functions here are pure (a path and a host in, a status, headers and a
body out); :mod:`xmpplab.server.websocket` sends what they return. Both
documents allow cross-origin reads (``Access-Control-Allow-Origin: *``, as
XEP-0156 section 3 recommends), since the page of a web client is rarely
served by the XMPP server itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

#: Where the WebSocket endpoint is (the path Prosody and ejabberd use too).
WEBSOCKET_PATH = "/xmpp-websocket"
#: The XEP-0156 link relation of a WebSocket endpoint (XEP-0156 section 3.3).
REL_WEBSOCKET = "urn:xmpp:alt-connections:websocket"
NS_XRD = "http://docs.oasis-open.org/ns/xri/xrd-1.0"
HOST_META = "/.well-known/host-meta"
HOST_META_JSON = "/.well-known/host-meta.json"


def websocket_url(host: str, secure: bool) -> str:
    """``ws://HOST/xmpp-websocket``, or ``wss://`` over TLS (RFC 7395 section 3.9); HOST may carry a port."""
    return f"{'wss' if secure else 'ws'}://{host}{WEBSOCKET_PATH}"


def host_meta_xrd(url: str) -> str:
    """The XRD document of XEP-0156 section 3.2 that points at ``url``."""
    return (f"<?xml version='1.0' encoding='utf-8'?>\n<XRD xmlns='{NS_XRD}'>\n"
            f"  <Link rel='{REL_WEBSOCKET}' href={quoteattr(url)}/>\n</XRD>\n")


def host_meta_json(url: str) -> str:
    """The JSON form of the same document (XEP-0156 section 3.2, RFC 6415 appendix A)."""
    return json.dumps({"links": [{"rel": REL_WEBSOCKET, "href": url}]}, indent=2) + "\n"


@dataclass
class HttpRequest:
    """A plain HTTP request on the server's HTTP port, for the ``http-request`` event.

    A module that serves ``path`` sets ``response`` to ``(status, headers, body)`` and returns True.
    """

    method: str
    path: str
    host: str  # the Host header: what the browser used to reach us
    secure: bool
    response: tuple[int, dict, bytes] | None = None


def respond(method: str, path: str, host: str, secure: bool) -> tuple[int, dict, bytes]:
    """The answer to an HTTP request that is not a WebSocket handshake: ``(status, headers, body)``."""
    path = path.partition("?")[0]
    if path not in (HOST_META, HOST_META_JSON):
        return 404, {"Content-Type": "text/plain; charset=utf-8"}, (
            f"not found: this XMPP server serves {WEBSOCKET_PATH} (RFC 7395) and {HOST_META} "
            f"(XEP-0156)\n").encode()
    if method not in ("GET", "HEAD"):
        return 405, {"Allow": "GET, HEAD", "Content-Type": "text/plain; charset=utf-8"}, b"use GET\n"
    url = websocket_url(host, secure)
    if path == HOST_META_JSON:
        body, kind = host_meta_json(url), "application/json"
    else:
        body, kind = host_meta_xrd(url), "application/xrd+xml"
    return 200, {"Content-Type": f"{kind}; charset=utf-8", "Access-Control-Allow-Origin": "*"}, (
        body.encode() if method == "GET" else b"")


def _port(text: str) -> int:
    import argparse

    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"a port is a number from 0 to 65535, not {text!r}")
    return int(text)


def add_arguments(parser) -> None:
    """Add ``--http-port`` to ``xmpplab serve``."""
    parser.add_argument("--http-port", type=_port, metavar="PORT",
                        help="also serve XMPP over WebSocket (RFC 7395) for browser clients on this port, at "
                             f"ws://HOST:PORT{WEBSOCKET_PATH} (wss:// while TLS is on), with XEP-0156 "
                             f"discovery at {HOST_META}, and file sharing (XEP-0363 HTTP File Upload, "
                             "upload.DOMAIN); off by default")


def describe(server) -> str | None:
    """One line for ``xmpplab serve`` saying where browser clients connect, or None without an HTTP port."""
    port = getattr(server, "http_port", None)
    if port is None:
        return None
    host = server.address[0]
    host = f"[{host}]" if ":" in host else host
    url = websocket_url(f"{host}:{port}", server.tls_context is not None)
    return f"  browser clients connect to {url} (RFC 7395; discovery at {HOST_META})"
