"""Who calls the lab's IVR when: the time-of-day rate, the numbers dialled and each caller's behaviour."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import random
from zoneinfo import ZoneInfo

from ivr.config import WEEKDAY_ORDER, Department, IvrConfig, minutes

PEAK_PER_MINUTE = 6.0  # at rate 1.0, the busiest office hour; with ~45 s per call, a few calls at once
BURSTS_PER_OPEN_HOUR = 2.5
ABUSIVE_SHARE = 0.08  # of calls reaching a protected department's staff
IMPATIENT_SHARE = 0.03  # hang up during the announcements
LONG_CALL_SHARE = 0.005  # talk past the call time limit (the IVR ends them)
STAFF_HANGS_UP = 0.4  # the staff, not the caller, end the call
MENU_PRESS = 0.9  # main-number callers who choose a department (the rest let the menu time out)


@dataclasses.dataclass
class CallPlan:
    """What one simulated caller will do."""

    did: str
    caller: str
    department: Department | None  # where the call is meant to go (None: nowhere, the menu times out)
    menu_digit: str | None  # pressed at the main number's menu
    talk: float  # seconds on the line once the staff answered
    patience: float  # the caller gives up if nobody answered by then (seconds after dialling)
    abusive: bool
    warnings: int  # warning keys the staff press (warnings_before_end of them end the call)
    staff_hangs_up: bool
    burst: bool = False


class TrafficModel:
    """Who calls when: the time-of-day rate, the numbers dialled and each caller's behaviour.

    The rate follows the configured hours in their time zone (Asia/Seoul): full in office hours
    with a morning and an afternoon peak, low at lunch, a trickle after hours and on holidays.
    """

    def __init__(self, config: IvrConfig, rate: float = 1.0, rng: random.Random | None = None):
        self.config = config
        self.rate = max(0.0, rate)
        self.rng = rng or random.Random()
        self.tz = ZoneInfo(config.hours.timezone)
        self.holidays = {h.date for h in config.hours.holidays}
        # A few repeat callers: an abusive caller often calls again (the controller's hash shows it).
        self.regulars = [self.number() for _ in range(4)]

    def now(self) -> dt.datetime:
        return dt.datetime.now(self.tz)

    # -- when ------------------------------------------------------------------------------------------

    def status(self, when: dt.datetime) -> str:
        """``open``, ``lunch``, ``closed`` (a working day outside its hours) or ``holiday`` (no hours at all)."""
        when = when.astimezone(self.tz)
        day = WEEKDAY_ORDER[when.weekday()]
        periods = [p for p in self.config.hours.business if day in p.days]
        if when.date() in self.holidays or not periods:
            return "holiday"
        now = when.hour * 60 + when.minute
        lunch = self.config.hours.lunch
        if lunch is not None and minutes(lunch.start) <= now < minutes(lunch.end):
            return "lunch"
        if any(minutes(p.start) <= now < minutes(p.end) for p in periods):
            return "open"
        return "closed"

    def per_minute(self, when: dt.datetime) -> float:
        """Expected new calls per minute at ``when`` (already multiplied by the rate knob)."""
        when = when.astimezone(self.tz)
        status = self.status(when)
        clock = when.hour + when.minute / 60
        if status == "open":
            peak = 10.0 <= clock < 11.5 or 14.0 <= clock < 16.5
            base = PEAK_PER_MINUTE * (1.0 if peak else 0.75)
        elif status == "lunch":
            base = PEAK_PER_MINUTE * 0.35
        elif status == "closed":
            day = WEEKDAY_ORDER[when.weekday()]
            opens = min(minutes(p.start) for p in self.config.hours.business if day in p.days)
            now = when.hour * 60 + when.minute
            waiting = 0 <= opens - now <= 30  # callers waiting for the offices to open
            base = 0.8 if waiting else 0.25 if 7 <= clock < 22 else 0.04
        else:
            base = 0.3 if 8 <= clock < 20 else 0.04
        return base * self.rate

    def arrivals(self, when: dt.datetime, seconds: float = 1.0) -> int:
        """New calls in the next ``seconds`` (Poisson)."""
        return _poisson(self.rng, self.per_minute(when) * seconds / 60.0)

    def burst_starts(self, when: dt.datetime, seconds: float = 1.0) -> bool:
        """A sudden rush (a tax notice went out, a news item): only in office hours."""
        if self.status(when) != "open" or self.rate <= 0:
            return False
        chance = BURSTS_PER_OPEN_HOUR * min(1.0, self.rate) * seconds / 3600.0
        return self.rng.random() < chance

    def burst_size(self, active: int) -> int:
        """Calls in a burst: enough to bring the lines to 95-130 % of the licences (busy for some)."""
        lines = self.config.lines
        return max(0, round(self.rng.uniform(0.95, 1.3) * lines) - active)

    # -- who and how ---------------------------------------------------------------------------------

    def number(self) -> str:
        """A made-up Korean caller number, digits only as the carrier sends it."""
        r = self.rng.random()
        if r < 0.7:
            return f"010{self.rng.randint(2000, 9999)}{self.rng.randint(0, 9999):04d}"
        if r < 0.92:
            return f"02{self.rng.randint(2000, 9999)}{self.rng.randint(0, 9999):04d}"
        area = self.rng.choice(("031", "032", "070"))
        return f"{area}{self.rng.randint(200, 9999)}{self.rng.randint(0, 9999):04d}"

    def plan(self, burst_department: Department | None = None) -> CallPlan:
        """One caller: the number dialled, the department reached, how long they talk, whether abusive."""
        cfg = self.config
        rng = self.rng
        menu_digit = None
        if burst_department is not None:
            department = burst_department
            did = department.dids[0] if department.dids else cfg.main_number.did
            if not department.dids:
                menu_digit = department.menu_digit
        elif rng.random() < 0.35 or not any(d.dids for d in cfg.departments):
            did = cfg.main_number.did
            choices = cfg.menu_departments()
            department = rng.choice(choices) if choices and rng.random() < MENU_PRESS else None
            menu_digit = department.menu_digit if department else None
        else:
            department = rng.choice([d for d in cfg.departments if d.dids])
            did = rng.choice(department.dids)
        abusive = department is not None and department.protection and rng.random() < ABUSIVE_SHARE
        caller = rng.choice(self.regulars) if abusive and rng.random() < 0.5 else self.number()
        if burst_department is not None:
            talk = rng.uniform(30, 120)
        elif rng.random() < LONG_CALL_SHARE:
            talk = cfg.call_limit.end_after + 60.0
        else:
            talk = _clamp(rng.lognormvariate(math.log(30), 0.55), 10, 90)
        patience = rng.uniform(2, 8) if rng.random() < IMPATIENT_SHARE else 600.0
        return CallPlan(did=did, caller=caller, department=department, menu_digit=menu_digit, talk=talk,
                        patience=patience, abusive=abusive, warnings=self.warnings() if abusive else 0,
                        staff_hangs_up=rng.random() < STAFF_HANGS_UP, burst=burst_department is not None)

    def warnings(self) -> int:
        """How many times the staff warn an abusive caller; the last possible one ends the call."""
        last = self.config.protection.warnings_before_end
        r = self.rng.random()
        return 1 if r < 0.55 or last == 1 else 2 if r < 0.8 or last == 2 else last

    def burst_department(self) -> Department:
        """Rushes hit one department (tax notices most often)."""
        weights = {"tax": 4, "civil": 3, "welfare": 2}
        deps = [d for d in self.config.departments if d.dids or d.menu_digit]
        return self.rng.choices(deps, [weights.get(d.id, 1) for d in deps])[0]

    def warning_gaps(self, count: int) -> list[float]:
        """Seconds of talk before each warning key press."""
        return [self.rng.uniform(3, 10) if i == 0 else self.rng.uniform(8, 15) for i in range(count)]


def _poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))

