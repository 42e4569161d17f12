"""The trap receiver as a service of ``nms run``: a UDP listener, the inventory's addresses, the state."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from typing import Protocol

from collectors.traps.decode import TrapDecodeError, decode
from collectors.traps.settings import TrapSettings
from collectors.traps.state import TrapState
from collectors.traps.v3 import V3Decoder
from nms.configfile import section
from nms.inventory.models import Inventory
from nms.secrets import SecretResolver

log = logging.getLogger(__name__)


class _Configured(Protocol):
    @property
    def inventory(self) -> Inventory: ...

    @property
    def settings(self) -> object: ...


def _sources(inventory: Inventory) -> dict[str, str]:
    """Management address -> device; the first device wins where several share one address."""
    found: dict[str, str] = {}
    for device in inventory.devices:
        found.setdefault(str(ipaddress.ip_address(device.address)), device.name)
    return found


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, service: TrapReceiverService):
        self.service = service

    def datagram_received(self, data: bytes, addr: tuple) -> None:
        self.service.handle(data, str(addr[0]), int(addr[1]))


class TrapReceiverService:
    name = "traps"

    def __init__(self, district: _Configured, secrets: SecretResolver | None = None):
        self.secrets = secrets or SecretResolver()
        self.settings = section(district.settings, "traps", TrapSettings)
        self.state = TrapState(self.settings.max_interfaces, self.settings.max_unknown_oids,
                               self.settings.link_state_ttl)
        self._apply(district, self.settings)
        self.transport: asyncio.DatagramTransport | None = None
        self.port = 0

    def _apply(self, district: _Configured, settings: TrapSettings) -> None:
        self.communities = [self.secrets.get(name).encode() for name in settings.communities]
        self.v3 = V3Decoder(settings.v3_users, self.secrets.get) if settings.v3_users else None
        self.sources = _sources(district.inventory)
        self.settings = settings
        self.state.ttl = settings.link_state_ttl
        self.state.max_interfaces, self.state.max_unknown_oids = settings.max_interfaces, settings.max_unknown_oids

    def handle(self, data: bytes, source: str, port: int = 0) -> None:
        device = self.sources.get(source.removeprefix("::ffff:"))
        if device is None:
            self.state.drop("unknown-source")
            return
        if len(data) > self.settings.max_datagram:
            self.state.drop("too-large")
            return
        try:
            trap = decode(data)
        except TrapDecodeError as exc:
            if exc.reason != "v3":
                self.state.drop(exc.reason)
                return
            if self.v3 is None:
                self.state.drop("v3-unsupported")
                return
            v3 = self.v3.decode(data, (source, port))
            if v3 is None:
                self.state.drop("v3-refused")
                return
            trap = v3
        name = self.state.accept(device, trap, None if trap.version == "3" else self.communities)
        if name in ("linkDown", "linkUp", "coldStart", "warmStart"):
            log.info("trap %s from %s", name, device)

    async def start(self) -> None:
        host, _, port = self.settings.listen.rpartition(":")
        loop = asyncio.get_running_loop()
        self.transport, _ = await loop.create_datagram_endpoint(lambda: _Protocol(self),
                                                                local_addr=(host.strip("[]"), int(port)))
        self.port = self.transport.get_extra_info("sockname")[1]
        sock = self.transport.get_extra_info("socket")
        try:
            sock.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_RCVBUFFORCE", 33), self.settings.receive_buffer)
        except OSError:  # not root: as much as net.core.rmem_max allows
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.settings.receive_buffer)
        log.info("receiving SNMP traps on %s:%d/udp", host, self.port)

    async def stop(self) -> None:
        if self.transport is not None:
            self.transport.close()
            self.transport = None

    def reload(self, district: _Configured) -> None:
        new = section(district.settings, "traps", TrapSettings)
        if new.listen != self.settings.listen:
            log.warning("traps.listen changed to %s; it applies at the next restart", new.listen)
            new = new.model_copy(update={"listen": self.settings.listen})
        self._apply(district, new)

    def collectors(self) -> list[TrapState]:
        return [self.state]
