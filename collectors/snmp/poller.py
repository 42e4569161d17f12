"""Polling one device: pick its session (v2c or v3), GET the scalars, walk the columns."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field

from collectors.snmp import ber
from collectors.snmp.config import SnmpConfig
from collectors.snmp.plan import Oid, PollPlan, plan_for
from collectors.snmp.session import Session, SnmpError, V2cSession
from collectors.snmp.settings import ClassPolling
from collectors.snmp.transport import RequestTimeout, UdpTransport
from collectors.snmp.walk import WalkLimits, walk_columns
from nms.inventory.models import Device
from nms.secrets import SecretError, SecretResolver

_EXCEPTIONS = (ber.NO_SUCH_OBJECT, ber.NO_SUCH_INSTANCE, ber.END_OF_MIB_VIEW)


@dataclass
class DeviceSample:
    """The result of one poll of one device."""

    device: str
    started: float  # wall clock, seconds
    duration: float = 0.0
    ok: bool = False
    error: str | None = None  # reason slug, for metric labels
    message: str | None = None
    scalars: dict[str, object] = field(default_factory=dict)
    columns: dict[str, dict[Oid, tuple[int, object]]] = field(default_factory=dict)
    varbinds: int = 0
    anomalies: Counter[str] = field(default_factory=Counter)  # this poll's GETBULK anomalies


class DevicePoller:
    """Owns the shared transport and per-device sessions; polls one device at a time."""

    def __init__(self, snmp: SnmpConfig, secrets: SecretResolver, varbinds_per_request: int = 120):
        self.snmp = snmp
        self.secrets = secrets
        self.varbinds_per_request = varbinds_per_request
        self.transport = UdpTransport()
        self._v3_engine = None
        self._sessions: dict[tuple, Session] = {}
        self._plans: dict[str, PollPlan] = {}
        self._limits: dict[str, WalkLimits] = {}  # per device: what its agent accepts, learnt

    async def open(self) -> None:
        await self.transport.open()

    def close(self) -> None:
        self.transport.close()
        if self._v3_engine is not None:
            self._v3_engine.close_dispatcher()
            self._v3_engine = None

    def update_config(self, snmp: SnmpConfig) -> None:
        """A reload: new profiles and credential sets; sessions are rebuilt lazily."""
        self.snmp = snmp
        self._sessions.clear()
        self._plans.clear()
        self._limits.clear()

    def plan(self, profile_name: str) -> PollPlan:
        plan = self._plans.get(profile_name)
        if plan is None:
            plan = self._plans[profile_name] = plan_for(self.snmp.profiles[profile_name])
        return plan

    def session(self, device: Device, polling: ClassPolling) -> Session:
        timeout = device.timeout or polling.timeout
        retries = polling.retries if device.retries is None else device.retries
        key = (device.name, str(device.address), device.port, device.credentials, timeout, retries)
        session = self._sessions.get(key)
        if session is not None:
            return session
        cred = self.snmp.credentials[device.credentials]
        address = (str(device.address), device.port)
        if cred.version == "2c":
            session = V2cSession(self.transport, address, self.secrets.get(device.credentials), timeout, retries)
        else:
            from collectors.snmp.session_v3 import V3Session  # pysnmp loads slowly; only when needed

            if self._v3_engine is None:
                from pysnmp.hlapi.v3arch.asyncio import SnmpEngine

                self._v3_engine = SnmpEngine()
            session = V3Session(self._v3_engine, address, cred.username or "",
                                self.secrets.get(f"{device.credentials}-auth"),
                                self.secrets.get(f"{device.credentials}-priv"),
                                cred.auth_protocol or "SHA", cred.priv_protocol or "AES", timeout, retries)
        self._sessions[key] = session
        return session

    def keep_only(self, device_names: set[str]) -> None:
        """Drop the sessions of devices that left the inventory."""
        self._sessions = {k: v for k, v in self._sessions.items() if k[0] in device_names}
        self._limits = {k: v for k, v in self._limits.items() if k in device_names}

    def limits(self, device: Device) -> WalkLimits:
        limits = self._limits.get(device.name)
        if limits is None:
            profile = self.snmp.profiles[device.profile]
            limits = self._limits[device.name] = WalkLimits(self.varbinds_per_request, profile.max_repetitions)
        return limits

    async def poll(self, device: Device, polling: ClassPolling, deadline: float | None = None) -> DeviceSample:
        """Poll a device within ``deadline`` seconds. Never raises: failures are in the sample."""
        sample = DeviceSample(device=device.name, started=time.time())
        t0 = time.perf_counter()
        try:
            coro = self._poll(device, polling, sample)
            await (asyncio.wait_for(coro, deadline) if deadline else coro)
            sample.ok = True
        except (RequestTimeout, TimeoutError) as exc:
            sample.error, sample.message = "timeout", str(exc) or f"poll exceeded its {deadline:.1f}s budget"
        except ber.DecodeError as exc:
            sample.error, sample.message = "decode_" + exc.reason, f"malformed response: {exc}"
        except SnmpError as exc:
            sample.error, sample.message = exc.reason, str(exc)
        except SecretError as exc:
            sample.error, sample.message = "missing_secret", str(exc)
        except OSError as exc:
            sample.error, sample.message = "socket", f"{type(exc).__name__}: {exc}"
        sample.duration = time.perf_counter() - t0
        return sample

    async def _poll(self, device: Device, polling: ClassPolling, sample: DeviceSample) -> None:
        plan = self.plan(device.profile)
        session = self.session(device, polling)
        names = list(plan.scalars)
        varbinds = await session.get([plan.scalars[n] for n in names])
        for name, (_oid, tag, value) in zip(names, varbinds, strict=False):
            if tag not in _EXCEPTIONS:
                sample.scalars[name] = value
        roots = list(plan.columns.values())
        limits = self.limits(device)
        limits.anomalies = sample.anomalies
        walked = await walk_columns(session, roots, limits)
        sample.varbinds = len(varbinds) + sum(len(c) for c in walked.values())
        sample.columns = {name: walked[oid] for name, oid in plan.columns.items()}
