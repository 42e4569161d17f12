"""NetBox as an inventory source, and the import of NetBox data into the inventory YAML file.

NetBox → our model:

* site: slug → ``id``, name → ``name``; category from a tag ``category-<category>`` (slug) or
  ``category:<category>`` (name), else the custom field ``category`` (English value or the
  district's Korean label); install year from the custom field ``installed``; street address from
  ``physical_address``; coordinates from ``latitude``/``longitude`` (both, or neither); subnets from
  the IPAM prefixes scoped to the site (``site`` up to NetBox 4.1, ``scope`` from 4.2 on).
* device: name (lower-cased) → ``name``; role slug → :class:`Role` via the mapping; primary IPv4
  (else IPv6) without its prefix length → ``address``; status ``active`` → active,
  ``planned``/``staged`` → planned, anything else → disabled. SNMP profile and credential set
  from the custom fields ``snmp_profile``/``snmp_credentials``, else tags
  ``snmp-profile:<name>``/``snmp-credentials:<name>``, else the mapping's defaults (per role;
  APs by manufacturer since their profile is vendor-specific).

Whatever cannot be mapped (no primary IP, unmapped role, no category, ...) is skipped and
listed in :attr:`NetBoxSource.skipped`, never dropped silently.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit, urlunsplit

import pynetbox
import requests
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pynetbox.core.query import ContentError, RequestError
from requests.adapters import HTTPAdapter
from tqdm import tqdm

from nms import exitcodes
from nms.configfile import ConfigError, parse_yaml_text, validate
from nms.inventory import topology
from nms.inventory.diff import EMPTY_INVENTORY, InventoryDiff, diff_inventories
from nms.inventory.models import Category, Device, DeviceStatus, Inventory, Role, Site
from nms.inventory.sources import DeviceReferences, SourceError, dump_inventory
from nms.store import ABSENT, ConfigStore, StoreError

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")


class NetBoxError(SourceError):
    """NetBox could not be read: unreachable, refused the token, or answered something unusable."""


class NetBoxMapping(BaseModel):
    """How NetBox's roles, statuses, tags and custom fields map onto the inventory model."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    roles: dict[str, Role] = Field(default_factory=lambda: {
        "backbone-switch": Role.BACKBONE, "backbone": Role.BACKBONE, "core-switch": Role.BACKBONE,
        "access-switch": Role.ACCESS, "access": Role.ACCESS, "switch": Role.ACCESS,
        "ips": Role.IPS,
        "wifi-ap": Role.AP, "ap": Role.AP, "access-point": Role.AP,
        "server": Role.HOST, "host": Role.HOST,
    }, description="NetBox device-role slug → role")
    statuses: dict[str, DeviceStatus] = Field(default_factory=lambda: {
        "active": DeviceStatus.ACTIVE, "planned": DeviceStatus.PLANNED, "staged": DeviceStatus.PLANNED,
    })
    other_status: DeviceStatus = DeviceStatus.DISABLED
    profiles: dict[Role, str] = Field(default_factory=lambda: {
        Role.BACKBONE: "switch", Role.ACCESS: "switch", Role.IPS: "ips", Role.HOST: "host",
    }, description="default SNMP profile per role")
    ap_profiles: dict[str, str] = Field(default_factory=lambda: {
        "cisco": "ap-cisco", "ubiquiti": "ap-ubiquiti",
    }, description="default SNMP profile of an AP by manufacturer slug")
    credentials: dict[Role, str] = Field(default_factory=dict, description="credential set per role")
    default_credentials: str = "district-v2c"
    categories: dict[str, Category] = Field(default_factory=lambda: {
        **{c.value: c for c in Category},
        "관공서": Category.GOVERNMENT, "공원": Category.PARK, "복지시설": Category.WELFARE,
        "전통시장": Category.MARKET, "주요거리": Category.STREET,
    }, description="accepted values of the category tag / custom field")


def _safe_url(url: str) -> str:
    """The URL without any user:password part, for messages."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


class _TimeoutAdapter(HTTPAdapter):
    """pynetbox passes no timeout, and requests waits forever by default."""

    def __init__(self, timeout: float):
        super().__init__()
        self.timeout = timeout

    def send(self, request: Any, **kwargs: Any) -> Any:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().send(request, **kwargs)


@contextlib.contextmanager
def _netbox_errors(url: str) -> Iterator[None]:
    """Turn the transport's and pynetbox's exceptions into one clear NetBoxError."""
    where = _safe_url(url)
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


def _records(endpoint: Any) -> list[dict[str, Any]]:
    return [dict(r) for r in endpoint.all()]


def _slug(obj: Any) -> str | None:
    return obj.get("slug") if isinstance(obj, dict) else None


def _year(value: Any) -> int | None:
    """A custom field holding a year: an integer, or text/date starting with four digits."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        m = re.match(r"^\s*(\d{4})", value)
        if m:
            return int(m.group(1))
    return None


def _tag_value(tags: list[dict[str, Any]], prefix: str) -> str | None:
    """The value of a ``<prefix>:<value>`` tag (by name) or ``<prefix>-<value>`` tag (by slug)."""
    for tag in tags:
        name = str(tag.get("name") or "")
        if name.startswith(prefix + ":"):
            return name[len(prefix) + 1:].strip()
    for tag in tags:
        slug = str(tag.get("slug") or "")
        if slug.startswith(prefix + "-"):
            return slug[len(prefix) + 1:]
    return None


def _is_control_tag(tag: dict[str, Any], prefixes: tuple[str, ...]) -> bool:
    name = str(tag.get("name") or "")
    slug = str(tag.get("slug") or "")
    return any(name.startswith(p + ":") or slug.startswith(p + "-") for p in prefixes)


CATEGORY_TAG = "category"
PROFILE_TAG = "snmp-profile"
CREDENTIALS_TAG = "snmp-credentials"


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
        self.skipped, self.warnings = [], []
        with _netbox_errors(self.url):
            if not urlsplit(self.url).scheme.startswith("http"):
                raise requests.exceptions.InvalidSchema(self.url)
            api = self._api()
            status = api.status()
            if not isinstance(status, dict) or "netbox-version" not in status:
                raise NetBoxError(f"{_safe_url(self.url)}/api/status/ does not look like NetBox's status")
            self.netbox_version = str(status["netbox-version"])
            role_names = {r["slug"]: r.get("name", r["slug"]) for r in _records(api.dcim.device_roles)}
            self._check_tags(_records(api.extras.tags))
            raw_sites = _records(api.dcim.sites)
            subnets = self._subnets(_records(api.ipam.prefixes))
            sites = self._sites(raw_sites, subnets)
            devices_rs = api.dcim.devices.all()
            total = len(devices_rs)
            raw_devices = [dict(r) for r in tqdm(devices_rs, total=total, desc="NetBox devices", unit="dev",
                                                 file=sys.stderr, disable=not self.progress)]
            devices = self._devices(raw_devices, {s.id for s in sites}, role_names)
        return Inventory(sites=sorted(sites, key=lambda s: s.id), devices=sorted(devices, key=lambda d: d.name))

    # -- sites -----------------------------------------------------------------------------

    def _check_tags(self, tags: list[dict[str, Any]]) -> None:
        for tag in tags:
            value = _tag_value([tag], CATEGORY_TAG)
            if value is not None and value not in self.mapping.categories:
                self.warnings.append(f"tag {tag.get('name')!r}: {value!r} is no known site category "
                                     f"(known: {', '.join(c.value for c in Category)})")

    @staticmethod
    def _subnets(prefixes: list[dict[str, Any]]) -> dict[int, list[str]]:
        """Prefixes by NetBox site id; NetBox ≤ 4.1 has ``site``, 4.2+ has ``scope_type``/``scope_id``."""
        by_site: dict[int, list[str]] = {}
        for p in prefixes:
            site_id = None
            if isinstance(p.get("site"), dict):
                site_id = p["site"].get("id")
            elif p.get("scope_type") == "dcim.site":
                site_id = p.get("scope_id") or (p.get("scope") or {}).get("id")
            if site_id is not None and p.get("prefix"):
                by_site.setdefault(int(site_id), []).append(str(p["prefix"]))
        return by_site

    def _sites(self, raw_sites: list[dict[str, Any]], subnets: dict[int, list[str]]) -> list[Site]:
        sites: list[Site] = []
        for raw in raw_sites:
            slug = str(raw.get("slug") or "").lower()
            label = f"site {raw.get('name') or raw.get('id')!r}"
            if not _NAME.match(slug):
                self.skipped.append(f"{label}: slug {raw.get('slug')!r} is not a valid inventory id")
                continue
            cf = raw.get("custom_fields") or {}
            tags = raw.get("tags") or []
            value = _tag_value(tags, CATEGORY_TAG)
            if value is None and cf.get("category"):
                value = str(cf["category"]).strip()
            cats = self.mapping.categories
            category = None if value is None else (cats.get(value) or cats.get(value.lower()))
            if category is None:
                why = f"unknown category {value!r}" if value else "no category"
                self.skipped.append(f"{label} ({slug}): {why} (tag category-<x> or custom field 'category'); "
                                    "its devices are skipped too")
                continue
            address = ", ".join(line.strip() for line in str(raw.get("physical_address") or "").splitlines()
                                if line.strip()) or None
            try:
                sites.append(Site(
                    id=slug, name=str(raw.get("name") or slug), name_en=cf.get("name_en") or None,
                    category=category, installed=_year(cf.get("installed")),
                    subnets=sorted(set(subnets.get(int(raw["id"]), [])), key=_net_key), address=address,
                    **_coordinates(raw)))
            except ValidationError as exc:
                self.skipped.append(f"{label} ({slug}): {_first_error(exc)}")
        return sites

    # -- devices ---------------------------------------------------------------------------

    def _devices(self, raw_devices: list[dict[str, Any]], site_ids: set[str],
                 role_names: dict[str, str]) -> list[Device]:
        devices: list[Device] = []
        names: dict[str, str] = {}
        endpoints: dict[tuple[str, int], str] = {}
        unmapped: Counter[str] = Counter()
        for raw in raw_devices:
            role_obj = raw.get("role") or raw.get("device_role")  # device_role before NetBox 4.0
            role_slug = _slug(role_obj) or ""
            role = self.mapping.roles.get(role_slug)
            if role is None:
                unmapped[role_slug] += 1
                continue
            dev = self._device(raw, role, site_ids)
            if dev is None:
                continue
            if dev.name in names:
                self.skipped.append(f"device {raw.get('name')!r}: name {dev.name!r} is already used "
                                    f"by the device at site {names[dev.name]}")
                continue
            endpoint = (str(dev.address), dev.port)
            if endpoint in endpoints:
                self.skipped.append(f"device {dev.name}: management address {dev.address} is already "
                                    f"used by {endpoints[endpoint]}")
                continue
            names[dev.name] = dev.site
            endpoints[endpoint] = dev.name
            devices.append(dev)
        if unmapped:
            listed = ", ".join(f"{role_names.get(slug, slug or '(no role)')} [{slug}] ({n})"
                               for slug, n in sorted(unmapped.items()))
            self.skipped.append(f"{sum(unmapped.values())} device(s) with a role that is not mapped: {listed}")
        return devices

    def _device(self, raw: dict[str, Any], role: Role, site_ids: set[str]) -> Device | None:
        raw_name = raw.get("name")
        if not raw_name:
            self.skipped.append(f"device id {raw.get('id')}: has no name")
            return None
        label = f"device {raw_name!r}"
        name = str(raw_name).strip().lower()
        if not _NAME.match(name):
            self.skipped.append(f"{label}: name is not a valid inventory name "
                                "(lower-case letters, digits, '.', '_', '-')")
            return None
        site = (_slug(raw.get("site")) or "").lower()
        if site not in site_ids:
            self.skipped.append(f"{label}: its site {site or '(none)'!r} is not imported")
            return None
        ip = raw.get("primary_ip4") or raw.get("primary_ip6")
        if not isinstance(ip, dict) or not ip.get("address"):
            self.skipped.append(f"{label}: no primary IP address in NetBox (set primary IPv4/IPv6)")
            return None
        address = str(ip["address"]).split("/", 1)[0]
        status_value = (raw.get("status") or {}).get("value") if isinstance(raw.get("status"), dict) \
            else raw.get("status")
        status = self.mapping.statuses.get(str(status_value), self.mapping.other_status)
        cf = raw.get("custom_fields") or {}
        tags = raw.get("tags") or []
        device_type = raw.get("device_type") or {}
        manufacturer = device_type.get("manufacturer") or {}
        profile = (cf.get("snmp_profile") or _tag_value(tags, PROFILE_TAG) or self._default_profile(role, manufacturer))
        if not profile:
            self.skipped.append(f"{label}: no SNMP profile (custom field snmp_profile, tag snmp-profile:<name>, "
                                f"or a default for role {role.value}"
                                + (f" and manufacturer {manufacturer.get('slug')!r})" if role is Role.AP else ")"))
            return None
        credentials = (cf.get("snmp_credentials") or _tag_value(tags, CREDENTIALS_TAG)
                       or self.mapping.credentials.get(role) or self.mapping.default_credentials)
        if self.snmp is not None:
            if profile not in self.snmp.profiles:
                self.skipped.append(f"{label}: SNMP profile {profile!r} is not defined in snmp.yaml")
                return None
            if credentials not in self.snmp.credentials:
                self.skipped.append(f"{label}: credential set {credentials!r} is not defined in snmp.yaml")
                return None
        other_tags = sorted({str(t.get("slug")) for t in tags if t.get("slug")
                             and not _is_control_tag(t, (PROFILE_TAG, CREDENTIALS_TAG, CATEGORY_TAG))})
        fields: dict[str, Any] = {
            "name": name, "role": role, "site": site, "address": address, "profile": profile,
            "credentials": credentials, "status": status, "installed": _year(cf.get("installed")),
            "vendor": manufacturer.get("name") or None, "model": device_type.get("model") or None,
            "tags": other_tags,
        }
        if isinstance(cf.get("snmp_port"), int):
            fields["port"] = cf["snmp_port"]
        try:
            return Device(**fields)
        except ValidationError as exc:
            self.skipped.append(f"{label}: {_first_error(exc)}")
            return None

    def _default_profile(self, role: Role, manufacturer: dict[str, Any]) -> str | None:
        if role is Role.AP:
            return self.mapping.ap_profiles.get(str(manufacturer.get("slug") or "").lower())
        return self.mapping.profiles.get(role)


def _net_key(net: str) -> tuple[int, str]:
    return (6 if ":" in net else 4, net)


def _first_error(exc: ValidationError) -> str:
    err = exc.errors(include_url=False)[0]
    where = ".".join(str(p) for p in err.get("loc", ()))
    return f"{where}: {err['msg']}" if where else err["msg"]


# -- import into the YAML file -----------------------------------------------------------------


def _load_current(store: ConfigStore, out: TextIO) -> tuple[Inventory, str, bool]:
    """The inventory in the target file, its version, and whether the file was usable."""
    try:
        text, version = store.read()
    except FileNotFoundError:
        return EMPTY_INVENTORY, ABSENT, True
    try:
        return validate(parse_yaml_text(text, str(store.path)), Inventory), version, True
    except ConfigError as exc:
        print(f"warning: the current {store.path} is not a valid inventory; comparing with an empty one:\n"
              f"{exc}", file=out)
        return EMPTY_INVENTORY, version, False


def import_netbox(url: str, token: str, target: Path, *, apply: bool, progress: bool = False,
                  out: TextIO | None = None, mapping: NetBoxMapping | None = None,
                  snmp: DeviceReferences | None = None, author: str = "", timeout: float = 10.0) -> InventoryDiff:
    """Compare the inventory in NetBox with ``target``; with ``apply`` write NetBox's version.

    The listing of changes (and of what NetBox had that could not be imported) goes to ``out``.
    The write is atomic and keeps the previous version in the file's history (:mod:`nms.store`);
    it refuses to go ahead if somebody changed the file meanwhile.
    """
    out = out or sys.stdout
    target = Path(target)
    store = ConfigStore(target)
    old, version, usable = _load_current(store, out)
    source = NetBoxSource(url, token, defaults=mapping, progress=progress, snmp=snmp, timeout=timeout)
    new = source.load()
    for line in source.skipped:
        print(f"skipped: {line}", file=out)
    for line in source.warnings:
        print(f"warning: {line}", file=out)
    diff = diff_inventories(old, new)
    print(diff.format(), file=out)
    if not apply:
        print(f"dry run: {target} not changed (use --apply to write it)", file=out)
        return diff
    if diff.is_empty and usable:
        print(f"{target} is already up to date", file=out)
        return diff
    if not new.devices and old.devices:
        raise NetBoxError(f"NetBox at {_safe_url(url)} returned no importable devices; refusing to "
                          f"replace the {len(old.devices)} devices in {target} "
                          "(check the token's permissions and the mapping)")
    header = (f"Inventory imported from NetBox {_safe_url(url)} (NetBox {source.netbox_version}).\n"
              "Written by `nms inventory import-netbox`: a later import replaces local edits.")
    text = dump_inventory(new, header=header)
    # Never write what the service would refuse to load.
    check = validate(parse_yaml_text(text, str(target)), Inventory)
    if check != new or topology.check(check):
        raise NetBoxError(f"internal error: the YAML generated for {target} does not read back identically")
    new_version = store.write(text, expected_version=version, author=author or _whoami(),
                              message=f"import from NetBox {_safe_url(url)}: {diff.summary()}")
    print(f"wrote {target} (version {new_version[:12]}; previous versions in {store.history_dir})", file=out)
    return diff


def _whoami() -> str:
    try:
        return f"{getpass.getuser()} (import-netbox)"
    except (KeyError, OSError):
        return "import-netbox"


def _snmp_beside(target: Path, load_references: Callable[[Path], DeviceReferences] | None) -> DeviceReferences | None:
    """The snmp.yaml next to the inventory file, if any: imported devices must name its profiles.

    ``load_references`` reads and validates it (the SNMP collector's loader, given by the application).
    """
    path = target.parent / "snmp.yaml"
    if load_references is None or not path.exists():
        return None
    return load_references(path)


def run_import_netbox(url: str, token_env: str, target: Path, apply: bool, out: TextIO,
                      load_references: Callable[[Path], DeviceReferences] | None = None) -> int:
    """``nms inventory import-netbox URL --token-env VAR [--apply] [--target PATH]``; returns the exit code."""
    token = os.environ.get(token_env, "").strip()
    if not token:
        print(f"error: environment variable {token_env} is not set or empty: put the NetBox API token in it",
              file=out)
        return exitcodes.SECRET
    target = Path(target)
    try:
        snmp = _snmp_beside(target, load_references)
        import_netbox(url, token, target, apply=apply, progress=sys.stderr.isatty(), out=out, snmp=snmp)
    except (NetBoxError, StoreError, ConfigError) as exc:
        print(f"error: {exc}", file=out)
        return 1
    return 0


def _coordinates(raw: dict[str, Any]) -> dict[str, float]:
    """NetBox's latitude/longitude (decimal strings or numbers) as ``lat``/``lon``; nothing if either is unset."""
    lat, lon = raw.get("latitude"), raw.get("longitude")
    if lat is None or lon is None or lat == "" or lon == "":
        return {}
    try:
        return {"lat": float(lat), "lon": float(lon)}
    except (TypeError, ValueError):
        return {"lat": lat, "lon": lon}  # let the model's validation name the bad value
