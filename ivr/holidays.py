"""Korean public holidays from a maintained source, imported into ivr.yaml only after an admin approves.

The source is the ``holidays`` package (python-holidays), which follows the Korean regulations on
public holidays, substitute holidays included. When it and another source disagree (a holiday
declared at short notice, an election day, a temporary holiday), **the government's official
announcement is authoritative** (the Ministry of the Interior and Safety's notice and the
Presidential decree on public holidays, 관공서의 공휴일에 관한 규정): fix the list by hand and record
the announcement in the holiday's name.

An import never touches local closures (``local: true``): they are added and removed by hand.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field

from ivr.config import Holiday, Hours

SOURCE = "python-holidays"


def source_version() -> str:
    import holidays

    return f"{SOURCE} {holidays.__version__}"


def korean_public_holidays(years: list[int]) -> list[Holiday]:
    """Public holidays of ``years`` in Korea (Korean names), substitute holidays included."""
    import holidays

    found = holidays.country_holidays("KR", years=years, language="ko")
    return [Holiday(date=day, name=name) for day, name in sorted(found.items())]


@dataclass(frozen=True)
class HolidayImport:
    """What approving an import would change: dates added, removed (no longer holidays in the
    source), renamed; plus the new end of coverage."""

    years: tuple[int, ...]
    source: str
    added: tuple[Holiday, ...] = ()
    removed: tuple[Holiday, ...] = ()
    renamed: tuple[tuple[Holiday, Holiday], ...] = ()  # (old, new)
    until: dt.date | None = None
    unchanged: int = 0
    kept_local: tuple[Holiday, ...] = field(default=())

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.renamed)


def plan_import(hours: Hours, years: list[int], imported: list[Holiday] | None = None,
                source: str | None = None) -> HolidayImport:
    """Compare the list in ``hours`` with the source for ``years`` (only those years are compared)."""
    years = sorted(set(years))
    fresh = {h.date: h for h in (imported if imported is not None else korean_public_holidays(years))
             if h.date.year in years}
    current = {h.date: h for h in hours.holidays if h.date.year in years}
    public = {d: h for d, h in current.items() if not h.local}
    local = tuple(h for h in current.values() if h.local)
    added = tuple(h for d, h in sorted(fresh.items()) if d not in current)
    removed = tuple(h for d, h in sorted(public.items()) if d not in fresh)
    renamed = tuple((public[d], fresh[d]) for d in sorted(fresh) if d in public and public[d].name != fresh[d].name)
    unchanged = sum(1 for d in fresh if d in public and public[d].name == fresh[d].name)
    until = dt.date(years[-1], 12, 31) if years else None
    return HolidayImport(years=tuple(years), source=source or source_version(), added=added, removed=removed,
                         renamed=renamed, until=until, unchanged=unchanged, kept_local=local)


def apply_import(holidays: list[Holiday], plan: HolidayImport) -> list[Holiday]:
    """The holiday list after approving ``plan``, sorted by date."""
    removed = {h.date for h in plan.removed}
    new_names = {new.date: new for _, new in plan.renamed}
    out = [new_names.get(h.date, h) for h in holidays if h.date not in removed or h.local]
    out += plan.added
    return sorted(out, key=lambda h: h.date)


def last_date_timestamp(hours: Hours) -> float | None:
    """Unix seconds of the last covered date (its midnight, in the configuration's time zone)."""
    last = hours.holidays_last_date
    if last is None:
        return None
    return dt.datetime.combine(last, dt.time(), tzinfo=zoneinfo.ZoneInfo(hours.timezone)).timestamp()
