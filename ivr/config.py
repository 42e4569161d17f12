"""ivr.yaml: the auto-answer system's configuration, validated before anything uses it.

Field-level checks live in the pydantic models; checks across fields (a DID used twice,
overlapping hours, unknown announcement keys, ...) are collected by :meth:`IvrConfig.problems`
so that every problem is reported with its file, line and key, not only the first one.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from nms.configfile import ConfigError, Problem, format_location, read_yaml, validate

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "configs" / "ivr.yaml"

Name = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")]
Did = Annotated[str, Field(pattern=r"^[0-9]{3,15}$", description="dialled number, digits only")]
Clock = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$", description="HH:MM")]
DialString = Annotated[str, Field(pattern=r"^(PJSIP|Local|IAX2|DAHDI)/[A-Za-z0-9_@./+:-]+$")]

#: Announcement keys every configuration must define (``warning-N`` are added by policy).
REQUIRED_ANNOUNCEMENTS = (
    "staff-protection",
    "recording-notice",
    "menu",
    "busy",
    "after-hours",
    "lunch",
    "holiday",
    "warning-final",
    "time-limit-warning",
    "time-limit-end",
)
_WARNING_KEY = re.compile(r"^warning-([1-9][0-9]?)$")
HANGUP = "hangup"


class Weekday(StrEnum):
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"


WEEKDAY_ORDER = list(Weekday)


def minutes(clock: str) -> int:
    h, m = clock.split(":")
    return int(h) * 60 + int(m)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Department(_Strict):
    id: Name
    name: str = Field(min_length=1, description="Korean name")
    dids: list[Did] = Field(default_factory=list, description="direct-dial numbers")
    target: DialString | None = Field(default=None, description="staff dial string, e.g. PJSIP/2301")
    protection: bool = Field(default=True, description="staff-protection announcement and warning key")
    recording: bool = Field(default=True, description="recording notice and MixMonitor")
    menu: bool = Field(default=True, description="reachable from the main number's menu")
    menu_digit: str | None = Field(default=None, pattern=r"^[0-9]$")
    ring_timeout: int = Field(default=30, ge=5, le=300, description="seconds")


class MainNumber(_Strict):
    did: Did
    menu_timeout: int = Field(default=5, ge=1, le=30, description="seconds to wait for a digit")
    menu_attempts: int = Field(default=3, ge=1, le=5)


class TimeRange(_Strict):
    start: Clock
    end: Clock

    @model_validator(mode="after")
    def _ordered(self) -> TimeRange:
        if minutes(self.start) >= minutes(self.end):
            raise ValueError(f"start {self.start} is not before end {self.end}")
        return self


class BusinessPeriod(TimeRange):
    days: list[Weekday] = Field(min_length=1)


class Holiday(_Strict):
    date: dt.date
    name: str = Field(min_length=1)
    local: bool = Field(default=False, description="a local closure added by hand; an import never removes it")


class Routes(_Strict):
    """Where a call goes after the matching announcement: ``hangup`` or a department id."""

    after_hours: str = HANGUP
    lunch: str = HANGUP
    holiday: str = HANGUP


class Hours(_Strict):
    timezone: str = "Asia/Seoul"
    business: list[BusinessPeriod] = Field(min_length=1)
    lunch: TimeRange | None = None
    holidays: list[Holiday] = Field(default_factory=list)
    holidays_until: dt.date | None = Field(
        default=None, description="the last date the holiday list covers (set by the import: 31 December "
                                  "of its last year); default: the last holiday listed")
    routes: Routes = Routes()

    @property
    def holidays_last_date(self) -> dt.date | None:
        last = max((h.date for h in self.holidays), default=None)
        if self.holidays_until is None:
            return last
        return max(self.holidays_until, last) if last else self.holidays_until


class CallLimit(_Strict):
    warning_after: int = Field(default=900, ge=1, description="seconds after answer: time-limit-warning")
    end_after: int = Field(default=1200, ge=2, description="seconds after answer: time-limit-end, hang up")

    @model_validator(mode="after")
    def _ordered(self) -> CallLimit:
        if self.warning_after >= self.end_after:
            raise ValueError(f"warning_after ({self.warning_after}) must be less than end_after ({self.end_after})")
        return self


class Protection(_Strict):
    warning_key: str = Field(default="*1", pattern=r"^[0-9*#]{1,4}$", description="staff-only feature code")
    warnings_before_end: int = Field(default=3, ge=1, le=9, description="the last one plays warning-final")


class Recordings(_Strict):
    directory: Path = Field(default=Path("/var/spool/asterisk/monitor/nms"), description="as Asterisk sees it")
    host_directory: Path | None = Field(default=None, description="as the controller sees it (default: same)")
    retention_days: int = Field(default=90, ge=1, le=3650)

    @property
    def local_directory(self) -> Path:
        return self.host_directory or self.directory


class Ami(_Strict):
    host: ipaddress.IPv4Address = ipaddress.IPv4Address("127.0.0.1")
    port: int = Field(default=5039, ge=1, le=65535)
    username: Name = "nms-ivr"
    secret: str = Field(default="ami", description="name of the secret (nms.secrets), never the value")
    action_timeout: float = Field(default=5.0, gt=0, le=60)
    connect_timeout: float = Field(default=3.0, gt=0, le=60)
    backoff_max: float = Field(default=10.0, gt=0, le=300)


SecretName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
                                   description="name of a secret (nms.secrets), never the value")]


class TrunkRegistration(_Strict):
    """Outbound registration with digest authentication, as Korean carrier SIP trunks often require.

    The credentials are secrets: ivr.yaml holds only their names.
    """

    username_secret: SecretName = "sip-trunk-username"
    password_secret: SecretName = "sip-trunk-password"
    domain: str | None = Field(default=None, pattern=r"^[A-Za-z0-9.-]{1,253}$",
                               description="SIP domain of the account (default: the carrier's address)")
    expiration: int = Field(default=300, ge=60, le=3600, description="seconds a registration lasts")
    retry_interval: int = Field(default=30, ge=5, le=3600, description="seconds between failed attempts")
    forbidden_retry_interval: int = Field(default=120, ge=5, le=3600,
                                          description="seconds before retrying after the carrier refused "
                                                      "our credentials (401/403)")


class Trunk(_Strict):
    name: Name = "pstn"
    host: ipaddress.IPv4Address = Field(description="the carrier's SIP address; identifies the trunk")
    port: int = Field(default=5060, ge=1, le=65535)
    registration: TrunkRegistration | None = Field(
        default=None, description="register with the carrier, authenticating with the secrets named here")
    qualify_frequency: int = Field(default=30, ge=0, le=3600,
                                   description="seconds between OPTIONS health checks (0: off)")
    qualify_timeout: float = Field(default=3.0, gt=0, le=30, description="seconds an OPTIONS may take")

    @property
    def auth_section(self) -> str:
        return f"{self.name}-auth"

    @property
    def registration_section(self) -> str:
        return f"{self.name}-reg"


class Phone(_Strict):
    extension: Annotated[str, Field(pattern=r"^[0-9]{2,8}$")]
    secret: str = Field(description="name of the secret holding the phone's SIP password")


class Sip(_Strict):
    bind: ipaddress.IPv4Address = ipaddress.IPv4Address("127.0.0.1")
    port: int = Field(default=5070, ge=1, le=65535)
    rtp_start: int = Field(default=20000, ge=1024, le=65000)
    rtp_end: int = Field(default=20999, ge=1024, le=65535)
    trunk: Trunk | None = None
    phones: list[Phone] = Field(default_factory=list)


class Events(_Strict):
    database: Path = Path("/var/lib/nms/ivr/events.sqlite3")
    caller_key_secret: str = Field(default="ivr-caller-key", description="secret name for the HMAC key")
    retention_days: int = Field(default=365, ge=1, le=3650, description="event details are deleted after")


class IvrConfig(_Strict):
    lines: int = Field(default=60, ge=1, le=1000, description="line licences")
    language: str = Field(default="ko", pattern=r"^[a-z]{2}$")
    main_number: MainNumber
    departments: list[Department] = Field(min_length=1)
    announcements: dict[str, str]
    hours: Hours
    call_limit: CallLimit = CallLimit()
    protection: Protection = Protection()
    recordings: Recordings = Recordings()
    ami: Ami = Ami()
    sip: Sip = Sip()
    events: Events = Events()

    @field_validator("announcements")
    @classmethod
    def _texts(cls, value: dict[str, str]) -> dict[str, str]:
        for key, text in value.items():
            if not str(text).strip():
                raise ValueError(f"announcement {key!r} has no text")
        return value

    def department(self, dept_id: str) -> Department:
        for d in self.departments:
            if d.id == dept_id:
                return d
        raise KeyError(dept_id)

    def announcement_keys(self) -> list[str]:
        """Every key the dialplan plays, warnings included."""
        warnings = [f"warning-{n}" for n in range(1, self.protection.warnings_before_end)]
        return [*REQUIRED_ANNOUNCEMENTS, *warnings]

    def menu_departments(self) -> list[Department]:
        return [d for d in self.departments if d.menu and d.menu_digit]

    def problems(self) -> list[tuple[tuple[str | int, ...], str]]:
        """Consistency checks across fields; each is (key path, message)."""
        return list(self._problems())

    def _problems(self) -> Iterator[tuple[tuple[str | int, ...], str]]:
        seen_ids: dict[str, int] = {}
        owner: dict[str, str] = {self.main_number.did: "the main number"}
        digits: dict[str, str] = {}
        for i, d in enumerate(self.departments):
            if d.id in seen_ids:
                yield ("departments", i, "id"), f"department id {d.id!r} is used twice"
            seen_ids[d.id] = i
            if d.target is None:
                yield ("departments", i), f"department {d.id!r} has no staff dial target (target: PJSIP/...)"
            for j, did in enumerate(d.dids):
                if did in owner:
                    yield ("departments", i, "dids", j), f"DID {did} is used twice (also {owner[did]})"
                else:
                    owner[did] = f"department {d.id!r}"
            if d.menu and d.menu_digit:
                if d.menu_digit in digits:
                    yield (("departments", i, "menu_digit"),
                           f"menu digit {d.menu_digit} is used twice (also {digits[d.menu_digit]!r})")
                digits[d.menu_digit] = d.id
            if not d.dids and not (d.menu and d.menu_digit):
                yield ("departments", i), f"department {d.id!r} is unreachable: no DID and no menu digit"
        if not digits:
            yield ("departments",), "no department has a menu digit: the main number's menu would be empty"

        known = set(self.announcement_keys())
        for key in self.announcements:
            m = _WARNING_KEY.match(key)
            if key not in known and not m:
                yield ("announcements", key), f"unknown announcement key {key!r}"
            elif m and int(m.group(1)) >= self.protection.warnings_before_end:
                yield (("announcements", key),
                       f"{key!r} is never played: warning {self.protection.warnings_before_end} "
                       "is the last one and plays warning-final")
        for key in self.announcement_keys():
            if key not in self.announcements:
                yield ("announcements",), f"announcement {key!r} is missing"

        yield from self._hours_problems()

        dept_ids = set(seen_ids)
        for field in ("after_hours", "lunch", "holiday"):
            route = getattr(self.hours.routes, field)
            if route != HANGUP and route not in dept_ids:
                yield ("hours", "routes", field), f"route {route!r} is neither 'hangup' nor a department id"

        if self.call_limit.end_after - self.call_limit.warning_after < 1:
            yield ("call_limit",), "the warning must come at least 1 s before the end"

    def _hours_problems(self) -> Iterator[tuple[tuple[str | int, ...], str]]:
        hours = self.hours
        try:
            import zoneinfo

            zoneinfo.ZoneInfo(hours.timezone)
        except Exception:
            yield ("hours", "timezone"), f"unknown time zone {hours.timezone!r}"
        periods = hours.business
        for i, a in enumerate(periods):
            for k in range(i):
                b = periods[k]
                shared = set(a.days) & set(b.days)
                if shared and minutes(a.start) < minutes(b.end) and minutes(b.start) < minutes(a.end):
                    day = sorted(shared, key=WEEKDAY_ORDER.index)[0].value
                    yield (("hours", "business", i),
                           f"business hours {a.start}-{a.end} overlap {b.start}-{b.end} on {day}")
            if len(set(a.days)) != len(a.days):
                yield ("hours", "business", i, "days"), "a day is listed twice"
        if hours.lunch is not None:
            lunch = hours.lunch
            inside = any(minutes(p.start) <= minutes(lunch.start) and minutes(lunch.end) <= minutes(p.end)
                         for p in periods)
            if not inside:
                yield (("hours", "lunch"),
                       f"lunch {lunch.start}-{lunch.end} is not inside any business-hours period")
        dates: dict[dt.date, int] = {}
        for i, h in enumerate(hours.holidays):
            if h.date in dates:
                yield ("hours", "holidays", i, "date"), f"holiday {h.date} is listed twice"
            dates[h.date] = i


def load_config(path: Path = DEFAULT_CONFIG) -> IvrConfig:
    """Read, validate and cross-check ivr.yaml; raise :class:`ConfigError` naming file/line/key."""
    path = Path(path)
    doc = read_yaml(path)
    config = validate(doc, IvrConfig)
    problems = config.problems()
    if problems:
        raise ConfigError(Problem(doc.file, doc.line_of(loc), format_location(loc), msg) for loc, msg in problems)
    # Relative paths are relative to the configuration file.
    base = path.resolve().parent
    updates = {}
    if not config.events.database.is_absolute():
        updates["events"] = config.events.model_copy(update={"database": base / config.events.database})
    return config.model_copy(update=updates) if updates else config
