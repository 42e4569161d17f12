"""Who depends on whom: each device's upstream, from the inventory.

The chain is site -> access switch -> backbone; the IPS and the servers hang off a backbone (or
an access switch at their site). Alert rules and Alertmanager's inhibit rules read the result as
labels (:mod:`nms.inventory.metrics`), so no list of dependants is ever written by hand.

An explicit ``upstream`` wins (a device's own, else its site's for the APs). Without one:

* backbone switches have none;
* access switches and the IPS hang off the first backbone (by name);
* servers hang off the first access switch at their site, else the first backbone;
* a site with an access switch of its own is served by it; any other site by the access switch
  that rendezvous hashing picks (highest ``sha256(site/switch)``): deterministic, balanced enough,
  and adding a site or a switch moves as few sites as possible.

Each device also gets the two labels the inhibit rules compare with ``equal:``: ``access_switch``
and ``backbone``, the first device of that role on its path, itself included. So the alert of a
down access switch (``access_switch`` = itself) silences its APs' alerts (same ``access_switch``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

from nms.inventory.models import Device, DeviceRole, DeviceStatus, Inventory, Site


@dataclass(frozen=True)
class Path:
    """One device's place in the topology (empty strings where there is none)."""

    upstream: str
    access_switch: str
    backbone: str


def _rendezvous(site: str, switches: list[str]) -> str:
    return max(switches, key=lambda sw: hashlib.sha256(f"{site}/{sw}".encode()).digest())


@dataclass(frozen=True)
class Topology:
    """Upstream of every device and site of one inventory."""

    upstream: dict[str, str]  # device -> device it reaches the network through ("" for none)
    site_upstream: dict[str, str]  # site -> access switch serving it ("" for none)
    roles: dict[str, DeviceRole]

    @classmethod
    def of(cls, inventory: Inventory) -> Topology:
        usable = [d for d in inventory.devices if d.status is not DeviceStatus.DISABLED]
        backbones = sorted(d.name for d in usable if d.role is DeviceRole.BACKBONE)
        access = sorted(d.name for d in usable if d.role is DeviceRole.ACCESS)
        first_backbone = backbones[0] if backbones else ""
        own_switch: dict[str, str] = {}
        for d in sorted(usable, key=lambda d: d.name):
            if d.role is DeviceRole.ACCESS:
                own_switch.setdefault(d.site, d.name)

        def site_default(site: Site) -> str:
            if site.upstream:
                return site.upstream
            if site.id in own_switch:
                return own_switch[site.id]
            return _rendezvous(site.id, access) if access else first_backbone

        site_upstream = {s.id: site_default(s) for s in inventory.sites}

        def device_default(d: Device) -> str:
            if d.upstream:
                return d.upstream
            if d.role is DeviceRole.BACKBONE:
                return ""
            if d.role in (DeviceRole.ACCESS, DeviceRole.IPS):
                return first_backbone
            if d.role is DeviceRole.HOST:
                return own_switch.get(d.site, first_backbone)
            return site_upstream.get(d.site, first_backbone)

        upstream = {d.name: device_default(d) for d in inventory.devices}
        return cls(upstream=upstream, site_upstream=site_upstream,
                   roles={d.name: d.role for d in inventory.devices})

    def chain(self, device: str) -> Iterator[str]:
        """``device`` and every device above it, nearest first; stops at a loop or an unknown name."""
        seen: set[str] = set()
        current = device
        while current and current in self.roles and current not in seen:
            seen.add(current)
            yield current
            current = self.upstream.get(current, "")

    def _first(self, names: Iterator[str], role: DeviceRole) -> str:
        return next((n for n in names if self.roles.get(n) is role), "")

    def path(self, device: str) -> Path:
        return Path(upstream=self.upstream.get(device, ""),
                    access_switch=self._first(self.chain(device), DeviceRole.ACCESS),
                    backbone=self._first(self.chain(device), DeviceRole.BACKBONE))

    def site_path(self, site: str) -> Path:
        """The path of a site's APs: through its access switch (the switch's own path above it)."""
        up = self.site_upstream.get(site, "")
        return Path(upstream=up, access_switch=self._first(self.chain(up), DeviceRole.ACCESS),
                    backbone=self._first(self.chain(up), DeviceRole.BACKBONE))

    def behind(self, switch: str) -> list[str]:
        """Sites whose path goes through ``switch``, sorted by id."""
        return sorted(s for s in self.site_upstream if switch in self.chain(self.site_upstream[s]))


def problems(inventory: Inventory) -> list[tuple[tuple[str | int, ...], str]]:
    """Explicit upstreams that name no device, name an AP, or loop. Returns (location, message)."""
    names = {d.name: d for d in inventory.devices}
    found: list[tuple[tuple[str | int, ...], str]] = []

    def check(loc: tuple[str | int, ...], up: str | None, own: str | None) -> None:
        if up is None:
            return
        if up not in names:
            found.append((loc, f"unknown upstream device {up!r}"))
        elif names[up].role is DeviceRole.AP:
            found.append((loc, f"upstream {up!r} is an AP; nothing can hang off an AP"))
        elif up == own:
            found.append((loc, f"{own!r} cannot be its own upstream"))

    for i, site in enumerate(inventory.sites):
        check(("sites", i, "upstream"), site.upstream, None)
    for i, dev in enumerate(inventory.devices):
        check(("devices", i, "upstream"), dev.upstream, dev.name)
    if found:
        return found
    topology = Topology.of(inventory)
    for i, dev in enumerate(inventory.devices):
        chain = list(topology.chain(dev.name))
        last = topology.upstream.get(chain[-1], "")
        if last and last in chain:
            found.append((("devices", i, "upstream"), f"upstream loop: {' -> '.join([*chain, last])}"))
    return found


def check(inventory: Inventory, profiles: set[str] | None = None, credentials: set[str] | None = None
          ) -> list[tuple[tuple[str | int, ...], str]]:
    """Every cross-reference problem of ``inventory``: the model's, then (once names and sites are sound)
    the topology's."""
    return inventory.problems(profiles, credentials) or problems(inventory)
