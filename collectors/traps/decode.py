"""One trap datagram -> (version, community, trap OID, varbinds), with pysnmp's codec."""

from __future__ import annotations

from dataclasses import dataclass

from pyasn1.codec.ber import decoder
from pyasn1.error import PyAsn1Error
from pyasn1.type import univ
from pysnmp.proto import api
from pysnmp.proto.error import ProtocolError

SNMP_TRAP_OID = "1.3.6.1.6.3.1.1.4.1.0"
SNMP_TRAPS = "1.3.6.1.6.3.1.1.5"
# v1 generic-trap numbers -> the SNMPv2 trap OID (RFC 3584 §3.1)
GENERIC = {0: f"{SNMP_TRAPS}.1", 1: f"{SNMP_TRAPS}.2", 2: f"{SNMP_TRAPS}.3", 3: f"{SNMP_TRAPS}.4",
           4: f"{SNMP_TRAPS}.5", 5: f"{SNMP_TRAPS}.6"}


class TrapDecodeError(ValueError):
    """Not a trap we can read; ``reason`` is a short metric label."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Trap:
    version: str  # "1" | "2c" | "3"
    community: bytes
    oid: str
    varbinds: dict[str, object]  # OID -> int | bytes | str


def value_of(v: object) -> object:
    if isinstance(v, univ.ObjectIdentifier):
        return str(v)
    try:
        return int(v)  # type: ignore[call-overload]
    except (TypeError, ValueError, PyAsn1Error):
        pass
    try:
        return bytes(v)  # type: ignore[call-overload]
    except (TypeError, ValueError, PyAsn1Error):
        return str(v)


def decode(datagram: bytes) -> Trap:
    try:
        version = int(api.decodeMessageVersion(datagram))
    except (PyAsn1Error, ProtocolError, ValueError):
        raise TrapDecodeError("malformed") from None
    if version == 3:  # SNMPv3: collectors.traps.v3, with the configured users
        raise TrapDecodeError("v3")
    if version not in (api.SNMP_VERSION_1, api.SNMP_VERSION_2C):
        raise TrapDecodeError("version")
    proto = api.PROTOCOL_MODULES[version]
    try:
        msg, _ = decoder.decode(datagram, asn1Spec=proto.Message())
        community = bytes(proto.apiMessage.get_community(msg))
        pdu = proto.apiMessage.get_pdu(msg)
        if version == api.SNMP_VERSION_1:
            if not pdu.isSameTypeWith(proto.TrapPDU()):
                raise TrapDecodeError("not-a-trap")
            generic = int(proto.apiTrapPDU.get_generic_trap(pdu))
            if generic == 6:
                enterprise = str(proto.apiTrapPDU.get_enterprise(pdu))
                oid = f"{enterprise}.0.{int(proto.apiTrapPDU.get_specific_trap(pdu))}"
            else:
                oid = GENERIC.get(generic, f"generic.{generic}")
            binds = proto.apiTrapPDU.get_varbinds(pdu)
            return Trap("1", community, oid, {str(o): value_of(v) for o, v in binds})
        if not (pdu.isSameTypeWith(proto.SNMPv2TrapPDU()) or pdu.isSameTypeWith(proto.InformRequestPDU())):
            raise TrapDecodeError("not-a-trap")
        binds = {str(o): value_of(v) for o, v in proto.apiPDU.get_varbinds(pdu)}
    except (PyAsn1Error, ProtocolError, ValueError, TypeError, IndexError) as exc:
        if isinstance(exc, TrapDecodeError):
            raise
        raise TrapDecodeError("malformed") from None
    oid = binds.get(SNMP_TRAP_OID)
    if not isinstance(oid, str):
        raise TrapDecodeError("no-trap-oid")
    return Trap("2c", community, oid, binds)
