"""A small NetBox REST API on 127.0.0.1 for tests: the real JSON shapes of NetBox 4.1 (and the
4.2+ prefix ``scope``), served over real HTTP so pynetbox runs unmodified against it.

What it implements, as NetBox does:

* ``/api/`` (root), ``/api/status/``, and list/detail views of ``dcim/sites``, ``dcim/devices``,
  ``dcim/device-roles``, ``extras/tags``, ``ipam/prefixes`` and ``ipam/ip-addresses``;
* limit/offset pagination with NetBox's rules (default page 50, ``limit=0`` means
  ``MAX_PAGE_SIZE``, which is small here so that lists span several pages) and absolute
  ``next``/``previous`` links;
* the ``API-Version`` header on every answer, ``Authorization: Token <t>`` checking with
  ``403 {"detail": "Invalid token"}``;
* nested objects as NetBox nests them (``role``, ``site``, ``device_type.manufacturer``,
  ``primary_ip4`` with ``family: {value, label}`` and ``address: "a.b.c.d/len"``, ``tags``,
  ``custom_fields`` listing every defined field, null when unset).

``malformed=True`` makes every answer broken JSON; ``requests`` records the paths asked for, and
the callables in ``on_request`` run on each request (to change things while a client reads).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

CREATED = "2024-03-04T01:02:03.456789Z"
UPDATED = "2024-05-06T07:08:09.123456Z"

SITE_CUSTOM_FIELDS = ("category", "installed", "name_en")
DEVICE_CUSTOM_FIELDS = ("installed", "snmp_credentials", "snmp_port", "snmp_profile")


@dataclass
class FakeTag:
    id: int
    name: str
    slug: str
    color: str = "9e9e9e"


@dataclass
class FakeRole:
    id: int
    name: str
    slug: str
    color: str = "2196f3"


@dataclass
class FakeManufacturer:
    id: int
    name: str
    slug: str


@dataclass
class FakeSite:
    id: int
    name: str
    slug: str
    tags: list[str] = field(default_factory=list)  # tag slugs
    custom_fields: dict[str, Any] = field(default_factory=dict)
    physical_address: str = ""
    status: str = "active"
    latitude: str | None = None  # NetBox serialises the decimal fields as strings
    longitude: str | None = None


@dataclass
class FakeDevice:
    id: int
    name: str | None
    role: str  # role slug
    site: str  # site slug
    manufacturer: str  # manufacturer slug
    model: str
    status: str = "active"
    primary_ip4: str | None = None  # "127.20.1.1/24"
    primary_ip6: str | None = None
    tags: list[str] = field(default_factory=list)
    custom_fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class FakePrefix:
    id: int
    prefix: str
    site: str | None  # site slug


STATUS_LABELS = {
    "active": "Active", "planned": "Planned", "staged": "Staged", "offline": "Offline", "failed": "Failed",
    "inventory": "Inventory", "decommissioning": "Decommissioning", "retired": "Retired", "container": "Container",
    "reserved": "Reserved", "deprecated": "Deprecated",
}


class NetBoxData:
    """The objects in the fake NetBox, and their rendering as NetBox's API returns them."""

    def __init__(self) -> None:
        self.tags: list[FakeTag] = []
        self.roles: list[FakeRole] = []
        self.manufacturers: list[FakeManufacturer] = []
        self.sites: list[FakeSite] = []
        self.devices: list[FakeDevice] = []
        self.prefixes: list[FakePrefix] = []

    # -- building ---------------------------------------------------------------------------

    def add_tag(self, name: str, slug: str | None = None) -> FakeTag:
        tag = FakeTag(len(self.tags) + 1, name, slug or _slugify(name))
        self.tags.append(tag)
        return tag

    def add_role(self, name: str, slug: str) -> FakeRole:
        role = FakeRole(len(self.roles) + 1, name, slug)
        self.roles.append(role)
        return role

    def add_manufacturer(self, name: str, slug: str) -> FakeManufacturer:
        m = FakeManufacturer(len(self.manufacturers) + 1, name, slug)
        self.manufacturers.append(m)
        return m

    def add_site(self, name: str, slug: str, **kw: Any) -> FakeSite:
        site = FakeSite(len(self.sites) + 1, name, slug, **kw)
        self.sites.append(site)
        return site

    def add_device(self, name: str | None, role: str, site: str, manufacturer: str, model: str, **kw: Any
                   ) -> FakeDevice:
        dev = FakeDevice(max((d.id for d in self.devices), default=0) + 1, name, role, site, manufacturer,
                         model, **kw)
        self.devices.append(dev)
        return dev

    def add_prefix(self, prefix: str, site: str | None) -> FakePrefix:
        p = FakePrefix(len(self.prefixes) + 1, prefix, site)
        self.prefixes.append(p)
        return p

    def device(self, name: str) -> FakeDevice:
        return next(d for d in self.devices if d.name == name)

    def _tag(self, slug: str) -> FakeTag:
        return next(t for t in self.tags if t.slug == slug)

    def _role(self, slug: str) -> FakeRole:
        return next(r for r in self.roles if r.slug == slug)

    def _site(self, slug: str) -> FakeSite:
        return next(s for s in self.sites if s.slug == slug)

    def _manufacturer(self, slug: str) -> FakeManufacturer:
        return next(m for m in self.manufacturers if m.slug == slug)

    # -- rendering --------------------------------------------------------------------------

    def ip_addresses(self) -> list[tuple[int, str, FakeDevice]]:
        """(id, address, device) for every primary IP: NetBox keeps them as IP address objects."""
        out = []
        for dev in sorted(self.devices, key=lambda d: d.id):
            for addr in (dev.primary_ip4, dev.primary_ip6):
                if addr:
                    out.append((len(out) + 1, addr, dev))
        return out

    def _ip_id(self, dev: FakeDevice, addr: str) -> int:
        return next(i for i, a, d in self.ip_addresses() if d is dev and a == addr)


def _slugify(name: str) -> str:
    out = "".join(c if c.isalnum() or c in "-_" else "-" for c in name.lower())
    return "-".join(p for p in out.split("-") if p)


class _Renderer:
    """NetBox JSON for one request (links are absolute, built from the request's Host)."""

    def __init__(self, data: NetBoxData, base: str, api_version: str):
        self.d = data
        self.base = base
        self.scoped_prefixes = tuple(int(x) for x in api_version.split(".")[:2]) >= (4, 2)

    def _url(self, path: str, obj_id: int) -> tuple[str, str]:
        return f"{self.base}/api/{path}/{obj_id}/", f"{self.base}/{path}/{obj_id}/"

    @staticmethod
    def _choice(value: str) -> dict[str, str]:
        return {"value": value, "label": STATUS_LABELS.get(value, value.title())}

    def nested_tag(self, slug: str) -> dict[str, Any]:
        t = self.d._tag(slug)
        url, display_url = self._url("extras/tags", t.id)
        return {"id": t.id, "url": url, "display_url": display_url, "display": t.name, "name": t.name,
                "slug": t.slug, "color": t.color}

    def tag(self, t: FakeTag) -> dict[str, Any]:
        url, display_url = self._url("extras/tags", t.id)
        tagged = sum(t.slug in o.tags for o in [*self.d.sites, *self.d.devices])
        return {"id": t.id, "url": url, "display_url": display_url, "display": t.name, "name": t.name,
                "slug": t.slug, "color": t.color, "description": "", "object_types": [],
                "tagged_items": tagged, "created": CREATED, "last_updated": UPDATED}

    def nested_role(self, slug: str) -> dict[str, Any]:
        r = self.d._role(slug)
        url, _ = self._url("dcim/device-roles", r.id)
        return {"id": r.id, "url": url, "display": r.name, "name": r.name, "slug": r.slug, "description": ""}

    def role(self, r: FakeRole) -> dict[str, Any]:
        url, display_url = self._url("dcim/device-roles", r.id)
        return {"id": r.id, "url": url, "display_url": display_url, "display": r.name, "name": r.name,
                "slug": r.slug, "color": r.color, "vm_role": True, "config_template": None, "description": "",
                "tags": [], "custom_fields": {}, "created": CREATED, "last_updated": UPDATED,
                "device_count": sum(d.role == r.slug for d in self.d.devices), "virtualmachine_count": 0}

    def nested_site(self, slug: str) -> dict[str, Any]:
        s = self.d._site(slug)
        url, _ = self._url("dcim/sites", s.id)
        return {"id": s.id, "url": url, "display": s.name, "name": s.name, "slug": s.slug, "description": ""}

    def site(self, s: FakeSite) -> dict[str, Any]:
        url, display_url = self._url("dcim/sites", s.id)
        return {
            "id": s.id, "url": url, "display_url": display_url, "display": s.name, "name": s.name, "slug": s.slug,
            "status": self._choice(s.status), "region": None, "group": None, "tenant": None, "facility": "",
            "time_zone": "Asia/Seoul", "description": "", "physical_address": s.physical_address,
            "shipping_address": "", "latitude": s.latitude, "longitude": s.longitude, "comments": "", "asns": [],
            "tags": [self.nested_tag(t) for t in s.tags],
            "custom_fields": {k: s.custom_fields.get(k) for k in SITE_CUSTOM_FIELDS},
            "created": CREATED, "last_updated": UPDATED, "circuit_count": 0,
            "device_count": sum(d.site == s.slug for d in self.d.devices),
            "prefix_count": sum(p.site == s.slug for p in self.d.prefixes),
            "rack_count": 0, "virtualmachine_count": 0, "vlan_count": 0,
        }

    def nested_ip(self, dev: FakeDevice, addr: str | None) -> dict[str, Any] | None:
        if not addr:
            return None
        ip_id = self.d._ip_id(dev, addr)
        url, _ = self._url("ipam/ip-addresses", ip_id)
        family = 6 if ":" in addr else 4
        return {"id": ip_id, "url": url, "display": addr, "family": {"value": family, "label": f"IPv{family}"},
                "address": addr, "description": ""}

    def nested_device(self, dev: FakeDevice) -> dict[str, Any]:
        url, _ = self._url("dcim/devices", dev.id)
        return {"id": dev.id, "url": url, "display": dev.name or f"Unnamed device ({dev.id})", "name": dev.name,
                "description": ""}

    def device(self, dev: FakeDevice) -> dict[str, Any]:
        url, display_url = self._url("dcim/devices", dev.id)
        m = self.d._manufacturer(dev.manufacturer)
        m_url, _ = self._url("dcim/manufacturers", m.id)
        type_id = 100 + m.id
        t_url, _ = self._url("dcim/device-types", type_id)
        ip4 = self.nested_ip(dev, dev.primary_ip4)
        ip6 = self.nested_ip(dev, dev.primary_ip6)
        return {
            "id": dev.id, "url": url, "display_url": display_url,
            "display": dev.name or f"{dev.model} ({dev.id})", "name": dev.name,
            "device_type": {
                "id": type_id, "url": t_url, "display": dev.model,
                "manufacturer": {"id": m.id, "url": m_url, "display": m.name, "name": m.name, "slug": m.slug,
                                 "description": ""},
                "model": dev.model, "slug": _slugify(dev.model), "description": "",
            },
            "role": self.nested_role(dev.role), "tenant": None, "platform": None, "serial": "",
            "asset_tag": None, "site": self.nested_site(dev.site), "location": None, "rack": None,
            "position": None, "face": None, "latitude": None, "longitude": None, "parent_device": None,
            "status": self._choice(dev.status), "airflow": None,
            "primary_ip": ip4 or ip6, "primary_ip4": ip4, "primary_ip6": ip6, "oob_ip": None,
            "cluster": None, "virtual_chassis": None, "vc_position": None, "vc_priority": None,
            "description": "", "comments": "", "config_template": None, "config_context": {},
            "local_context_data": None, "tags": [self.nested_tag(t) for t in dev.tags],
            "custom_fields": {k: dev.custom_fields.get(k) for k in DEVICE_CUSTOM_FIELDS},
            "created": CREATED, "last_updated": UPDATED,
            "console_port_count": 0, "console_server_port_count": 0, "power_port_count": 0,
            "power_outlet_count": 0, "interface_count": 1, "front_port_count": 0, "rear_port_count": 0,
            "device_bay_count": 0, "module_bay_count": 0, "inventory_item_count": 0,
        }

    def prefix(self, p: FakePrefix) -> dict[str, Any]:
        url, display_url = self._url("ipam/prefixes", p.id)
        family = 6 if ":" in p.prefix else 4
        out: dict[str, Any] = {
            "id": p.id, "url": url, "display_url": display_url, "display": p.prefix,
            "family": {"value": family, "label": f"IPv{family}"}, "prefix": p.prefix,
        }
        nested = self.nested_site(p.site) if p.site else None
        if self.scoped_prefixes:
            out |= {"vrf": None, "scope_type": "dcim.site" if nested else None,
                    "scope_id": nested["id"] if nested else None, "scope": nested}
        else:
            out |= {"site": nested, "vrf": None}
        out |= {"tenant": None, "vlan": None, "status": self._choice("active"), "role": None,
                "is_pool": False, "mark_utilized": False, "description": "", "comments": "", "tags": [],
                "custom_fields": {}, "created": CREATED, "last_updated": UPDATED, "children": 0, "_depth": 0}
        return out

    def ip_address(self, ip_id: int, addr: str, dev: FakeDevice) -> dict[str, Any]:
        url, display_url = self._url("ipam/ip-addresses", ip_id)
        if_url, _ = self._url("dcim/interfaces", dev.id)
        family = 6 if ":" in addr else 4
        return {
            "id": ip_id, "url": url, "display_url": display_url, "display": addr,
            "family": {"value": family, "label": f"IPv{family}"}, "address": addr, "vrf": None, "tenant": None,
            "status": self._choice("active"), "role": None, "assigned_object_type": "dcim.interface",
            "assigned_object_id": dev.id,
            "assigned_object": {"id": dev.id, "url": if_url, "display": "mgmt0",
                                "device": self.nested_device(dev), "name": "mgmt0", "description": "",
                                "cable": None, "_occupied": False},
            "nat_inside": None, "nat_outside": [], "dns_name": "", "description": "", "comments": "",
            "tags": [], "custom_fields": {}, "created": CREATED, "last_updated": UPDATED,
        }

    # -- list views: (objects, filters understood) ---------------------------------------------

    def listing(self, endpoint: str, params: dict[str, str]) -> list[dict[str, Any]] | None:
        d = self.d
        if endpoint == "dcim/sites":
            rows = [self.site(s) for s in sorted(d.sites, key=lambda s: s.name)]
        elif endpoint == "dcim/devices":
            rows = [self.device(x) for x in sorted(d.devices, key=lambda x: (x.name or "", x.id))]
        elif endpoint == "dcim/device-roles":
            rows = [self.role(r) for r in sorted(d.roles, key=lambda r: r.name)]
        elif endpoint == "extras/tags":
            rows = [self.tag(t) for t in sorted(d.tags, key=lambda t: t.name)]
        elif endpoint == "ipam/prefixes":
            rows = [self.prefix(p) for p in d.prefixes]
        elif endpoint == "ipam/ip-addresses":
            rows = [self.ip_address(*x) for x in d.ip_addresses()]
        else:
            return None
        return [r for r in rows if _matches(r, params)]


def _matches(row: dict[str, Any], params: dict[str, str]) -> bool:
    """The few filters NetBox offers that tests use: id, name, slug, site_id, site, device_id, role."""
    for key, want in params.items():
        if key == "id":
            got = row.get("id")
        elif key in ("name", "slug"):
            got = row.get(key)
        elif key == "site_id":
            site = row.get("site") or row.get("scope")
            got = site.get("id") if isinstance(site, dict) else None
        elif key in ("site", "role"):
            obj = row.get(key)
            got = obj.get("slug") if isinstance(obj, dict) else None
        elif key == "device_id":
            obj = (row.get("assigned_object") or {}).get("device")
            got = obj.get("id") if isinstance(obj, dict) else None
        else:
            continue  # NetBox ignores query parameters that are not filters (brief, ordering, ...)
        if str(got) != want:
            return False
    return True


def _replace_query(url: str, **changes: int | None) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    for key, value in changes.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = str(value)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


class FakeNetBox:
    """The HTTP server. Use as a context manager; ``url`` is the NetBox base URL (no ``/api``)."""

    def __init__(self, data: NetBoxData | None = None, *, token: str = "0123456789abcdef0123456789abcdef01234567",
                 api_version: str = "4.1", max_page_size: int = 4, paginate_count: int = 50):
        self.data = data if data is not None else district_seed()
        self.token = token
        self.api_version = api_version
        self.max_page_size = max_page_size
        self.paginate_count = paginate_count
        self.malformed = False
        self.requests: list[str] = []
        self.on_request: list[Callable[[str], None]] = []  # called with each request's path and query
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "server not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeNetBox:
        fake = self

        class Handler(_Handler):
            netbox = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-netbox", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = self._thread = None

    def __enter__(self) -> FakeNetBox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- answering ------------------------------------------------------------------------------

    def answer(self, method: str, target: str, headers: dict[str, str], host: str
               ) -> tuple[int, dict[str, Any] | list[Any]]:
        base = f"http://{host}"
        parts = urlsplit(target)
        path = parts.path
        with self._lock:
            self.requests.append(target)
        for hook in self.on_request:
            hook(target)
        if not path.startswith("/api/"):
            return 404, {"detail": "Not found."}
        auth = headers.get("authorization", "")
        if not auth:
            return 403, {"detail": "Authentication credentials were not provided."}
        scheme, _, given = auth.partition(" ")
        if scheme not in ("Token", "Bearer") or given != self.token:
            return 403, {"detail": "Invalid token"}
        if method != "GET":
            return 405, {"detail": f'Method "{method}" not allowed.'}
        renderer = _Renderer(self.data, base, self.api_version)
        rest = path[len("/api/"):].strip("/")
        if rest == "":
            apps = ["circuits", "core", "dcim", "extras", "ipam", "plugins", "status", "tenancy", "users",
                    "virtualization", "vpn", "wireless"]
            return 200, {app: f"{base}/api/{app}/" for app in apps}
        if rest == "status":
            return 200, {"django-version": "5.0.9", "installed-apps": {"django_filters": "24.3",
                                                                       "rest_framework": "3.15.2"},
                         "netbox-version": f"{self.api_version}.3", "plugins": {}, "python-version": "3.12.3",
                         "rq-workers-running": 1}
        segments = rest.split("/")
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        if len(segments) == 3 and segments[2].isdigit():
            rows = renderer.listing("/".join(segments[:2]), {"id": segments[2]})
            if not rows:
                return 404, {"detail": "No " + segments[1] + " matches the given query."}
            return 200, rows[0]
        if len(segments) != 2:
            return 404, {"detail": "Not found."}
        rows = renderer.listing(rest, {k: v for k, v in params.items() if k not in ("limit", "offset")})
        if rows is None:
            return 404, {"detail": "Not found."}
        return 200, self._page(rows, params, base + target)

    def _page(self, rows: list[Any], params: dict[str, str], full_url: str) -> dict[str, Any]:
        """NetBox's OptionalLimitOffsetPagination, links as DRF builds them."""
        try:
            limit = int(params["limit"]) if "limit" in params else min(self.paginate_count, self.max_page_size)
            if limit < 0:
                raise ValueError
            limit = self.max_page_size if limit == 0 else min(limit, self.max_page_size)
        except ValueError:
            limit = self.paginate_count
        try:
            offset = max(int(params.get("offset", 0)), 0)
        except ValueError:
            offset = 0
        count = len(rows)
        results = rows[offset:offset + limit] if count and offset <= count else []
        nxt = None if offset + limit >= count else _replace_query(full_url, limit=limit, offset=offset + limit)
        if offset <= 0:
            prev = None
        elif offset - limit <= 0:
            prev = _replace_query(full_url, limit=limit, offset=None)
        else:
            prev = _replace_query(full_url, limit=limit, offset=offset - limit)
        return {"count": count, "next": nxt, "previous": prev, "results": results}


class _Handler(BaseHTTPRequestHandler):
    netbox: FakeNetBox
    server_version = "nginx"
    sys_version = ""

    def _respond(self, method: str) -> None:
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, body = self.netbox.answer(method, self.path, headers, self.headers.get("Host", "127.0.0.1"))
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        if self.netbox.malformed:
            data = data[: max(1, len(data) // 2)]  # cut mid-document: not JSON any more
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("API-Version", self.netbox.api_version)
        self.send_header("Vary", "Accept, Cookie, Origin")
        self.send_header("Allow", "GET, HEAD, OPTIONS")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._respond("GET")

    def do_POST(self) -> None:
        self._respond("POST")

    def log_message(self, format: str, *args: Any) -> None:
        pass


def district_seed() -> NetBoxData:
    """A few sites and devices of the district, in every shape the importer has to handle."""
    d = NetBoxData()
    for name in ("category-government", "outdoor"):
        d.add_tag(name)
    d.add_tag("snmp-credentials:district-v3", "snmp-credentials-district-v3")
    d.add_tag("snmp-profile:ap-ubiquiti", "snmp-profile-ap-ubiquiti")
    d.add_tag("category:beach", "category-beach")  # no such category: reported
    for name, slug in (("Backbone switch", "backbone-switch"), ("Access switch", "access-switch"),
                       ("IPS", "ips"), ("Wi-Fi AP", "wifi-ap"), ("Server", "server"),
                       ("Patch panel", "patch-panel")):
        d.add_role(name, slug)
    for name, slug in (("Cisco", "cisco"), ("Ubiquiti", "ubiquiti"), ("AhnLab", "ahnlab"),
                       ("Dell", "dell"), ("Generic", "generic")):
        d.add_manufacturer(name, slug)
    d.add_site("금천구청", "geumcheon-gu-office", tags=["category-government"],
               custom_fields={"installed": 2016, "name_en": "Geumcheon-gu Office"},
               physical_address="서울특별시 금천구\n시흥대로73길 70", latitude="37.456800", longitude="126.895400")
    d.add_site("금천체육공원", "geumcheon-sports-park", custom_fields={"category": "park", "installed": 2022})
    d.add_site("남문시장", "nammun-market", custom_fields={"category": "전통시장", "installed": 2019})
    d.add_site("물품창고", "warehouse")  # no category: reported, with its devices
    d.add_prefix("127.20.1.0/24", "geumcheon-gu-office")
    d.add_prefix("127.20.2.0/24", "geumcheon-sports-park")
    d.add_prefix("127.20.3.0/24", "nammun-market")
    d.add_prefix("127.20.0.0/16", None)  # a container not scoped to a site

    office, park, market = "geumcheon-gu-office", "geumcheon-sports-park", "nammun-market"
    d.add_device("core-sw-01", "backbone-switch", office, "cisco", "C9500-24Y4C", primary_ip4="127.20.1.1/24")
    d.add_device("core-sw-02", "backbone-switch", office, "cisco", "C9500-24Y4C", primary_ip4="127.20.1.2/24")
    d.add_device("access-sw-01", "access-switch", office, "cisco", "C9200-48P", primary_ip4="127.20.1.11/24",
                 custom_fields={"installed": "2022-03-15"})
    d.add_device("access-sw-02", "access-switch", office, "cisco", "C9200-48P", primary_ip4="127.20.1.12/24",
                 status="planned")
    d.add_device("ips-01", "ips", office, "ahnlab", "TrusGuard", primary_ip4="127.20.1.21/24",
                 tags=["snmp-credentials-district-v3"])
    d.add_device("ivr-01", "server", office, "dell", "PowerEdge R350", primary_ip4="127.20.1.31/24",
                 custom_fields={"snmp_profile": "host"})
    d.add_device("ap-park-01", "wifi-ap", park, "cisco", "C9120AXI", primary_ip4="127.20.2.11/24")
    d.add_device("ap-park-02", "wifi-ap", park, "ubiquiti", "U6-Mesh", primary_ip4="127.20.2.12/24",
                 status="staged")
    d.add_device("ap-market-01", "wifi-ap", market, "ubiquiti", "U6-Pro", primary_ip4="127.20.3.11/24",
                 tags=["snmp-profile-ap-ubiquiti", "outdoor"])
    d.add_device("ap-market-02", "wifi-ap", market, "cisco", "C9120AXI")  # no primary IP: reported
    d.add_device("ap-old-01", "wifi-ap", market, "cisco", "AIR-CAP1702I", primary_ip4="127.20.3.13/24",
                 status="failed")
    d.add_device("pp-01", "patch-panel", office, "generic", "24-port panel")  # role not mapped
    d.add_device("ap-store-01", "wifi-ap", "warehouse", "cisco", "C9120AXI", primary_ip4="127.20.9.1/24")
    return d
