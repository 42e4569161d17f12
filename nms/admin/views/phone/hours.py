"""The hours page: business hours, lunch, after-hours routes and holidays."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from typing import Any

from flask import redirect, render_template, request, url_for

from ivr.config import HANGUP, WEEKDAY_ORDER, IvrConfig
from nms.admin import yamledit
from nms.admin.users import Role
from nms.admin.views import errors_by_field, report, requires, status_code
from nms.admin.views.phone.common import bp, ivr_change, ivr_config

DAYS = [d.value for d in WEEKDAY_ORDER]


def _hours_rows(config: IvrConfig) -> list[dict[str, Any]]:
    rows = [{"start": p.start, "end": p.end, "days": [d.value for d in p.days]} for p in config.hours.business]
    return [*rows, {"start": "", "end": "", "days": [], "new": True}]


def _rows_from_form(form: Any) -> list[dict[str, Any]]:
    rows = []
    raw = form.get("rows", "0") or "0"
    count = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 3 else 0
    for i in range(min(count, 20)):
        p = f"hours.business[{i}]"
        rows.append({"start": form.get(f"{p}.start", "").strip(), "end": form.get(f"{p}.end", "").strip(),
                     "days": form.getlist(f"{p}.days"), "remove": bool(form.get(f"{p}.remove")),
                     "new": i == count - 1})
    return rows


@bp.get("/hours")
def hours(errors: dict | None = None, rows: list | None = None, form: Any = None, code: int = 200):
    config, version = ivr_config()
    last = config.hours.holidays_last_date
    today = dt.datetime.now(zoneinfo.ZoneInfo(config.hours.timezone)).date()
    return render_template("hours.html", config=config, version=version, days=DAYS,
                           rows=rows if rows is not None else _hours_rows(config), errors=errors or {},
                           form=form, departments=config.departments, hangup=HANGUP,
                           holidays_ending=last is None or last < today + dt.timedelta(days=60)), code


@bp.post("/hours")
@requires(Role.OPERATOR)
def hours_save():
    form = request.form
    rows = _rows_from_form(form)
    kept = [i for i, r in enumerate(rows) if not r["remove"] and not (r.get("new") and not r["start"]
                                                                       and not r["end"])]

    def edit(doc: Any) -> None:
        h = doc["hours"]
        h["business"] = yamledit.safe([{"days": rows[i]["days"], "start": rows[i]["start"], "end": rows[i]["end"]}
                                       for i in kept])
        if form.get("hours.lunch.enabled"):
            h["lunch"] = yamledit.safe({"start": form.get("hours.lunch.start", "").strip(),
                                        "end": form.get("hours.lunch.end", "").strip()})
        else:
            h["lunch"] = None
        routes = h.setdefault("routes", yamledit.safe({}))
        for key in ("after_hours", "lunch", "holiday"):
            routes[key] = yamledit.safe(form.get(f"hours.routes.{key}", HANGUP))

    outcome = ivr_change("ivr.hours", "business hours, lunch and routes", edit,
                         section=[("hours", "business"), ("hours", "lunch"), ("hours", "routes")])
    report(outcome)
    if outcome.status in ("invalid", "conflict"):
        errs: dict[str, list[str]] = {}
        for loc, msgs in errors_by_field(outcome.problems).items():
            m = re.match(r"^hours\.business\[(\d+)\](.*)$", loc)
            if m and int(m.group(1)) < len(kept):
                loc = f"hours.business[{kept[int(m.group(1))]}]{m.group(2)}"
            errs.setdefault(loc, []).extend(msgs)
        return hours(errors=errs, rows=rows, form=form, code=status_code(outcome))
    return redirect(url_for("phone.hours"), 303)


@bp.post("/holidays/add")
@requires(Role.OPERATOR)
def holiday_add():
    form = request.form
    raw_date, name = form.get("date", "").strip(), " ".join(form.get("name", "").split())
    try:
        date: Any = dt.date.fromisoformat(raw_date)
    except ValueError:
        date = yamledit.safe(raw_date)

    def edit(doc: Any) -> None:
        hol = doc["hours"].get("holidays")
        if hol is None:
            hol = doc["hours"]["holidays"] = yamledit.safe([])
        # Added by hand: a local closure, which an import of public holidays never removes.
        hol.append(yamledit.safe({"date": date, "name": name, "local": True}))
        items = sorted(hol, key=lambda h: str(h.get("date")))
        hol[:] = items

    # Adding never overwrites anything, so it is redone on the latest version (no version check).
    outcome = ivr_change("ivr.holiday", f"add holiday {raw_date} {name}", edit, base=None)
    report(outcome)
    if outcome.status == "invalid":
        errs: dict[str, list[str]] = {}
        for loc, msgs in errors_by_field(outcome.problems).items():
            key = loc.rsplit(".", 1)[-1] if re.match(r"^hours\.holidays\[\d+\]\.(date|name)$", loc) else "holiday"
            errs.setdefault(f"holiday.{key}", []).extend(msgs)
        return hours(errors=errs, form=form, code=status_code(outcome))
    return redirect(url_for("phone.hours", _anchor="holidays"), 303)


@bp.post("/holidays/delete")
@requires(Role.OPERATOR)
def holiday_delete():
    target = request.form.get("date", "")

    def edit(doc: Any) -> None:
        hol = doc["hours"].get("holidays") or []
        hol[:] = [h for h in hol if str(h.get("date")) != target]

    outcome = ivr_change("ivr.holiday", f"delete holiday {target}", edit, base=None)
    report(outcome, details=True)
    return redirect(url_for("phone.hours", _anchor="holidays"), 303)
