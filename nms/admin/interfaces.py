"""What the admin page is given by the application, as typed interfaces (it never imports the application).

:class:`AdminDistrict` is the part of the composed configuration the page reads (the application's
``District`` satisfies it); :class:`Runner` is the running service (``nms.service.ServiceRunner``)
through which the page reaches the subsystems it shows and applies changes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, Self

from collectors.flows.settings import FlowSettings
from collectors.snmp.config import SnmpConfig
from collectors.snmp.settings import PollingSettings
from ivr.settings import IvrSettings
from nms.admin.settings import AdminSettings
from nms.inventory.models import Inventory
from nms.inventory.plugins import NetBoxInventorySettings, YamlInventorySettings
from nms.reports.settings import ReportSettings


class HttpView(Protocol):
    @property
    def listen(self) -> str: ...

    @property
    def reload_token_secret(self) -> str: ...


class AdminServiceSettings(Protocol):
    """nms.yaml, as the page reads it."""

    @property
    def inventory(self) -> YamlInventorySettings | NetBoxInventorySettings: ...

    @property
    def http(self) -> HttpView: ...

    @property
    def polling(self) -> PollingSettings: ...

    @property
    def flows(self) -> FlowSettings: ...

    @property
    def ivr(self) -> IvrSettings: ...

    @property
    def admin(self) -> AdminSettings: ...

    @property
    def reports(self) -> ReportSettings: ...


class AdminDistrict(Protocol):
    """The composed configuration the page shows and edits."""

    @property
    def config_path(self) -> Path: ...

    @property
    def settings(self) -> AdminServiceSettings: ...

    @property
    def inventory(self) -> Inventory: ...

    @property
    def snmp(self) -> SnmpConfig: ...

    def reloaded(self) -> Self:
        """The configuration as the files say now (raises ``ConfigError``)."""
        ...


class NamedService(Protocol):
    name: str


class Runner(Protocol):
    """The running service the page is attached to."""

    @property
    def district(self) -> AdminDistrict: ...

    @property
    def services(self) -> Sequence[NamedService]: ...

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None: ...

    def reload_from_thread(self) -> tuple[bool, str]: ...
