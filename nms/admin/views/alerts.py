"""Alerts: what Alertmanager is telling people now, and silences for planned work (audited)."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from nms.admin.alerts import AlertmanagerClient, AlertmanagerError, FiringAlert
from nms.admin.context import state
from nms.admin.i18n import translate_current as _
from nms.admin.users import Role
from nms.admin.views import address, requires
from nms.inventory.models import DeviceRole

bp = Blueprint("alerts", __name__, url_prefix="/alerts")
MAX_HOURS = 72
MAX_REASON = 500
# Labels that name what an alert is about; a silence of one alert matches on these.
IDENTITY = ("alertname", "device", "site", "ifIndex", "trunk", "instance", "category", "class", "reason",
            "department", "via", "integration", "config")


def client() -> AlertmanagerClient | None:
    url = state().ws.settings.alertmanager_url
    if not url:
        return None
    ext = current_app.extensions
    if ext.get("nms_admin_alertmanager") is None or ext["nms_admin_alertmanager"].url != url.rstrip("/"):
        ext["nms_admin_alertmanager"] = AlertmanagerClient(url)
    return ext["nms_admin_alertmanager"]


def firing() -> tuple[list[FiringAlert], str | None]:
    """The firing alerts and, when Alertmanager cannot be asked, why (shown instead of the list)."""
    am = client()
    if am is None:
        return [], _("al_not_configured")
    try:
        return am.firing(), None
    except AlertmanagerError as exc:
        return [], _("al_unreachable", detail=str(exc))


def _devices() -> list[tuple[str, str]]:
    district = state().ws.district
    return sorted((d.name, d.role.value) for d in district.inventory.devices)


@bp.get("/")
@requires(Role.VIEWER)
def index(code: int = 200, form: dict | None = None) -> ResponseReturnValue:
    alerts, problem = firing()
    silences = []
    am = client()
    if am is not None and problem is None:
        try:
            silences = am.silences()
        except AlertmanagerError as exc:
            problem = _("al_unreachable", detail=str(exc))
    return render_template("alerts.html", alerts=alerts, silences=silences, problem=problem,
                           devices=_devices(), max_hours=MAX_HOURS, form=form or {}), code


def _matchers_for_device(name: str) -> dict[str, str] | None:
    """Planned work on a device silences it and what depends on it: a switch's whole branch."""
    for d in state().ws.district.inventory.devices:
        if d.name == name:
            if d.role is DeviceRole.ACCESS:
                return {"access_switch": name}
            if d.role is DeviceRole.BACKBONE:
                return {"backbone": name}
            return {"device": name}
    return None


@bp.post("/silence")
@requires(Role.OPERATOR)
def silence() -> ResponseReturnValue:
    form = request.form
    reason = form.get("reason", "").strip()
    try:
        hours = float(form.get("hours", ""))
    except ValueError:
        hours = -1.0
    problems = []
    if not reason:
        problems.append(_("al_reason_required"))
    elif len(reason) > MAX_REASON:
        problems.append(_("al_reason_long", n=MAX_REASON))
    if not 0 < hours <= MAX_HOURS:
        problems.append(_("al_hours_range", max=MAX_HOURS))
    am = client()
    if am is None:
        problems.append(_("al_not_configured"))
    matchers: dict[str, str] | None = None
    if not problems and form.get("device"):
        matchers = _matchers_for_device(form["device"])
        if matchers is None:
            problems.append(_("al_unknown_device", name=form["device"][:64]))
    elif not problems:
        try:
            match = next((a for a in am.firing(fresh=True) if a.fingerprint == form.get("fingerprint")), None)
        except AlertmanagerError as exc:
            problems.append(_("al_unreachable", detail=str(exc)))
            match = None
        if match is None and not problems:
            problems.append(_("al_alert_gone"))
        elif match is not None:
            matchers = {k: v for k, v in match.labels.items() if k in IDENTITY}
    if problems:
        for p in problems:
            flash(p, "error")
        return index(code=422, form={k: form.get(k, "") for k in ("reason", "hours", "device")})
    user = g.user.name
    target = ", ".join(f"{k}={v}" for k, v in sorted(matchers.items()))
    try:
        silence_id = am.silence(matchers, hours, author=user, comment=reason)
    except AlertmanagerError as exc:
        state().ws.audit.record(user=user, action="alert.silence", target=target, summary=reason, result="refused",
                                detail=str(exc), address=address())
        flash(_("al_unreachable", detail=str(exc)), "error")
        return index(code=502)
    state().ws.audit.record(user=user, action="alert.silence", target=target,
                            summary=f"{reason} ({hours:g}h)", result="done", detail=f"silence {silence_id}",
                            address=address())
    flash(_("al_silenced", target=target, hours=f"{hours:g}"), "ok")
    return redirect(url_for("alerts.index"))
