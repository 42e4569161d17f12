"""SNMPv3 (authPriv) sessions through pysnmp, converted to the codec's varbind shape.

pysnmp is slow but complete; v3 devices (the backbone switches and the IPS) are few, so the
USM work stays with the reference implementation rather than a second hand-written one.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from pysnmp.hlapi.v3arch.asyncio import (
    ContextData,
    ObjectIdentity,
    ObjectType,
    SnmpEngine,
    Udp6TransportTarget,
    UdpTransportTarget,
    UsmUserData,
    bulk_cmd,
    get_cmd,
    usmAesCfb128Protocol,
    usmAesCfb256Protocol,
    usmHMAC192SHA256AuthProtocol,
    usmHMAC384SHA512AuthProtocol,
    usmHMACSHAAuthProtocol,
)

from collectors.snmp.session import SnmpError, VarBind
from collectors.snmp.transport import Address, RequestTimeout

AUTH_PROTOCOLS = {"SHA": usmHMACSHAAuthProtocol, "SHA256": usmHMAC192SHA256AuthProtocol,
                  "SHA512": usmHMAC384SHA512AuthProtocol}
PRIV_PROTOCOLS = {"AES": usmAesCfb128Protocol, "AES256": usmAesCfb256Protocol}


def to_varbind(name, value) -> VarBind:
    """Convert a pysnmp (ObjectName, value) pair to ``(oid tuple, BER tag, python value)``."""
    tag_obj = value.tagSet[0]
    tag = tag_obj.tagClass | tag_obj.tagFormat | tag_obj.tagId
    oid = tuple(name)
    if tag in (0x02, 0x41, 0x42, 0x43, 0x46):
        return oid, tag, int(value)
    if tag in (0x04, 0x44):
        return oid, tag, bytes(value.asOctets())
    if tag == 0x06:
        return oid, tag, tuple(value)
    if tag == 0x40:
        return oid, tag, str(ipaddress.IPv4Address(bytes(value.asOctets())))
    return oid, tag, None


class V3Session:
    def __init__(self, engine: SnmpEngine, address: Address, username: str, auth_key: str, priv_key: str,
                 auth_protocol: str, priv_protocol: str, timeout: float, retries: int):
        self.engine = engine
        self.address = address
        self.user = UsmUserData(username, authKey=auth_key, privKey=priv_key,
                                authProtocol=AUTH_PROTOCOLS[auth_protocol],
                                privProtocol=PRIV_PROTOCOLS[priv_protocol])
        self.timeout = timeout
        self.retries = retries
        self._target = None

    async def _target_for(self):
        if self._target is None:
            cls = Udp6TransportTarget if ":" in self.address[0] else UdpTransportTarget
            self._target = await cls.create(self.address, timeout=self.timeout, retries=self.retries)
        return self._target

    def _check(self, error_indication, error_status, error_index) -> None:
        if error_indication:
            text = str(error_indication)
            if "timeout" in text.lower() or "no snmp response" in text.lower():
                raise RequestTimeout(f"no response from {self.address[0]}:{self.address[1]}")
            raise SnmpError("v3_" + type(error_indication).__name__.lower(), text)
        if error_status:
            raise SnmpError("agent_error", f"{error_status.prettyPrint()} at index {error_index}")

    async def get(self, oids: Sequence[tuple[int, ...]]) -> list[VarBind]:
        target = await self._target_for()
        ei, es, ix, vbs = await get_cmd(self.engine, self.user, target, ContextData(),
                                        *(ObjectType(ObjectIdentity(o)) for o in oids), lookupMib=False)
        self._check(ei, es, ix)
        return [to_varbind(n, v) for n, v in vbs]

    async def get_bulk(self, oids: Sequence[tuple[int, ...]], max_repetitions: int) -> list[VarBind]:
        target = await self._target_for()
        ei, es, ix, vbs = await bulk_cmd(self.engine, self.user, target, ContextData(), 0, max_repetitions,
                                         *(ObjectType(ObjectIdentity(o)) for o in oids), lookupMib=False)
        self._check(ei, es, ix)
        return [to_varbind(n, v) for n, v in vbs]
