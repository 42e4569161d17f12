"""Typed inventory models. The inventory is plain data: sites and the devices at them.

The inventory never holds a secret. A device names a credential set (``credentials``),
and the secret values are resolved at run time by :mod:`nms.secrets`.
"""

from __future__ import annotations

import difflib
import ipaddress
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Name = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,62}$")]


class Category(StrEnum):
    """Site categories of the district's public Wi-Fi (seed document)."""

    GOVERNMENT = "government"
    PARK = "park"
    WELFARE = "welfare"
    MARKET = "market"
    STREET = "street"


class DeviceRole(StrEnum):
    """What a device is in the district's network (decides how it is polled); not a user's permission level,
    which is :class:`nms.admin.users.Role`."""

    BACKBONE = "backbone"  # administrative-network backbone switch
    ACCESS = "access"  # administrative-network access switch
    IPS = "ips"  # service-network intrusion-prevention system
    AP = "ap"  # public Wi-Fi access point
    HOST = "host"  # servers: removable-media control, auto-answer (IVR)


class DeviceStatus(StrEnum):
    ACTIVE = "active"  # polled
    PLANNED = "planned"  # in the plan, not yet installed: never polled
    DISABLED = "disabled"  # kept in the inventory, not polled


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


class Site(_Strict):
    id: Name
    name: str = Field(min_length=1, description="Korean name as the district uses it")
    name_en: str | None = None
    category: Category
    installed: int | None = Field(default=None, ge=2000, le=2100, description="Wi-Fi install year")
    subnets: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = Field(default_factory=list)
    address: str | None = Field(default=None, description="street address")
    important: bool = Field(default=False, description="a dark site is critical even with a single AP")
    upstream: Name | None = Field(default=None, description="the access switch the site's APs hang off; "
                                  "default: derived (nms.inventory.topology)")
    lat: float | None = Field(default=None, ge=-90, le=90, description="latitude (WGS 84), for the site map")
    lon: float | None = Field(default=None, ge=-180, le=180, description="longitude (WGS 84)")

    @model_validator(mode="after")
    def _both_coordinates(self) -> Site:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("lat and lon go together: give both or neither")
        return self


class Device(_Strict):
    name: Name
    role: DeviceRole
    site: Name
    address: ipaddress.IPv4Address | ipaddress.IPv6Address = Field(description="management address")
    port: int = Field(default=161, ge=1, le=65535)
    profile: Name = Field(description="SNMP profile, defined in snmp.yaml")
    credentials: Name = Field(description="credential set, defined in snmp.yaml; secrets stay outside")
    status: DeviceStatus = DeviceStatus.ACTIVE
    installed: int | None = Field(default=None, ge=2000, le=2100)
    vendor: str | None = None
    model: str | None = None
    tags: list[str] = Field(default_factory=list)
    timeout: float | None = Field(default=None, gt=0, le=60, description="overrides the class timeout")
    retries: int | None = Field(default=None, ge=0, le=10)
    upstream: Name | None = Field(default=None, description="the device this one reaches the network through; "
                                  "default: derived (nms.inventory.topology)")


class Inventory(_Strict):
    version: Literal[1] = 1
    sites: list[Site]
    devices: list[Device]

    def site_by_id(self) -> dict[str, Site]:
        return {s.id: s for s in self.sites}

    def category_of(self, device: Device) -> Category:
        return self.site_by_id()[device.site].category

    def active_devices(self) -> Iterator[Device]:
        return (d for d in self.devices if d.status is DeviceStatus.ACTIVE)

    def problems(self, profiles: set[str] | None = None, credentials: set[str] | None = None
                 ) -> list[tuple[tuple[str | int, ...], str]]:
        """Cross-reference checks that one field alone cannot make. Returns (location, message).

        The topology's checks (upstreams) come on top: :func:`nms.inventory.topology.check` runs both."""
        data = {"sites": [s.model_dump() for s in self.sites], "devices": [d.model_dump() for d in self.devices]}
        return [(r.loc, r.message) for r in reference_problems(data, profiles, credentials)]


@dataclass(frozen=True)
class Reference:
    """A cross-reference problem: where, the English message, and its catalogue code and parameters."""

    loc: tuple[str | int, ...]
    message: str
    code: str
    params: tuple[tuple[str, object], ...] = ()


def closest(name: str, known: Iterable[str]) -> str | None:
    """The known name a typo most likely meant (``goverment-009`` -> ``government-009``)."""
    match = difflib.get_close_matches(name, list(known), n=1, cutoff=0.75)
    return match[0] if match else None


def reference_problems(data: object, profiles: set[str] | None = None, credentials: set[str] | None = None
                       ) -> list[Reference]:
    """The inventory's cross-references, checked on its plain data: also when some fields do not
    validate, so that a site typo is reported next to a bad address in the same run."""
    if not isinstance(data, dict):
        return []
    sites = [s for s in data.get("sites") or [] if isinstance(s, dict)] if isinstance(data.get("sites"), list) else []
    devices = data.get("devices") if isinstance(data.get("devices"), list) else []
    found: list[Reference] = []
    seen_sites: dict[str, int] = {}
    for i, site in enumerate(sites):
        sid = site.get("id")
        if not isinstance(sid, str):
            continue
        if sid in seen_sites:
            found.append(Reference(("sites", i, "id"), f"duplicate site id {sid!r} (also site number "
                                   f"{seen_sites[sid] + 1} in the list)", "v_site_twice", (("id", sid),)))
        else:
            seen_sites[sid] = i
    names: dict[str, int] = {}
    endpoints: dict[tuple[str, int], str] = {}
    for i, dev in enumerate(devices):
        if not isinstance(dev, dict):
            continue
        name, site = dev.get("name"), dev.get("site")
        if isinstance(name, str):
            if name in names:
                found.append(Reference(("devices", i, "name"), f"duplicate device name {name!r} (also device "
                                       f"number {names[name] + 1} in the list)", "v_device_twice", (("name", name),)))
            else:
                names[name] = i
        address, port = str(dev.get("address", "")), dev.get("port", 161)
        if address:
            other = endpoints.get((address, port))
            if other is not None:
                found.append(Reference(("devices", i, "address"), f"duplicate management address {address} port "
                                       f"{port} (also {other})", "v_address_twice",
                                       (("address", address), ("name", other), ("port", port))))
            else:
                endpoints[(address, port)] = str(name)
        if isinstance(site, str) and site not in seen_sites:
            hint = closest(site, seen_sites)
            found.append(Reference(("devices", i, "site"), f"unknown site {site!r}" + (
                f"; did you mean {hint!r}?" if hint else ""), "v_site_unknown",
                (("field", "site"), ("id", site), ("suggestion", hint or ""))))
        for key, known, code, what in (("profile", profiles, "v_profile_unknown", "SNMP profile"),
                                       ("credentials", credentials, "v_credentials_unknown", "credential set")):
            value = dev.get(key)
            if known is None or not isinstance(value, str) or value in known:
                continue
            hint = closest(value, known)
            found.append(Reference(("devices", i, key), f"unknown {what} {value!r} (known: "
                                   f"{', '.join(sorted(known))})" + (f"; did you mean {hint!r}?" if hint else ""),
                                   code, (("field", key), ("profile", value), ("name", value),
                                          ("known", ", ".join(sorted(known))), ("suggestion", hint or ""))))
    return found
