"""The inventory as Prometheus info series, so dashboards can group live metrics by inventory facts.

Polled series carry ``device``, ``site``, ``category`` and ``role`` only. Facts that do not change
with polling (a site's Korean name, an AP's install year, planned devices) are published once per
device and site as value-1 "info" series and joined in PromQL, e.g. APs up by install year::

    sum by (installed) (nms_device_up{role="ap"}
      * on (device) group_left (installed) max by (device, installed) (nms_device_info))

:class:`InventoryService` is a :class:`nms.service.Service` with nothing to run: it only follows
reloads so that the info series match the inventory in force.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Protocol

from prometheus_client.metrics_core import Metric

from nms.inventory.models import DeviceRole, Inventory
from nms.inventory.summary import year_label
from nms.inventory.topology import Path, Topology


def _year(value: int | None) -> str:
    return str(value) if value is not None else "unknown"


class InventoryMetrics:
    """Collector of ``nms_site_info`` and ``nms_device_info`` (value 1, one series each) and ``nms_site_aps``."""

    def __init__(self, inventory: Inventory):
        self.inventory = inventory

    def describe(self) -> list[Metric]:
        return []  # built at scrape time from the inventory in force

    def collect(self) -> Iterator[Metric]:
        inventory = self.inventory
        sites = inventory.site_by_id()
        topology = Topology.of(inventory)
        site_info = Metric("nms_site_info", "Sites of the inventory: Korean and English name, category, "
                           "Wi-Fi install year (installed_group: the seed table's row), important (a dark site "
                           "is critical even with one AP), upstream/access_switch/backbone (the path of its APs)",
                           "gauge")
        site_aps = Metric("nms_site_aps", "Active APs of each site in the inventory", "gauge")
        active_aps = Counter(d.site for d in inventory.active_devices() if d.role is DeviceRole.AP)
        for site in inventory.sites:
            path = topology.site_path(site.id)
            site_info.add_sample("nms_site_info", {
                "site": site.id, "name": site.name, "name_en": site.name_en or "", "category": site.category.value,
                "installed": _year(site.installed), "installed_group": year_label(site.installed),
                "important": "true" if site.important else "false", **_path_labels(path)}, 1.0)
            site_aps.add_sample("nms_site_aps", {"site": site.id}, float(active_aps[site.id]))
        device_info = Metric("nms_device_info", "Devices of the inventory, planned and disabled ones included; "
                             "installed is the device's install year, else its site's; upstream is the device "
                             "it reaches the network through, access_switch/backbone the first of that role on "
                             "its path (itself included)", "gauge")
        for device in inventory.devices:
            site = sites.get(device.site)
            year = device.installed if device.installed is not None else (site.installed if site else None)
            device_info.add_sample("nms_device_info", {
                "device": device.name, "site": device.site, "category": site.category.value if site else "",
                "role": device.role.value, "status": device.status.value, "installed": _year(year),
                "installed_group": year_label(year), "vendor": device.vendor or "", "model": device.model or "",
                **_path_labels(topology.path(device.name))}, 1.0)
        yield from (site_info, site_aps, device_info)


def _path_labels(path: Path) -> dict[str, str]:
    return {"upstream": path.upstream, "access_switch": path.access_switch, "backbone": path.backbone}


class HasInventory(Protocol):
    """Anything carrying an inventory (the application's ``District``)."""

    @property
    def inventory(self) -> Inventory: ...


class InventoryService:
    """Publishes :class:`InventoryMetrics` in ``nms run`` and swaps the inventory on reload."""

    name = "inventory"

    def __init__(self, district: HasInventory):
        self.metrics = InventoryMetrics(district.inventory)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    def reload(self, district: HasInventory) -> None:
        self.metrics.inventory = district.inventory

    def collectors(self) -> list[InventoryMetrics]:
        return [self.metrics]
