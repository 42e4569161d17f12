"""NetBox's and the HTTP transport's failures, turned into one clear :class:`NetBoxError`."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import requests
from pynetbox.core.query import ContentError, RequestError

from nms.inventory.sources import SourceError


class NetBoxError(SourceError):
    """NetBox could not be read: unreachable, refused the token, or answered something unusable."""



def safe_url(url: str) -> str:
    """The URL without any user:password part, for messages."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))



@contextlib.contextmanager
def netbox_errors(url: str) -> Iterator[None]:
    """Turn the transport's and pynetbox's exceptions into one clear NetBoxError."""
    where = safe_url(url)
    try:
        yield
    except RequestError as exc:
        code = exc.req.status_code
        detail = _detail(exc.req)
        if code in (401, 403):
            raise NetBoxError(f"NetBox at {where} refused access (HTTP {code}{detail}): "
                              "check the API token and its permissions") from None
        if code == 404:
            raise NetBoxError(f"NetBox at {where}: {exc.req.url} not found (HTTP 404): "
                              "give the NetBox base URL, without /api") from None
        raise NetBoxError(f"NetBox at {where} answered HTTP {code} {exc.req.reason}{detail} "
                          f"for {exc.req.url}") from None
    except (ContentError, requests.exceptions.JSONDecodeError):
        raise NetBoxError(f"{where} did not answer with valid JSON: is it a NetBox server?") from None
    except requests.exceptions.Timeout:
        raise NetBoxError(f"NetBox at {where} did not answer in time") from None
    except requests.exceptions.ConnectionError as exc:
        raise NetBoxError(f"cannot connect to NetBox at {where}: {_reason(exc)}") from None
    except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
            requests.exceptions.InvalidSchema):
        raise NetBoxError(f"invalid NetBox URL {where!r}: expected http(s)://host[:port]") from None
    except requests.exceptions.RequestException as exc:
        raise NetBoxError(f"request to NetBox at {where} failed: {exc}") from None
    except (KeyError, TypeError, AttributeError) as exc:
        raise NetBoxError(f"NetBox at {where} answered with data of an unexpected shape "
                          f"({type(exc).__name__}: {exc})") from None


def _detail(resp: requests.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return ""
    if isinstance(body, dict) and isinstance(body.get("detail"), str):
        return f": {body['detail']}"
    return ""


def _reason(exc: Exception) -> str:
    text = str(exc)
    for known in ("Connection refused", "Name or service not known", "No route to host",
                  "Network is unreachable", "Connection reset by peer"):
        if known in text:
            return known.lower()
    return text

