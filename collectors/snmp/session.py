"""Sessions: one device's GET and GETBULK, the same interface for v2c (lean codec) and v3 (pysnmp).

A varbind is ``(oid: tuple[int, ...], tag: int, value)`` with the BER tag of its type, as
:mod:`collectors.snmp.ber` decodes it. Both paths produce exactly this shape, so the walk logic,
the metrics and the tests do not care which protocol version served them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from collectors.snmp import ber
from collectors.snmp.transport import Address, UdpTransport

VarBind = tuple[tuple[int, ...], int, object]


class SnmpError(Exception):
    """An error the agent reported (errorStatus), or a protocol-level failure."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


class Session(Protocol):
    address: Address

    async def get(self, oids: Sequence[tuple[int, ...]]) -> list[VarBind]: ...

    async def get_bulk(self, oids: Sequence[tuple[int, ...]], max_repetitions: int) -> list[VarBind]: ...


# Encoded OIDs shared by every session: the roots and the cursors of a walk are the same OIDs on
# thousands of devices of one kind. Bounded: a hostile agent's odd OIDs cannot grow it forever.
_OID_CACHE: dict[tuple[int, ...], bytes] = {}
_OID_CACHE_MAX = 50_000


class V2cSession:
    """SNMPv2c over the shared :class:`UdpTransport`, encoded and decoded by our own codec."""

    def __init__(self, transport: UdpTransport, address: Address, community: str,
                 timeout: float, retries: int):
        self.transport = transport
        self.address = address
        self.community = community.encode()
        self.timeout = timeout
        self.retries = retries

    @staticmethod
    def _encoded(oids: Sequence[tuple[int, ...]]) -> list[bytes]:
        cache = _OID_CACHE
        out = []
        for oid in oids:
            enc = cache.get(oid)
            if enc is None:
                enc = ber.encode_oid(oid)
                if len(cache) < _OID_CACHE_MAX:  # column roots and walk cursors of every device
                    cache[oid] = enc
            out.append(enc)
        return out

    async def _exchange(self, build) -> list[VarBind]:
        data = await self.transport.request(self.address, build, self.timeout, self.retries)
        response = ber.decode_response(data)
        if response.error_status:
            raise SnmpError(_error_reason(response.error_status),
                            f"agent {self.address[0]}:{self.address[1]} answered errorStatus "
                            f"{response.error_status} at index {response.error_index}")
        return response.varbinds

    async def get(self, oids: Sequence[tuple[int, ...]]) -> list[VarBind]:
        encoded = self._encoded(oids)
        return await self._exchange(lambda rid: ber.encode_get(rid, self.community, encoded))

    async def get_bulk(self, oids: Sequence[tuple[int, ...]], max_repetitions: int) -> list[VarBind]:
        encoded = self._encoded(oids)
        return await self._exchange(
            lambda rid: ber.encode_get_bulk(rid, self.community, encoded, 0, max_repetitions))


_ERROR_NAMES = {1: "too_big", 2: "no_such_name", 3: "bad_value", 5: "gen_err", 6: "no_access"}


def _error_reason(status: int) -> str:
    return _ERROR_NAMES.get(status, f"error_status_{status}")
