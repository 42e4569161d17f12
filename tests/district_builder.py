"""Small districts for tests: a handful of devices written as real config files in a temp dir."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
SITES = [
    {"id": "government-001", "name": "금천구청", "category": "government", "installed": 2015,
     "subnets": ["10.10.1.0/24"]},
    {"id": "park-001", "name": "금천체육공원", "category": "park", "installed": 2017, "subnets": ["10.20.1.0/24"]},
    {"id": "market-001", "name": "남문시장", "category": "market", "installed": 2019, "subnets": ["10.40.1.0/24"]},
]


def device(name: str, role: str, address: str, port: int, *, site: str = "government-001",
           profile: str | None = None, credentials: str = "district-v2c", **extra) -> dict:
    profile = profile or {"backbone": "switch", "access": "switch", "ips": "ips", "ap": "ap-cisco",
                          "host": "host"}[role]
    return {"name": name, "role": role, "site": site, "address": address, "port": port, "profile": profile,
            "credentials": credentials, **extra}


def write_district(directory: Path, devices: list[dict], *, interval: float = 60, timeout: float = 1.0,
                   retries: int = 0, listen: str = "127.0.0.1:0", sites: list[dict] | None = None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "configs" / "snmp.yaml", directory / "snmp.yaml")
    (directory / "inventory.yaml").write_text(
        yaml.safe_dump({"version": 1, "sites": sites or SITES, "devices": devices}, allow_unicode=True))
    classes = {role: {"interval": interval, "timeout": timeout, "retries": retries}
               for role in ("backbone", "access", "ips", "ap", "host")}
    (directory / "nms.yaml").write_text(yaml.safe_dump(
        {"inventory": "inventory.yaml", "snmp": "snmp.yaml", "http": {"listen": listen},
         "polling": {"jitter": 0.0, "concurrency": 16, "classes": classes}}))
    return directory / "nms.yaml"
