"""How NetBox's records map onto the inventory model: the mapping settings and the record mapper.

See :mod:`nms.inventory.netbox` for the rules.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from nms.inventory.models import Category, Device, DeviceRole, DeviceStatus, Site
from nms.inventory.sources import DeviceReferences

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")


class NetBoxMapping(BaseModel):
    """How NetBox's roles, statuses, tags and custom fields map onto the inventory model."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    roles: dict[str, DeviceRole] = Field(default_factory=lambda: {
        "backbone-switch": DeviceRole.BACKBONE, "backbone": DeviceRole.BACKBONE, "core-switch": DeviceRole.BACKBONE,
        "access-switch": DeviceRole.ACCESS, "access": DeviceRole.ACCESS, "switch": DeviceRole.ACCESS,
        "ips": DeviceRole.IPS,
        "wifi-ap": DeviceRole.AP, "ap": DeviceRole.AP, "access-point": DeviceRole.AP,
        "server": DeviceRole.HOST, "host": DeviceRole.HOST,
    }, description="NetBox device-role slug → role")
    statuses: dict[str, DeviceStatus] = Field(default_factory=lambda: {
        "active": DeviceStatus.ACTIVE, "planned": DeviceStatus.PLANNED, "staged": DeviceStatus.PLANNED,
    })
    other_status: DeviceStatus = DeviceStatus.DISABLED
    profiles: dict[DeviceRole, str] = Field(default_factory=lambda: {
        DeviceRole.BACKBONE: "switch", DeviceRole.ACCESS: "switch", DeviceRole.IPS: "ips", DeviceRole.HOST: "host",
    }, description="default SNMP profile per role")
    ap_profiles: dict[str, str] = Field(default_factory=lambda: {
        "cisco": "ap-cisco", "ubiquiti": "ap-ubiquiti",
    }, description="default SNMP profile of an AP by manufacturer slug")
    credentials: dict[DeviceRole, str] = Field(default_factory=dict, description="credential set per role")
    default_credentials: str = "district-v2c"
    categories: dict[str, Category] = Field(default_factory=lambda: {
        **{c.value: c for c in Category},
        "관공서": Category.GOVERNMENT, "공원": Category.PARK, "복지시설": Category.WELFARE,
        "전통시장": Category.MARKET, "주요거리": Category.STREET,
    }, description="accepted values of the category tag / custom field")


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


class NetBoxMapper:
    """Maps NetBox's records (as dicts) to sites and devices; what cannot be mapped goes to :attr:`skipped`."""

    def __init__(self, mapping: NetBoxMapping, snmp: DeviceReferences | None = None):
        self.mapping = mapping
        self.snmp = snmp
        self.skipped: list[str] = []  # what could not be imported, and why
        self.warnings: list[str] = []  # imported, but worth a look

    # -- sites -----------------------------------------------------------------------------

    def check_tags(self, tags: list[dict[str, Any]]) -> None:
        for tag in tags:
            value = _tag_value([tag], CATEGORY_TAG)
            if value is not None and value not in self.mapping.categories:
                self.warnings.append(f"tag {tag.get('name')!r}: {value!r} is no known site category "
                                     f"(known: {', '.join(c.value for c in Category)})")

    @staticmethod
    def subnets(prefixes: list[dict[str, Any]]) -> dict[int, list[str]]:
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

    def sites(self, raw_sites: list[dict[str, Any]], subnets: dict[int, list[str]]) -> list[Site]:
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

    def devices(self, raw_devices: list[dict[str, Any]], site_ids: set[str],
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

    def _device(self, raw: dict[str, Any], role: DeviceRole, site_ids: set[str]) -> Device | None:
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
            by_vendor = f" and manufacturer {manufacturer.get('slug')!r}" if role is DeviceRole.AP else ""
            self.skipped.append(f"{label}: no SNMP profile (custom field snmp_profile, tag snmp-profile:<name>, "
                                f"or a default for role {role.value}{by_vendor})")
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

    def _default_profile(self, role: DeviceRole, manufacturer: dict[str, Any]) -> str | None:
        if role is DeviceRole.AP:
            return self.mapping.ap_profiles.get(str(manufacturer.get("slug") or "").lower())
        return self.mapping.profiles.get(role)



def _net_key(net: str) -> tuple[int, str]:
    return (6 if ":" in net else 4, net)


def _first_error(exc: ValidationError) -> str:
    err = exc.errors(include_url=False)[0]
    where = ".".join(str(p) for p in err.get("loc", ()))
    return f"{where}: {err['msg']}" if where else err["msg"]


def _coordinates(raw: dict[str, Any]) -> dict[str, float]:
    """NetBox's latitude/longitude (decimal strings or numbers) as ``lat``/``lon``; nothing if either is unset."""
    lat, lon = raw.get("latitude"), raw.get("longitude")
    if lat is None or lon is None or lat == "" or lon == "":
        return {}
    try:
        return {"lat": float(lat), "lon": float(lon)}
    except (TypeError, ValueError):
        return {"lat": lat, "lon": lon}  # let the model's validation name the bad value
