"""SNMPv3 traps: pysnmp's engine with the configured users, fed the datagrams the receiver got.

The engine checks the user, the sender's engine ID, the authentication digest, the time window and
decrypts; a trap that fails any of these never reaches the callback and is counted as refused.
"""

from __future__ import annotations

from collections.abc import Callable

from pysnmp.carrier.asyncio.dgram import udp
from pysnmp.entity import config, engine
from pysnmp.entity.rfc3413 import ntfrcv
from pysnmp.proto.api import v2c

from collectors.traps.decode import SNMP_TRAP_OID, Trap, value_of
from collectors.traps.settings import V3User

AUTH = {"md5": config.USM_AUTH_HMAC96_MD5, "sha": config.USM_AUTH_HMAC96_SHA,
        "sha224": config.USM_AUTH_HMAC128_SHA224, "sha256": config.USM_AUTH_HMAC192_SHA256,
        "sha384": config.USM_AUTH_HMAC256_SHA384, "sha512": config.USM_AUTH_HMAC384_SHA512}
PRIV = {"none": config.USM_PRIV_NONE, "des": config.USM_PRIV_CBC56_DES, "aes": config.USM_PRIV_CFB128_AES,
        "aes192": config.USM_PRIV_CFB192_AES, "aes256": config.USM_PRIV_CFB256_AES}


class V3Decoder:
    def __init__(self, users: list[V3User], secret: Callable[[str], str]):
        self.engine = engine.SnmpEngine()
        for u in users:
            priv = secret(u.priv_secret) if u.priv_secret and u.priv_protocol != "none" else None
            for engine_id in u.engine_ids:
                config.add_v3_user(self.engine, u.user, AUTH[u.auth_protocol], secret(u.auth_secret),
                                   PRIV[u.priv_protocol] if priv else config.USM_PRIV_NONE, priv,
                                   securityEngineId=v2c.OctetString(hexValue=engine_id.removeprefix("0x")))
        self._got: list[Trap] = []
        ntfrcv.NotificationReceiver(self.engine, self._received)

    def _received(self, snmp_engine, state_reference, context_engine_id, context_name, var_binds, cb_ctx) -> None:
        binds = {str(o): value_of(v) for o, v in var_binds}
        oid = binds.get(SNMP_TRAP_OID)
        if isinstance(oid, str):
            self._got.append(Trap("3", b"", oid, binds))

    def decode(self, datagram: bytes, source: tuple[str, int]) -> Trap | None:
        """The trap, or None if the engine refused it (unknown user or engine, bad digest, stale)."""
        self._got.clear()
        try:
            self.engine.message_dispatcher.receive_message(self.engine, udp.DOMAIN_NAME, source, datagram)
        except Exception:  # pysnmp raises assorted errors on hostile input; all mean "refused"
            return None
        return self._got[0] if self._got else None
