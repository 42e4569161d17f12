"""The protection case file: one event with the same caller's history, its recording (admins only,
every listen audited), legal holds, and the CSV export for a date range and department."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zoneinfo

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for

from ivr.config import IvrConfig
from ivr.events import EventStore, HoldError
from nms.admin import events
from nms.admin.context import state
from nms.admin.i18n import translate_current
from nms.admin.users import Role
from nms.admin.views import address, requires

bp = Blueprint("cases", __name__, url_prefix="/phone")
DAY = 86400.0
MAX_EXPORT_DAYS = 366


def _config() -> IvrConfig:
    try:
        return state().ws.ivr_config()[0]
    except FileNotFoundError:
        abort(404)


def event_store() -> EventStore:
    """The running IVR's store, or (admin page on its own) the database opened for reading and holds."""
    try:
        store = events.event_store(state().ws)
    except FileNotFoundError:
        abort(404)
    assert store is not None  # opened (created if missing)
    return store


def kind_label(event: dict) -> str:
    if event["kind"] == "warning":
        return translate_current("kind_label_warning", n=event["seq"])
    return translate_current(f"kind_{event['kind']}")


@bp.get("/events/<event_id>")
def event(event_id: str) -> str:
    config = _config()
    store = event_store()
    ev = store.event(event_id)
    if ev is None:
        abort(404)
    history = None
    if ev["caller_hash"]:
        history = {days: store.earlier_by_caller(ev["caller_hash"], ev["time"], days * DAY) for days in (30, 365)}
    hold = next((h for h in store.holds() if h.event_id == event_id), None)
    names = {d.id: d.name for d in config.departments}
    is_admin = g.user.can(Role.ADMIN)
    ev = {k: v for k, v in ev.items() if k != "caller_hash"}
    return render_template("event.html", event=ev, kind=kind_label(ev), history=history, hold=hold,
                           department=names.get(ev["department"], ev["department"]), is_admin=is_admin,
                           default_until=(dt.date.today() + dt.timedelta(days=365)).isoformat())


@bp.post("/events/<event_id>/hold")
@requires(Role.ADMIN)
def hold(event_id: str):
    ws = state().ws
    config = _config()
    reason = request.form.get("reason", "")
    try:
        until = dt.date.fromisoformat(request.form.get("until", "").strip())
        expires = dt.datetime.combine(until + dt.timedelta(days=1), dt.time(),
                                      tzinfo=zoneinfo.ZoneInfo(config.hours.timezone)).timestamp()
        placed = event_store().hold(event_id, reason, expires, g.user.name)
    except (ValueError, HoldError) as exc:
        code = exc.code if isinstance(exc, HoldError) else "bad-date"
        ws.audit.record(user=g.user.name, address=address(), action="ivr.hold", target=event_id,
                        summary=f"legal hold on {event_id}", result="refused", applied=False, detail=str(exc))
        flash(translate_current("hold_bad", detail=translate_current(f"hold_err_{code}")), "error")
        return redirect(url_for("cases.event", event_id=event_id), 303)
    ws.audit.record(user=g.user.name, address=address(), action="ivr.hold", target=event_id,
                    summary=f"legal hold on {event_id} until {until}: {placed.reason}", result="applied",
                    applied=True, detail=f"recording {placed.recording or '-'}")
    flash(translate_current("hold_placed"), "ok")
    return redirect(url_for("cases.event", event_id=event_id), 303)


@bp.post("/events/<event_id>/release")
@requires(Role.ADMIN)
def release(event_id: str):
    ws = state().ws
    released = event_store().release(event_id)
    ws.audit.record(user=g.user.name, address=address(), action="ivr.hold.release", target=event_id,
                    summary=f"released the legal hold on {event_id}", result="applied" if released else "unchanged",
                    applied=released)
    flash(translate_current("hold_released"), "ok")
    return redirect(url_for("cases.event", event_id=event_id), 303)


@bp.get("/holds")
@requires(Role.ADMIN)
def holds() -> str:
    return render_template("holds.html", holds=event_store().holds())


def _day(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        return None


def _cell(value: object) -> str:
    """A CSV cell Excel shows as text: a leading = + - @ (a foreign number's +, a department named
    "=HYPERLINK(...)") would otherwise start a formula."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@bp.get("/events.csv")
def export():
    """Events of a date range (inclusive, local days) and optionally one department, as CSV for Excel.

    UTF-8 with a BOM, so that Korean Excel opens it as UTF-8; masked numbers only, never the hash.
    """
    config = _config()
    start, end = _day(request.args.get("from", "")), _day(request.args.get("to", ""))
    if start is None or end is None or start > end or (end - start).days >= MAX_EXPORT_DAYS:
        return Response(translate_current("export_bad_range") + "\n", status=400, mimetype="text/plain")
    dept = request.args.get("department") or None
    names = {d.id: d.name for d in config.departments}
    if dept is not None and dept not in names:
        abort(404)
    tz = zoneinfo.ZoneInfo(config.hours.timezone)
    since = dt.datetime.combine(start, dt.time(), tzinfo=tz).timestamp()
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=tz).timestamp()
    rows = event_store().events(since=since, until=until, department=dept, limit=100000)
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\r\n")
    _ = translate_current
    out.writerow([_("csv_time"), _("csv_department"), _("csv_kind"), _("csv_line"), _("csv_did"), _("csv_caller"),
                  _("csv_event")])
    for e in rows:
        when = dt.datetime.fromtimestamp(e["time"], tz).strftime("%Y-%m-%d %H:%M:%S")
        out.writerow([_cell(v) for v in (when, names.get(e["department"], e["department"]), kind_label(e), e["line"],
                                         e["did"], e["caller_mask"] or _("event_withheld"), e["event_id"])])
    state().ws.audit.record(user=g.user.name, address=address(), action="ivr.export", target=dept or "all",
                            summary=f"exported {len(rows)} protection events {start}..{end}", result="done")
    name = f"protection-events-{start}-{end}{'-' + dept if dept else ''}.csv"
    return Response("\ufeff" + buf.getvalue(), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
