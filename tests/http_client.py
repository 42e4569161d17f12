"""A browser-like HTTP client for attacking a running admin page from outside: cookies, CSRF tokens,
and a chosen loopback source address (so one test can be several clients)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from requests.adapters import HTTPAdapter

from tests.admin_fixtures import PASSWORDS, LightAdmin, csrf_of, make_light_admin, version_of_page


class _SourceAdapter(HTTPAdapter):
    def __init__(self, source: str):
        self.source = source
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self.source, 0)
        super().init_poolmanager(*args, **kwargs)


class Browser:
    def __init__(self, base_url: str, source: str = "127.0.0.1", timeout: float = 30.0):
        self.base = base_url.rstrip("/")
        self.timeout = timeout
        self.s = requests.Session()
        self.s.mount("http://", _SourceAdapter(source))

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.s.get(self.base + path, timeout=self.timeout, allow_redirects=False, **kw)

    def post(self, path: str, data: Any = None, **kw: Any) -> requests.Response:
        return self.s.post(self.base + path, data=data, timeout=self.timeout, allow_redirects=False, **kw)

    def token(self, page: str = "/login") -> str:
        return csrf_of(self.get(page).text)

    def version(self, page: str) -> tuple[str, str]:
        text = self.get(page).text
        return csrf_of(text), version_of_page(text)

    def login(self, user: str, password: str, next_: str | None = None) -> requests.Response:
        data = {"username": user, "password": password, "csrf_token": self.token()}
        if next_ is not None:
            data["next"] = next_
        return self.post("/login", data)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[LightAdmin]:
    """The admin page as `nms admin` serves it: waitress on a free loopback port, users of every role."""
    la = make_light_admin(tmp_path / "page")
    la.service.start_threads()
    try:
        yield la
    finally:
        la.service.stop_threads()
        la.service.close()


def logged_in(la: LightAdmin, role: str, source: str = "127.0.0.1") -> Browser:
    b = Browser(la.service.url, source)
    assert b.login(role, PASSWORDS[role]).status_code == 302
    return b
