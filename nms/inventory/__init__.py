"""The district inventory: typed models, sources (YAML, NetBox) and summaries."""

from nms.inventory.models import Category, Device, DeviceRole, DeviceStatus, Inventory, Site

__all__ = ["Category", "Device", "DeviceRole", "DeviceStatus", "Inventory", "Site"]
