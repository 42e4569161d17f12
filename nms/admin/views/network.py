"""The network: the inventory (browse, search, a device's status), planned APs, polling and SNMP profiles."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, g, redirect, render_template, request, url_for

from nms.admin import yamledit
from nms.admin.context import state
from nms.admin.interfaces import AdminDistrict
from nms.admin.users import Role
from nms.admin.views import address, errors_by_field, report, requires, status_code
from nms.inventory.models import Category, DeviceRole, DeviceStatus

bp = Blueprint("network", __name__, url_prefix="/network")
PAGE = 50
PLAN_TAG = "plan-2022"


@dataclass(frozen=True)
class Row:
    index: int
    name: str
    role: str
    site: str
    site_name: str
    category: str
    address: str
    profile: str
    status: str
    model: str
    installed: int | None
    search: str  # lower-cased text searched by q


class _Index:
    """Rows of the current inventory, rebuilt only when the inventory object changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: int | None = None
        self._rows: list[Row] = []

    def rows(self, district: AdminDistrict) -> list[Row]:
        with self._lock:
            if self._key != id(district.inventory):
                sites = district.inventory.site_by_id()
                rows = []
                for i, d in enumerate(district.inventory.devices):
                    s = sites.get(d.site)
                    site_name = s.name if s else d.site
                    category = s.category.value if s else ""
                    text = " ".join([d.name, d.site, site_name, str(d.address), d.model or "", d.vendor or "",
                                     s.name_en or "" if s else ""]).lower()
                    rows.append(Row(i, d.name, d.role.value, d.site, site_name, category, f"{d.address}:{d.port}",
                                    d.profile, d.status.value, " ".join(filter(None, [d.vendor, d.model])),
                                    d.installed, text))
                self._rows, self._key = rows, id(district.inventory)
            return self._rows


_index = _Index()


def _states() -> dict[str, Any]:
    snmp = state().ws.service("snmp")
    return snmp.states if snmp is not None else {}


def _state_of(states: dict[str, Any], name: str) -> str:
    st = states.get(name)
    if st is None or st.last is None:
        return "unknown"
    return "up" if st.last.ok else "down"


@bp.get("/")
def inventory() -> str:
    ws = state().ws
    district = ws.district
    args = request.args
    f = {k: args.get(k, "").strip() for k in ("category", "site", "role", "status", "state", "q")}
    states = _states()
    rows = _index.rows(district)
    q = f["q"].lower()
    out = []
    for r in rows:
        if f["category"] and r.category != f["category"]:
            continue
        if f["role"] and r.role != f["role"]:
            continue
        if f["status"] and r.status != f["status"]:
            continue
        if f["site"] and f["site"] not in (r.site, r.site_name):
            continue
        if q and q not in r.search:
            continue
        if f["state"] and _state_of(states, r.name) != f["state"]:
            continue
        out.append(r)
    pages = max(1, math.ceil(len(out) / PAGE))
    try:
        page = min(max(1, int(args.get("page", "1"))), pages)
    except ValueError:
        page = 1
    shown = out[(page - 1) * PAGE: page * PAGE]
    return render_template("network.html", rows=shown, total=len(out), page=page, pages=pages, f=f,
                           states={r.name: _state_of(states, r.name) for r in shown},
                           categories=[c.value for c in Category], roles=[r.value for r in DeviceRole],
                           statuses=[s.value for s in DeviceStatus], sites=district.inventory.sites,
                           planned=sum(1 for r in rows if r.status == "planned"))


def _device(name: str) -> tuple[int, Any]:
    for i, d in enumerate(state().ws.district.inventory.devices):
        if d.name == name:
            return i, d
    abort(404)


@bp.get("/device/<name>")
def device(name: str, errors: dict | None = None, form: dict | None = None, code: int = 200):
    ws = state().ws
    _i, d = _device(name)
    st = _states().get(name)
    site = ws.district.inventory.site_by_id().get(d.site)
    info: dict[str, Any] = {}
    if st is not None and st.last is not None:
        last = st.last
        info = {"up": last.ok, "started": last.started, "duration": last.duration, "error": last.error,
                "message": last.message, "polls": st.polls, "errors": dict(st.errors), "reboots": st.reboots,
                "uptime": last.scalars.get("sysUpTime") if last.ok else None,
                "interfaces": len(last.columns.get("ifName", {}) or last.columns.get("ifHCInOctets", {})),
                "clients": sum(v for _t, v in last.columns.get("apClients", {}).values() if isinstance(v, int))
                if last.ok and "apClients" in last.columns else None,
                "last_ok": st.last_ok.started if st.last_ok else None}
    _text, version = ws.file("inventory").store.read()
    return render_template("device.html", d=d, site=site, info=info, polled=st is not None,
                           profiles=sorted(ws.district.snmp.profiles), statuses=[s.value for s in DeviceStatus],
                           version=version, errors=errors or {}, form=form or {}), code


@bp.post("/device/<name>")
@requires(Role.ADMIN)
def device_save(name: str):
    index, d = _device(name)
    profile = request.form.get("profile", "").strip()
    status = request.form.get("status", "").strip()

    def edit(doc: Any) -> None:
        for entry in doc["devices"]:
            if entry.get("name") == name:
                entry["profile"] = yamledit.safe(profile)
                if status == "active":
                    entry.pop("status", None)
                else:
                    entry["status"] = yamledit.safe(status)

    outcome = state().changes.change(
        "inventory", user=g.user.name, action="inventory.device", address=address(), edit=edit,
        summary=f"device {name}: profile {d.profile} → {profile}, status {d.status.value} → {status}",
        base_version=request.form.get("version"), section=("devices", index))
    report(outcome)
    if outcome.status == "invalid":
        errs = {k.replace(f"devices[{index}].", ""): v for k, v in errors_by_field(outcome.problems).items()}
        return device(name, errors=errs, form=request.form, code=status_code(outcome))
    return redirect(url_for("network.device", name=name), 303)


@bp.get("/planned")
def planned() -> str:
    ws = state().ws
    rows = [r for r in _index.rows(ws.district) if r.status == "planned"]
    _text, version = ws.file("inventory").store.read()
    return render_template("planned.html", rows=rows, version=version)


@bp.post("/planned")
@requires(Role.ADMIN)
def activate():
    ws = state().ws
    names = set(request.form.getlist("device"))
    devices = ws.district.inventory.devices
    chosen = [i for i, d in enumerate(devices) if d.name in names and d.status is DeviceStatus.PLANNED]
    if not chosen:
        from flask import flash

        from nms.admin.i18n import translate_current

        flash(translate_current("err_nothing_selected"), "error")
        return redirect(url_for("network.planned"), 303)

    def edit(doc: Any) -> None:
        for entry in doc["devices"]:
            if entry.get("name") in names and entry.get("status") == "planned":
                entry.pop("status", None)

    outcome = state().changes.change(
        "inventory", user=g.user.name, action="inventory.activate", address=address(), edit=edit,
        summary=f"activate {len(chosen)} planned AP(s): {', '.join(devices[i].name for i in chosen)}",
        base_version=request.form.get("version"), section=None)
    if outcome.status == "conflict":
        # Activation only ever turns "planned" into "active": redo it on the latest version.
        outcome = state().changes.change(
            "inventory", user=g.user.name, action="inventory.activate", address=address(), edit=edit,
            summary=f"activate {len(chosen)} planned AP(s)", base_version=None)
    report(outcome, details=True)
    return redirect(url_for("network.planned"), 303)


def _polling_form(settings: Any) -> dict[str, str]:
    form = {"polling.jitter": str(settings.polling.jitter), "polling.concurrency": str(settings.polling.concurrency)}
    for role, cls in settings.polling.classes.items():
        for key in ("interval", "timeout", "retries"):
            form[f"polling.classes.{role.value}.{key}"] = str(getattr(cls, key))
    return form


@bp.get("/polling")
def polling(errors: dict | None = None, form: dict | None = None, code: int = 200):
    ws = state().ws
    _text, version = ws.file("settings").store.read()
    profiles = ws.district.snmp.profiles
    usage: dict[str, int] = {}
    for d in ws.district.inventory.devices:
        usage[d.profile] = usage.get(d.profile, 0) + 1
    return render_template("polling.html", form=form or _polling_form(ws.district.settings), errors=errors or {},
                           roles=[r.value for r in DeviceRole], version=version, profiles=profiles,
                           usage=usage, categories=[c.value for c in Category],
                           inv_version=ws.file("inventory").store.read()[1]), code


def _number(value: str) -> Any:
    value = value.strip()
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            continue
    return value


@bp.post("/polling")
@requires(Role.ADMIN)
def polling_save():
    form = request.form

    def edit(doc: Any) -> None:
        pol = doc.setdefault("polling", yamledit.safe({}))
        pol["jitter"] = _number(form.get("polling.jitter", ""))
        pol["concurrency"] = _number(form.get("polling.concurrency", ""))
        classes = pol.setdefault("classes", yamledit.safe({}))
        for role in DeviceRole:
            entry = classes.get(role.value)
            if entry is None:
                entry = classes[role.value] = yamledit.safe({"interval": 60})
            for key in ("interval", "timeout", "retries"):
                raw = form.get(f"polling.classes.{role.value}.{key}")
                if raw is not None:
                    entry[key] = _number(raw) if raw.strip() else yamledit.safe(raw)

    outcome = state().changes.change("settings", user=g.user.name, action="polling", address=address(), edit=edit,
                                     summary="polling intervals", base_version=form.get("version"),
                                     section=("polling",))
    report(outcome)
    if outcome.status == "invalid":
        return polling(errors=errors_by_field(outcome.problems), form=form, code=status_code(outcome))
    return redirect(url_for("network.polling"), 303)


@bp.post("/profiles")
@requires(Role.ADMIN)
def assign_profile():
    """Give every device matching a filter (role, category, current profile) one SNMP profile."""
    ws = state().ws
    form = request.form
    profile = form.get("profile", "").strip()
    role, category, current = form.get("role", ""), form.get("category", ""), form.get("current", "")
    sites = ws.district.inventory.site_by_id()
    names = {d.name for d in ws.district.inventory.devices
             if (not role or d.role.value == role) and (not current or d.profile == current)
             and (not category or (d.site in sites and sites[d.site].category.value == category))}

    def edit(doc: Any) -> None:
        for entry in doc["devices"]:
            if entry.get("name") in names:
                entry["profile"] = yamledit.safe(profile)

    outcome = state().changes.change(
        "inventory", user=g.user.name, action="inventory.profile", address=address(), edit=edit,
        summary=f"profile {profile} for {len(names)} device(s) (role={role or '*'}, category={category or '*'}, "
                f"was {current or '*'})", base_version=form.get("version"), section=("devices",))
    report(outcome, details=True)
    return redirect(url_for("network.polling"), 303)
