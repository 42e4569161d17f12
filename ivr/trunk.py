"""The carrier trunk's health, as Asterisk sees it: registered, reachable (OPTIONS qualify), round trip.

Asterisk reports changes as AMI events (``Registry`` for the outbound registration, ``ContactStatus``
and ``PeerStatus`` for the qualify result). Events are missed while the controller is away and the
round trip time changes without an event, so the state is also read back with
``PJSIPShowRegistrationsOutbound`` and ``PJSIPShowEndpoint`` after every (re)connect and periodically.

AMI privileges (Asterisk 22, checked against a real instance): the events come with read class
``system``; ``PJSIPShowRegistrationsOutbound`` and ``DeviceStateList`` need write class ``reporting``;
``PJSIPShowEndpoint`` (the contact's status with its current round trip) needs write class ``system``.
With ``reporting`` only, reachability is read back from the endpoint's device state (UNAVAILABLE when
the carrier does not answer OPTIONS) and the round trip time is the one Asterisk reported with the last
change of status; this is logged once.

Asterisk's registration status "Rejected" means either that the carrier refused our credentials or
that the REGISTER went unanswered; it counts as refused credentials only while the carrier answers
OPTIONS. Each change of the trunk's *case* (registered, credentials refused, carrier unreachable, ...) is logged
once, in words that say what to do.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from ivr.ami_protocol import AmiConnection, AmiError
from ivr.config import Trunk
from ivr.metrics import IvrStats, TrunkHealth

log = logging.getLogger(__name__)

#: The events the trunk monitor follows (the controller's AMI event filter must let them through).
TRUNK_EVENTS = ("Registry", "ContactStatus", "PeerStatus")


class TrunkCase(StrEnum):
    UNKNOWN = "unknown"
    REGISTERED = "registered"
    REACHABLE = "reachable"  # a trunk without registration answers OPTIONS
    REGISTERING = "registering"  # reachable, registration not (yet) accepted nor refused
    AUTH_REJECTED = "auth-rejected"
    UNREACHABLE = "unreachable"


@dataclass
class _State:
    registration: str | None = None  # Asterisk's status: Registered, Unregistered, Rejected, ...
    reachable: bool | None = None
    rtt: float | None = None  # seconds
    case: TrunkCase = TrunkCase.UNKNOWN
    #: Asterisk says "Rejected" both when the carrier refused our credentials and when the REGISTER
    #: timed out; a rejection that came while the carrier did not answer OPTIONS is the latter.
    refused: bool = False

    def registration_status(self, status: str | None, new_attempt: bool) -> None:
        if status == "Rejected":
            if new_attempt or self.registration != "Rejected":
                self.refused = self.reachable is not False
        else:
            self.refused = False
        self.registration = status


def _case(trunk: Trunk, s: _State) -> TrunkCase:
    if s.reachable is False:
        return TrunkCase.UNREACHABLE
    if trunk.registration is not None and s.registration == "Rejected" and s.refused:
        return TrunkCase.AUTH_REJECTED
    if trunk.registration is None:
        return TrunkCase.REACHABLE if s.reachable else TrunkCase.UNKNOWN
    if s.registration == "Registered":
        return TrunkCase.REGISTERED
    if s.registration is None and s.reachable is None:
        return TrunkCase.UNKNOWN
    return TrunkCase.REGISTERING


_REG_STATES = ("Registered", "Unregistered", "Rejected", "Stopped")
#: ``pjsip show contacts`` status words, as the AMI's ContactStatus names them.
_CONTACT_STATES = {"Avail": "Reachable", "Unavail": "Unreachable", "NonQual": "NonQualified",
                   "Unknown": "Unknown", "Created": "Created", "Removed": "Removed"}


class TrunkMonitor:
    """Follows one trunk (the one ivr.yaml configures) and publishes its health into ``stats``."""

    def __init__(self, trunk: Trunk | None, stats: IvrStats):
        #: runs a CLI command on Asterisk's control socket (set by the controller); None: AMI only
        self.cli: Callable[..., Awaitable[str]] | None = None
        self.stats = stats
        self._trunk: Trunk | None = None
        self._state = _State()
        self._endpoint_denied = False
        self._read_error = False
        self.configure(trunk)

    @property
    def trunk(self) -> Trunk | None:
        return self._trunk

    @property
    def case(self) -> TrunkCase:
        return self._state.case

    def configure(self, trunk: Trunk | None) -> None:
        """Start (or, after a reload that changed the trunk, restart) following ``trunk``."""
        if trunk == self._trunk:
            return
        if self._trunk is not None:
            self.stats.trunks.pop(self._trunk.name, None)
        self._trunk = trunk
        self._state = _State()
        self._publish()

    # --- events ---------------------------------------------------------------------------------

    def on_event(self, msg: Mapping[str, str]) -> None:
        t = self._trunk
        if t is None:
            return
        event = msg.get("Event")
        if event == "Registry":
            if msg.get("ChannelType", "").upper() == "PJSIP" and self._is_ours(msg.get("Domain", "")):
                self._state.registration_status(msg.get("Status") or None, new_attempt=True)
                self._changed()
        elif event == "ContactStatus":
            if msg.get("EndpointName") == t.name or msg.get("AOR") == t.name:
                self._contact(msg.get("ContactStatus", ""), msg.get("RoundtripUsec"))
        elif event == "PeerStatus" and msg.get("Peer") == f"PJSIP/{t.name}":
            status = msg.get("PeerStatus", "")
            if status in ("Reachable", "Unreachable"):
                self._state.reachable = status == "Reachable"
                self._changed()

    def _is_ours(self, server_uri: str) -> bool:
        """Registry events name the registration by its server URI, as rendered (``sip:DOMAIN:PORT``)."""
        t = self._trunk
        if t is None or t.registration is None:
            return False
        return server_uri == f"sip:{t.registration.domain or t.host}:{t.port}"

    def _contact(self, status: str, rtt_usec: str | None) -> None:
        if status in ("Reachable", "Unreachable"):
            self._state.reachable = status == "Reachable"
        elif status in ("Removed", "NonQualified"):
            self._state.reachable = None
        else:  # Created, Updated, Unknown: nothing learnt about reachability
            return
        usec = _int(rtt_usec)
        self._state.rtt = usec / 1e6 if self._state.reachable and usec > 0 else None
        self._changed()

    # --- resynchronisation ----------------------------------------------------------------------

    async def refresh(self, conn: AmiConnection) -> None:
        """Read the registration and the contact's qualify result back from Asterisk."""
        t = self._trunk
        if t is None:
            return
        if t.registration is not None:
            try:
                regs = await conn.event_list({"Action": "PJSIPShowRegistrationsOutbound"},
                                             "OutboundRegistrationDetail")
            except AmiError as exc:
                status = await self._cli_registration(t.registration_section) if self.cli else None
                if status is None:
                    self._read_failed("the registration state", exc)
                    return
                self._state.registration_status(status, new_attempt=False)
            else:
                # Only the status is kept: these events also carry the auth section, password included.
                status = next((r.get("Status") for r in regs if r.get("ObjectName") == t.registration_section), None)
                self._state.registration_status(status or None, new_attempt=False)
        if not self._endpoint_denied:
            try:
                details = await conn.event_list({"Action": "PJSIPShowEndpoint", "Endpoint": t.name},
                                                "ContactStatusDetail")
            except AmiError as exc:
                if "permission denied" not in str(exc).lower():
                    self._read_failed("the qualify result", exc)
                    return
                contact = await self._cli_contact(t.name) if self.cli else None
                if contact is not None:
                    self._contact(*contact)
                else:
                    log.warning("trunk %s: the AMI account may not read PJSIPShowEndpoint (write class 'system'); "
                                "reachability comes from the device state, the round trip time only with each "
                                "change of status", t.name)
                    self._endpoint_denied = True
            else:
                contact = next((d for d in details if d.get("AOR") == t.name), None)
                if contact is not None:
                    self._contact(contact.get("Status", ""), contact.get("RoundtripUsec"))
        if self._endpoint_denied and t.qualify_frequency:
            try:
                states = await conn.event_list({"Action": "DeviceStateList"}, "DeviceStateChange")
            except AmiError as exc:
                self._read_failed("the device state", exc)
                return
            state = next((d.get("State", "") for d in states if d.get("Device") == f"PJSIP/{t.name}"), "")
            if state:
                self._state.reachable = state.upper() != "UNAVAILABLE"
                if not self._state.reachable:
                    self._state.rtt = None
        self._read_error = False
        self._changed()

    async def _cli_registration(self, section: str) -> str | None:
        """The registration's status from ``pjsip show registrations`` on the control socket (the
        read-only AMI account may not ask; see ivr.control)."""
        try:
            out = await self.cli("pjsip", "show", "registrations")
        except AmiError:
            return None
        for line in out.splitlines():
            words = line.split()
            if words and words[0].startswith(section + "/"):
                return next((w for w in words[1:] if w in _REG_STATES), None)
        return None

    async def _cli_contact(self, aor: str) -> tuple[str, str | None] | None:
        """(status, round trip in µs) of the trunk's contact from ``pjsip show contacts``."""
        try:
            out = await self.cli("pjsip", "show", "contacts")
        except AmiError:
            return None
        for line in out.splitlines():
            words = line.split()
            if len(words) >= 4 and words[0] == "Contact:" and words[1].startswith(aor + "/"):
                status = _CONTACT_STATES.get(words[3])
                if status is None:
                    return None
                try:
                    rtt = str(int(float(words[4]) * 1000)) if len(words) > 4 else None
                except ValueError:
                    rtt = None
                return status, rtt
        return None

    def _read_failed(self, what: str, exc: AmiError) -> None:
        """A read-back failed (the events still keep the state current); said once until one succeeds."""
        if not self._read_error:
            log.warning("trunk %s: cannot read %s back from Asterisk: %s", self._trunk.name if self._trunk else "?",
                        what, exc)
        self._read_error = True

    # --- publishing -----------------------------------------------------------------------------

    def _changed(self) -> None:
        t = self._trunk
        assert t is not None
        case = _case(t, self._state)
        if case != self._state.case:
            self._state.case = case
            self._log(t, case)
        self._publish()

    def _publish(self) -> None:
        t = self._trunk
        if t is None:
            return
        s = self._state
        self.stats.trunks[t.name] = TrunkHealth(
            registered=None if t.registration is None or s.registration is None else s.registration == "Registered",
            reachable=s.reachable, rtt=s.rtt)

    def _log(self, t: Trunk, case: TrunkCase) -> None:
        where = f"{t.host}:{t.port}"
        rtt = f" (round trip {self._state.rtt * 1000:.1f} ms)" if self._state.rtt is not None else ""
        if case is TrunkCase.REGISTERED:
            log.info("trunk %s: registered with the carrier at %s%s", t.name, where, rtt)
        elif case is TrunkCase.REACHABLE:
            log.info("trunk %s: the carrier at %s answers OPTIONS%s", t.name, where, rtt)
        elif case is TrunkCase.REGISTERING:
            log.info("trunk %s: the carrier at %s is reachable; registration not accepted yet (%s)", t.name,
                     where, self._state.registration or "not sent yet")
        elif case is TrunkCase.AUTH_REJECTED:
            reg = t.registration
            assert reg is not None
            log.error("trunk %s: the carrier at %s rejected our registration: wrong user name or password "
                      "(secrets %r, %r)? Retrying every %d s", t.name, where, reg.username_secret,
                      reg.password_secret, reg.forbidden_retry_interval)
        elif case is TrunkCase.UNREACHABLE:
            log.error("trunk %s: the carrier at %s is unreachable (no answer to OPTIONS within %g s); "
                      "inbound calls cannot arrive", t.name, where, t.qualify_timeout)


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0
