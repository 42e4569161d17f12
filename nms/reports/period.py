"""Report periods on the district's calendar: a month or a year between Asia/Seoul midnights."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

SEOUL = ZoneInfo("Asia/Seoul")


class PeriodError(ValueError):
    """A period the user typed that is not a month (YYYY-MM) or a year (YYYY); the message is Korean."""


@dataclass(frozen=True)
class Period:
    kind: str  # "monthly" | "yearly"
    label: str  # "2026-11" | "2026"
    start: datetime  # first midnight, Asia/Seoul
    end: datetime  # the midnight after the last day (exclusive)

    @property
    def title(self) -> str:
        if self.kind == "monthly":
            return f"{self.start.year}년 {self.start.month}월"
        return f"{self.start.year}년"

    @property
    def previous_name(self) -> str:
        return "전월" if self.kind == "monthly" else "전년"

    def days(self) -> list[date]:
        out, day = [], self.start.date()
        while day < self.end.date():
            out.append(day)
            day += timedelta(days=1)
        return out

    def previous(self) -> Period:
        if self.kind == "monthly":
            y, m = self.start.year, self.start.month
            return month(f"{y - 1}-12" if m == 1 else f"{y}-{m - 1:02d}")
        return year(str(self.start.year - 1))


def _midnight(y: int, m: int, d: int = 1) -> datetime:
    return datetime(y, m, d, tzinfo=SEOUL)


def month(text: str) -> Period:
    found = re.fullmatch(r"(\d{4})-(\d{2})", text.strip())
    if not found or not 1 <= int(found.group(2)) <= 12 or not 2000 <= int(found.group(1)) <= 2100:
        raise PeriodError(f"월은 YYYY-MM 형식이어야 합니다 (예: 2026-11): {text!r}")
    y, m = int(found.group(1)), int(found.group(2))
    end = _midnight(y + 1, 1) if m == 12 else _midnight(y, m + 1)
    return Period("monthly", f"{y}-{m:02d}", _midnight(y, m), end)


def year(text: str) -> Period:
    if not re.fullmatch(r"\d{4}", text.strip()) or not 2000 <= int(text) <= 2100:
        raise PeriodError(f"연도는 YYYY 형식이어야 합니다 (예: 2026): {text!r}")
    y = int(text)
    return Period("yearly", str(y), _midnight(y, 1), _midnight(y + 1, 1))


def previous_month(now: datetime) -> Period:
    """The month before the one ``now`` falls in (Asia/Seoul): what the 1st-of-month job reports."""
    local = now.astimezone(SEOUL)
    return month(f"{local.year}-{local.month:02d}").previous()
