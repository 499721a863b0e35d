"""XEP-0363 HTTP File Upload: a service at ``upload.<host>`` hands out slots; files go over the HTTP port.

The server lists the service in its disco#items (§3); its disco#info says what it is
(``store/file``), that it speaks ``urn:xmpp:http:upload:0`` and how large a file may be
(the ``max-file-size`` field of a XEP-0128 form). A client asks for a slot (§4)::

    C: <iq type='get' to='upload.example.com' id='u1'>
         <request xmlns='urn:xmpp:http:upload:0' filename='balcony.jpg' size='23456' content-type='image/jpeg'/></iq>
    S: <iq type='result' from='upload.example.com' to='juliet@example.com/balcony' id='u1'>
         <slot xmlns='urn:xmpp:http:upload:0'>
           <put url='https://127.0.0.1:5280/upload/Xy3…/balcony.jpg'>
             <header name='Authorization'>Bearer 9f…</header></put>
           <get url='https://127.0.0.1:5280/upload/Xy3…/balcony.jpg'/></slot></iq>

then PUTs the file there with that header (§7, :mod:`xmpplab.server.upload_http`) and
shares the GET URL, in a message body say. Refusals (§6): a file over
``max_file_bytes`` is ``not-acceptable`` with ``<file-too-large><max-file-size/>``; an
account past its ``quota_bytes`` gets ``resource-constraint`` with ``<retry stamp=…/>``;
an address that is not an account of the service's domain gets ``not-allowed``.

Files are served on the server's HTTP port (``Server(http_port=…)``, ``xmpplab serve
--http-port N``): over HTTPS while TLS is on. A server without one has no upload
service; the module says so in one log line. Settings::

    Server(..., http_port=5280, modules=(*DEFAULT_MODULES, Upload(max_file_bytes=2 * MiB, quota_bytes=20 * MiB)))

``base_url`` (``https://chat.school.example:5280``) replaces the scheme, address and port in
the URLs, for a server reached under a name. ``payer`` makes several accounts share one quota
(a class server: a student's practice accounts count against the student). ``server.uploads`` is the
:class:`~xmpplab.server.upload_store.UploadStore` (the files, the open slots).
"""

from __future__ import annotations

import copy
import datetime
import logging

from ...errors import error_reply
from ...xml import NS_DISCO_INFO, NS_DISCO_ITEMS, NS_PING, element, sub
from ..forms import Form
from ..limits import MiB
from ..slots import Slot
from ..upload_http import PREFIX, file_path, get, other, put
from ..upload_store import QuotaReached, UploadStore

log = logging.getLogger("xmpplab.server")

NS_UPLOAD = "urn:xmpp:http:upload:0"
NAME = "HTTP File Upload"
STORE: Slot[UploadStore] = Slot("upload: the files")


class Upload:
    """The module, with its settings: the largest file, each account's quota, how long files are kept."""

    name = "upload"

    def __init__(self, max_file_bytes: int = 10 * MiB, quota_bytes: int = 100 * MiB, retention_days: float = 30,
                 base_url: str | None = None, payer=None):
        if max_file_bytes <= 0 or quota_bytes <= 0 or retention_days <= 0:
            raise ValueError("an upload service takes files of more than 0 bytes, a quota of more than 0 bytes, "
                             "and keeps them more than 0 days")
        self.max_file_bytes = max_file_bytes
        self.quota_bytes = quota_bytes
        self.retention_days = retention_days
        self.base_url = base_url.rstrip("/") if base_url else None
        self.payer = payer  # bare JID -> whose quota its files count against (upload_store.py); None: its own
        self.server = None
        self.services: dict[str, str] = {}  # upload.<host> -> host

    def __repr__(self) -> str:
        return f"<Upload max {self.max_file_bytes} bytes a file, {self.quota_bytes} an account>"

    def setup(self, server) -> None:
        """Start a service at ``upload.<host>`` per host, when the server has an HTTP port."""
        self.server = server
        if server.requested_http_port is None:
            log.info("upload: no HTTP port (http_port=, --http-port), so no XEP-0363 file upload service")
            return
        store = STORE.put(server, UploadStore(server.storage, server.db_path, self.quota_bytes,
                                              self.retention_days, self.payer))
        server.provide("uploads", store)
        for host in server.hosts:
            domain = f"upload.{host}"
            if domain not in server.hosts and domain not in server.components:
                self.services[domain] = host
                server.add_component(domain, self.component)
        server.hook("disco-items/host", lambda query: [(d, NAME) for d, h in self.services.items()
                                                       if h == query.host])
        server.hook("http-request", self.download)
        server.hook("http-exchange", self.exchange)
        server.hook("account-removed", lambda bare: store.forget(str(bare)))
        server.hook("server-started", lambda _server: store.open())
        server.hook("server-stopped", lambda _server: store.close())

    # XMPP: disco (§3) and slots (§4, §6) --------------------------------------------------
    def component(self, event) -> None:
        """Every stanza to ``upload.<host>``: disco, ping and slot requests; other iqs get service-unavailable."""
        if event.from_ is None or event.kind != "iq" or event.type not in ("get", "set"):
            return
        payload = event.payload
        tag = payload.tag if payload is not None else ""
        if event.type == "get" and tag == f"{{{NS_UPLOAD}}}request":
            return self.request(event)
        if event.type == "get" and tag in (f"{{{NS_DISCO_INFO}}}query", f"{{{NS_DISCO_ITEMS}}}query") \
                and not payload.get("node"):
            event.reply(self.info() if tag.startswith(f"{{{NS_DISCO_INFO}") else element("query", ns=NS_DISCO_ITEMS))
            return
        if event.type == "get" and tag == f"{{{NS_PING}}}ping":
            event.reply()
            return
        event.error("service-unavailable")

    def info(self):
        """§3: identity store/file, the feature, and the max-file-size form (XEP-0128)."""
        query = element("query", ns=NS_DISCO_INFO)
        sub(query, "identity", {"category": "store", "type": "file", "name": NAME})
        for var in sorted((NS_DISCO_INFO, NS_DISCO_ITEMS, NS_PING, NS_UPLOAD)):
            sub(query, "feature", {"var": var})
        form = Form(form_type=NS_UPLOAD)
        form.field("max-file-size", values=[self.max_file_bytes])
        query.append(form.element("result"))
        return query

    def request(self, event) -> None:
        """§4: a slot, or the refusal of §6."""
        asker, host = event.from_, self.services.get(event.to.domain)
        payload = event.payload
        if asker.local is None or asker.domain != host or not self.server.user_exists(asker.bare):
            return self._refuse(event, "not-allowed", f"only accounts of {host} may upload files here")
        name, size = payload.get("filename") or "", payload.get("size") or ""
        if not name or len(name) > 255 or name in (".", "..") or any(c in name for c in "/\\") \
                or any(ord(c) < 32 or ord(c) == 127 for c in name):
            return self._refuse(event, "bad-request", "the filename must be a plain name (no / or control "
                                                      "characters, at most 255 characters)")
        if not size.isdigit() or int(size) <= 0:
            return self._refuse(event, "bad-request", "size must be the file's length in bytes (XEP-0363 §4)")
        if int(size) > self.max_file_bytes:
            return self._refuse(event, "not-acceptable", f"File too large. The maximum file size is "
                                                         f"{self.max_file_bytes} bytes", too_large=True)
        content_type = (payload.get("content-type") or "application/octet-stream").strip()
        if not content_type or any(ord(c) < 32 for c in content_type):
            return self._refuse(event, "bad-request", "content-type is not a media type")
        try:
            slot = self.uploads.new_slot(str(asker.bare), name, int(size), content_type)
        except QuotaReached as exc:
            return self._refuse(event, "resource-constraint",
                                f"Quota reached: {exc.reason}",
                                retry=exc.retry)
        url = self.url(file_path(slot.id, name))
        answer = element("slot", ns=NS_UPLOAD)
        put_el = sub(answer, "put", {"url": url})
        sub(put_el, "header", {"name": "Authorization"}).text = f"Bearer {slot.secret}"
        sub(answer, "get", {"url": url})
        event.reply(answer)

    def _refuse(self, event, condition: str, text: str, *, too_large: bool = False, retry: float | None = None):
        """§6: the error, with the request echoed and the upload namespace's details."""
        if event.type == "error":
            return
        reply = error_reply(event.stanza, condition, text, "wait" if retry is not None else None)
        reply.insert(0, copy.deepcopy(event.payload))
        err = reply[-1]
        if too_large:
            big = sub(err, "file-too-large", ns=NS_UPLOAD)
            sub(big, "max-file-size", ns=NS_UPLOAD).text = str(self.max_file_bytes)
        if retry is not None:
            stamp = datetime.datetime.fromtimestamp(retry, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            sub(err, "retry", {"stamp": stamp}, ns=NS_UPLOAD)
        self.server.route(reply)

    @property
    def uploads(self) -> UploadStore:
        """The server's upload store."""
        return STORE.of(self.server)

    def url(self, path: str) -> str:
        """The full URL of ``path`` on the HTTP port: https while the server has TLS (§4 wants TLS)."""
        if self.base_url:
            return self.base_url + path
        host = self.server.address[0]
        host = f"[{host}]" if ":" in host else host
        scheme = "https" if self.server.tls_context is not None else "http"
        return f"{scheme}://{host}:{self.server.http_port}{path}"

    # HTTP (§7) ------------------------------------------------------------------------------
    def download(self, request) -> bool:
        """GET of an upload path."""
        if not request.path.startswith(PREFIX) or request.method != "GET":
            return False
        request.response = get(self.uploads, request.path.partition("?")[0])
        return True

    def exchange(self, exchange) -> bool:
        """PUT, HEAD and OPTIONS on an upload path."""
        if not exchange.path.startswith(PREFIX):
            return False
        if exchange.method == "PUT":
            put(self.uploads, exchange)
        else:
            other(self.uploads, exchange)
        return True


def setup(server):
    """The default service: 10 MiB a file, 100 MiB an account, files kept 30 days."""
    Upload().setup(server)
