"""NetBox's REST API (via pynetbox) as an inventory source."""

from __future__ import annotations

import sys
from typing import Any
from urllib.parse import urlsplit

import pynetbox
import requests
from requests.adapters import HTTPAdapter
from tqdm import tqdm

from nms.inventory.models import Inventory
from nms.inventory.netbox.errors import NetBoxError, netbox_errors, safe_url
from nms.inventory.netbox.mapping import NetBoxMapper, NetBoxMapping
from nms.inventory.sources import DeviceReferences


class _TimeoutAdapter(HTTPAdapter):
    """pynetbox passes no timeout, and requests waits forever by default."""

    def __init__(self, timeout: float):
        super().__init__()
        self.timeout = timeout

    def send(self, request: Any, **kwargs: Any) -> Any:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().send(request, **kwargs)


def _records(endpoint: Any) -> list[dict[str, Any]]:
    return [dict(r) for r in endpoint.all()]


class NetBoxSource:
    """Reads sites, devices, roles, tags and prefixes from NetBox's REST API (via pynetbox)."""

    name = "netbox"

    def __init__(self, url: str, token: str, *, defaults: NetBoxMapping | None = None, progress: bool = False,
                 snmp: DeviceReferences | None = None, timeout: float = 10.0):
        self.url = url.rstrip("/")
        self.token = token
        self.mapping = defaults or NetBoxMapping()
        self.progress = progress
        self.snmp = snmp
        self.timeout = timeout
        self.skipped: list[str] = []  # what could not be imported, and why
        self.warnings: list[str] = []  # imported, but worth a look
        self.netbox_version: str | None = None

    def _api(self) -> pynetbox.api:
        api = pynetbox.api(self.url, token=self.token)
        adapter = _TimeoutAdapter(self.timeout)
        api.http_session.mount("http://", adapter)
        api.http_session.mount("https://", adapter)
        return api

    def load(self) -> Inventory:
        mapper = NetBoxMapper(self.mapping, self.snmp)
        self.skipped, self.warnings = mapper.skipped, mapper.warnings
        with netbox_errors(self.url):
            if not urlsplit(self.url).scheme.startswith("http"):
                raise requests.exceptions.InvalidSchema(self.url)
            api = self._api()
            status = api.status()
            if not isinstance(status, dict) or "netbox-version" not in status:
                raise NetBoxError(f"{safe_url(self.url)}/api/status/ does not look like NetBox's status")
            self.netbox_version = str(status["netbox-version"])
            role_names = {r["slug"]: r.get("name", r["slug"]) for r in _records(api.dcim.device_roles)}
            mapper.check_tags(_records(api.extras.tags))
            raw_sites = _records(api.dcim.sites)
            subnets = mapper.subnets(_records(api.ipam.prefixes))
            sites = mapper.sites(raw_sites, subnets)
            devices_rs = api.dcim.devices.all()
            total = len(devices_rs)
            raw_devices = [dict(r) for r in tqdm(devices_rs, total=total, desc="NetBox devices", unit="dev",
                                                 file=sys.stderr, disable=not self.progress)]
            devices = mapper.devices(raw_devices, {s.id for s in sites}, role_names)
        return Inventory(sites=sorted(sites, key=lambda s: s.id), devices=sorted(devices, key=lambda d: d.name))

