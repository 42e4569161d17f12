"""Typed inventory models. The inventory is plain data: sites and the devices at them.

The inventory never holds a secret. A device names a credential set (``credentials``),
and the secret values are resolved at run time by :mod:`nms.secrets`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
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


class Role(StrEnum):
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
    role: Role
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
        found: list[tuple[tuple[str | int, ...], str]] = []
        seen_sites: dict[str, int] = {}
        for i, site in enumerate(self.sites):
            if site.id in seen_sites:
                found.append((("sites", i, "id"), f"duplicate site id {site.id!r} (also sites[{seen_sites[site.id]}])"))
            else:
                seen_sites[site.id] = i
        names: dict[str, int] = {}
        endpoints: dict[tuple[str, int], int] = {}
        for i, dev in enumerate(self.devices):
            if dev.name in names:
                found.append((("devices", i, "name"),
                              f"duplicate device name {dev.name!r} (also devices[{names[dev.name]}])"))
            else:
                names[dev.name] = i
            endpoint = (str(dev.address), dev.port)
            if endpoint in endpoints:
                other = self.devices[endpoints[endpoint]].name
                found.append((("devices", i, "address"),
                              f"duplicate management address {dev.address} port {dev.port} (also {other})"))
            else:
                endpoints[endpoint] = i
            if dev.site not in seen_sites:
                found.append((("devices", i, "site"), f"unknown site {dev.site!r}"))
            if profiles is not None and dev.profile not in profiles:
                found.append((("devices", i, "profile"),
                              f"unknown SNMP profile {dev.profile!r} (known: {', '.join(sorted(profiles))})"))
            if credentials is not None and dev.credentials not in credentials:
                found.append((("devices", i, "credentials"),
                              f"unknown credential set {dev.credentials!r} "
                              f"(known: {', '.join(sorted(credentials))})"))
        return found
