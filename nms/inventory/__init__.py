"""The district inventory: typed models, sources (YAML, NetBox) and summaries."""

from nms.inventory.models import Category, Device, DeviceStatus, Inventory, Role, Site

__all__ = ["Category", "Device", "DeviceStatus", "Inventory", "Role", "Site"]
