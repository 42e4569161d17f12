"""The admin page as a part of the service (``nms run``), served by waitress in its own threads."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import threading
from typing import Any

from waitress import create_server
from waitress.wasyncore import close_all

from nms.admin.app import MAX_UPLOAD, create_app
from nms.admin.interfaces import AdminDistrict, Runner
from nms.admin.metrics import AdminCollector
from nms.admin.settings import AdminSettings
from nms.admin.workspace import Workspace, admin_settings

log = logging.getLogger(__name__)
CONNECTION_LIMIT = 100


def warn_if_exposed(host: str, secure_cookies: bool) -> bool:
    """Warn (once, at start) when the page listens beyond this host without TLS: passwords and session
    cookies would cross the network in clear. Returns whether it warned."""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if loopback or secure_cookies:
        return False
    log.warning("the admin page listens on %s without TLS: passwords and session cookies cross the network in "
                "clear. Put it behind a TLS proxy and set admin.secure_cookies: true, or listen on 127.0.0.1 "
                "(see SECURITY.md)", host or "every address")
    return True


class AdminService:
    """``AdminService(district, runner=runner)``; ``runner`` may also be given later with :meth:`attach`.

    The runner (:class:`nms.service.ServiceRunner`) gives the page the running services and the event
    loop on which changes are applied. Without one the page edits the files and asks a running
    service to reload over HTTP.
    """

    name = "admin"

    def __init__(self, district: AdminDistrict, *, runner: Runner | None = None, listen: str | None = None,
                 settings: AdminSettings | None = None):
        self.settings = admin_settings(district, settings)
        if listen is not None:
            self.settings = self.settings.model_copy(update={"listen": listen})
        self.workspace = Workspace(district, self.settings, runner)
        self.app = create_app(self.workspace)
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.host, _, port = self.settings.listen.rpartition(":")
        self.host = self.host.strip("[]")
        self.port = int(port)
        warn_if_exposed(self.host, self.settings.secure_cookies)

    def attach(self, runner: Runner) -> None:
        self.workspace.runner = runner

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start_threads(self) -> None:
        # waitress refuses a body over the limit as soon as it sees the headers (413), instead of
        # reading it all first; headers are capped too, and so are open connections.
        self._server = create_server(self.app, host=self.host, port=self.port, threads=self.settings.threads,
                                     ident="nms-admin", clear_untrusted_proxy_headers=True,
                                     channel_timeout=60, connection_limit=CONNECTION_LIMIT,
                                     max_request_body_size=MAX_UPLOAD + 64 * 1024,
                                     max_request_header_size=64 * 1024, cleanup_interval=10)
        self.port = int(self._server.effective_port)
        self._thread = threading.Thread(target=self._server.run, name="nms-admin", daemon=True)
        self._thread.start()
        log.info("admin page on %s", self.url)

    def stop_threads(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.task_dispatcher.shutdown()
            close_all(server._map)
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    async def start(self) -> None:
        self.start_threads()

    async def stop(self) -> None:
        await asyncio.to_thread(self.stop_threads)

    def reload(self, district: AdminDistrict) -> None:
        self.workspace.set_district(district)

    def collectors(self) -> list[AdminCollector]:
        return [AdminCollector(self.app.extensions["nms_admin"])]

    def close(self) -> None:
        self.stop_threads()
        self.workspace.close()
