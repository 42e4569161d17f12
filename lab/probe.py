"""Are simulated devices answering? One SNMP GET of sysName.0 each, v2c or v3 (pysnmp)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from lab.labsecrets import LabCredential

SYS_NAME = "1.3.6.1.2.1.1.5.0"


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    credential: LabCredential


async def _sysnames(targets: Sequence[Target], timeout: float) -> list[str | None]:
    from pysnmp.hlapi.v3arch.asyncio import (
        CommunityData,
        ContextData,
        ObjectIdentity,
        ObjectType,
        SnmpEngine,
        Udp6TransportTarget,
        UdpTransportTarget,
        UsmUserData,
        get_cmd,
    )

    from collectors.snmp.session_v3 import AUTH_PROTOCOLS, PRIV_PROTOCOLS

    engine = SnmpEngine()

    async def one(t: Target) -> str | None:
        cred = t.credential
        if cred.version == "2c":
            auth = CommunityData(cred.community or "", mpModel=1)
        else:
            auth = UsmUserData(cred.username or "", authKey=cred.auth_key, privKey=cred.priv_key,
                               authProtocol=AUTH_PROTOCOLS[cred.auth_protocol or "SHA"],
                               privProtocol=PRIV_PROTOCOLS[cred.priv_protocol or "AES"])
        transport = Udp6TransportTarget if ":" in t.host else UdpTransportTarget
        target = await transport.create((t.host, t.port), timeout=timeout, retries=0)
        error_indication, error_status, _, varbinds = await get_cmd(
            engine, auth, target, ContextData(), ObjectType(ObjectIdentity(SYS_NAME)), lookupMib=False)
        if error_indication or error_status or not varbinds:
            return None
        return str(varbinds[0][1])

    try:
        return list(await asyncio.gather(*(one(t) for t in targets)))
    finally:
        engine.close_dispatcher()


def sysnames(targets: Sequence[Target], timeout: float = 0.5) -> list[str | None]:
    """sysName.0 of each agent, or None for those that do not answer within ``timeout``."""
    if not targets:
        return []
    return asyncio.run(_sysnames(targets, timeout))
