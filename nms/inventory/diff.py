"""What changes between two inventories: sites and devices added, removed, and changed field by field.

Sites are matched by id and devices by name, so moving an entry within the file is no change,
and a rename shows as one removal plus one addition.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from nms.inventory.models import Device, Inventory, Site


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any

    def __str__(self) -> str:
        return f"{self.field}: {_show(self.old)} -> {_show(self.new)}"


@dataclass(frozen=True)
class ItemChange:
    """One site or device present on both sides whose fields differ."""

    key: str
    changes: tuple[FieldChange, ...]


@dataclass(frozen=True)
class InventoryDiff:
    added_sites: tuple[Site, ...] = ()
    removed_sites: tuple[Site, ...] = ()
    changed_sites: tuple[ItemChange, ...] = ()
    added_devices: tuple[Device, ...] = ()
    removed_devices: tuple[Device, ...] = ()
    changed_devices: tuple[ItemChange, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not (self.added_sites or self.removed_sites or self.changed_sites
                    or self.added_devices or self.removed_devices or self.changed_devices)

    def summary(self) -> str:
        if self.is_empty:
            return "no changes"
        return (f"sites: {len(self.added_sites)} added, {len(self.removed_sites)} removed, "
                f"{len(self.changed_sites)} changed; devices: {len(self.added_devices)} added, "
                f"{len(self.removed_devices)} removed, {len(self.changed_devices)} changed")

    def lines(self) -> list[str]:
        """One line per added (+), removed (-) or changed (~) field, sites first."""
        out: list[str] = []
        out += [f"+ site {_describe_site(s)}" for s in self.added_sites]
        out += [f"- site {_describe_site(s)}" for s in self.removed_sites]
        out += [f"~ site {c.key}: {fc}" for c in self.changed_sites for fc in c.changes]
        out += [f"+ device {_describe_device(d)}" for d in self.added_devices]
        out += [f"- device {_describe_device(d)}" for d in self.removed_devices]
        out += [f"~ device {c.key}: {fc}" for c in self.changed_devices for fc in c.changes]
        return out

    def format(self) -> str:
        """A readable listing followed by the one-line count summary."""
        return "\n".join([*self.lines(), self.summary()])


def _show(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)


def _describe_site(site: Site) -> str:
    return f"{site.id} ({site.name}, {site.category.value})"


def _describe_device(dev: Device) -> str:
    return f"{dev.name} ({dev.role.value} {dev.address} at {dev.site}, {dev.status.value})"


def _field_changes(old: BaseModel, new: BaseModel) -> tuple[FieldChange, ...]:
    a = old.model_dump(mode="json")
    b = new.model_dump(mode="json")
    return tuple(FieldChange(name, a.get(name), b.get(name))
                 for name in type(new).model_fields if a.get(name) != b.get(name))


def _diff_items(old: Sequence[Any], new: Sequence[Any], key: str) -> tuple[tuple, tuple, tuple]:
    old_by = {getattr(item, key): item for item in old}
    new_by = {getattr(item, key): item for item in new}
    added = tuple(item for item in new if getattr(item, key) not in old_by)
    removed = tuple(item for item in old if getattr(item, key) not in new_by)
    changed = []
    for item in new:
        k = getattr(item, key)
        if k in old_by:
            changes = _field_changes(old_by[k], item)
            if changes:
                changed.append(ItemChange(k, changes))
    return added, removed, tuple(changed)


def diff_inventories(old: Inventory, new: Inventory) -> InventoryDiff:
    added_sites, removed_sites, changed_sites = _diff_items(old.sites, new.sites, "id")
    added_devices, removed_devices, changed_devices = _diff_items(old.devices, new.devices, "name")
    return InventoryDiff(added_sites, removed_sites, changed_sites, added_devices, removed_devices, changed_devices)


EMPTY_INVENTORY = Inventory(sites=[], devices=[])
