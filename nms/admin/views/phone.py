"""The phone (IVR) pages: announcements and their audio, hours and holidays, departments, the call
policy, live calls, protection events and (admins only) recordings."""

from __future__ import annotations

import datetime as dt
import re
import tempfile
import time
import zoneinfo
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, flash, g, make_response, redirect, render_template, request, send_file, url_for

from ivr.config import HANGUP, REQUIRED_ANNOUNCEMENTS, WEEKDAY_ORDER, IvrConfig
from ivr.prompts import PromptError
from nms.admin import yamledit
from nms.admin.context import state
from nms.admin.heatmap import heatmap_svg
from nms.admin.i18n import problem_text, translate_current
from nms.admin.status import midnight, read_events
from nms.admin.users import Role
from nms.admin.validation import Invalid
from nms.admin.views import address, errors_by_field, report, requires, status_code
from nms.admin.workspace import Workspace

bp = Blueprint("phone", __name__, url_prefix="/phone")
DAYS = [d.value for d in WEEKDAY_ORDER]
WARNING_DEFAULT = "{n}번째 경고입니다. 상담 직원에 대한 폭언이나 욕설을 삼가 주십시오."


def _ws() -> Workspace:
    return state().ws


def _config() -> tuple[IvrConfig, str]:
    try:
        return _ws().ivr_config()
    except FileNotFoundError:
        abort(404)
    except Invalid as exc:  # edited by hand into something the service would refuse too
        message = "; ".join(problem_text(p) for p in exc.problems)[:2000]
        abort(make_response(render_template("error.html", code=422, message=message), 422))


def _config_with(key: str) -> tuple[IvrConfig, str]:
    """The IVR configuration and its version, or 404 when it has no announcement ``key``."""
    config, version = _config()
    if key not in config.announcements:
        abort(404)
    return config, version


def _sync(user: str):
    """After an IVR change is live: give every announcement the audio of the new version."""
    ws = _ws()
    return lambda model, version: ws.audio.sync(model, version, user)


def _ivr_change(action: str, summary: str, edit: Any, section: Any = None, text: str | None = None,
                base: str | None = "") -> Any:
    return state().changes.change(
        "ivr", user=g.user.name, action=action, summary=summary, edit=edit, text=text,
        base_version=request.form.get("version") if base == "" else base, section=section, address=address(),
        after_apply=_sync(g.user.name))


def _number(value: str) -> Any:
    value = (value or "").strip()
    try:
        return int(value)
    except ValueError:
        return yamledit.safe(value)


# -- announcements ------------------------------------------------------------------------------

def _announcement_keys(config: IvrConfig) -> list[str]:
    keys = list(config.announcement_keys())
    return keys + sorted(k for k in config.announcements if k not in keys)


@bp.get("/")
def announcements(errors: dict | None = None, form: dict | None = None, code: int = 200):
    config, version = _config()
    ws = _ws()
    ws.audio.adopt(config, version)
    return render_template("announcements.html", config=config, version=version, keys=_announcement_keys(config),
                           audio=ws.audio.info(config), errors=errors or {}, form=form or {}), code


@bp.post("/announcements/<key>")
@requires(Role.OPERATOR)
def announcement_save(key: str):
    config, _v = _config_with(key)
    text = " ".join(request.form.get("text", "").split())
    # Make the audio first: text TTS cannot speak never reaches the file (nothing half-applied).
    try:
        if text:  # empty text is the validation's to report, in its words
            _ws().audio.synthesize(text, config.language)
    except PromptError as exc:
        return announcements(errors={f"announcements.{key}": [translate_current("err_audio", detail=str(exc))]},
                             form={f"announcements.{key}": request.form.get("text", "")[:2000]}, code=422)

    def edit(doc: Any) -> None:
        doc["announcements"][key] = yamledit.safe(text)

    outcome = _ivr_change("ivr.announcement", f"announcement {key}", edit, section=("announcements", key))
    report(outcome)
    if outcome.status in ("invalid", "conflict"):
        problems = [p if p.loc != "announcements" else type(p)(f"announcements.{key}", p.code, p.args, p.raw)
                    for p in outcome.problems]
        return announcements(errors=errors_by_field(problems), form={f"announcements.{key}": request.form.get(
            "text", "")}, code=status_code(outcome))
    return redirect(url_for("phone.announcements", _anchor=f"a-{key}"), 303)


@bp.post("/announcements/<key>/regenerate")
@requires(Role.OPERATOR)
def announcement_regenerate(key: str):
    ws = _ws()
    config, version = _config_with(key)
    before = ws.audio.info(config).get(key)
    try:
        ws.audio.sync(config, version, g.user.name, regenerate={key})
    except PromptError as exc:
        flash(translate_current("err_audio", detail=str(exc)), "error")
        ws.audit.record(user=g.user.name, address=address(), action="ivr.audio.regenerate", target=key,
                        summary=f"regenerate audio of {key}", result="refused", applied=False, detail=str(exc))
        return announcements(code=502)
    after = ws.audio.info(config).get(key)
    ws.audit.record(user=g.user.name, address=address(), action="ivr.audio.regenerate", target=key,
                    summary=f"regenerate audio of {key} from its text", result="applied", applied=True,
                    diff=f"- audio {before.sha if before else None}\n+ audio {after.sha if after else None}\n",
                    version=version)
    flash(translate_current("ok_audio_regenerated"), "ok")
    return redirect(url_for("phone.announcements", _anchor=f"a-{key}"), 303)


@bp.post("/announcements/<key>/upload")
@requires(Role.OPERATOR)
def announcement_upload(key: str):
    ws = _ws()
    config, version = _config_with(key)
    upload = request.files.get("audio")
    if upload is None or not upload.filename:
        flash(translate_current("err_no_file"), "error")
        return redirect(url_for("phone.announcements", _anchor=f"a-{key}"), 303)
    before = ws.audio.info(config).get(key)
    shown = "".join(c for c in upload.filename if c.isprintable())[:100]
    with tempfile.TemporaryDirectory(prefix="nms-admin-up-") as tmp:
        # A fixed name: the user's name and extension never reach a tool (ivr.prompts sniffs the content).
        path = Path(tmp) / "upload"
        upload.save(path)
        try:
            sha = ws.audio.convert_upload(path)
        except PromptError as exc:
            detail = str(exc)
            ws.audit.record(user=g.user.name, address=address(), action="ivr.audio.upload", target=key,
                            summary=f"upload recording for {key}", result="refused", applied=False, detail=detail)
            flash(translate_current("err_audio", detail=detail), "error")
            return announcements(code=422)
    # The audit row comes first (pending), so a crash while the audio is deployed still leaves a trace.
    aid = ws.audit.record(user=g.user.name, address=address(), action="ivr.audio.upload", target=key,
                          summary=f"recording {shown!r} for {key}", result="pending",
                          diff=f"- audio {before.sha if before else None}\n+ audio {sha}\n", version=version)
    ws.audio.set_current(config, version, key, sha, "upload", g.user.name)
    ws.audit.update(aid, result="applied", applied=True)
    flash(translate_current("ok_audio_uploaded"), "ok")
    return redirect(url_for("phone.announcements", _anchor=f"a-{key}"), 303)


@bp.get("/audio/<key>.wav")
def audio(key: str):
    ws = _ws()
    config, _v = _config_with(key)
    path = ws.audio.deployed(config, key)
    if not path.is_file():
        abort(404)
    return send_file(path, mimetype="audio/wav", conditional=True, etag=True, max_age=0)


# -- hours and holidays ---------------------------------------------------------------------------

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
    config, version = _config()
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

    outcome = _ivr_change("ivr.hours", "business hours, lunch and routes", edit,
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
    outcome = _ivr_change("ivr.holiday", f"add holiday {raw_date} {name}", edit, base=None)
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

    outcome = _ivr_change("ivr.holiday", f"delete holiday {target}", edit, base=None)
    report(outcome, details=True)
    return redirect(url_for("phone.hours", _anchor="holidays"), 303)


# -- departments ----------------------------------------------------------------------------------

DEPT_FIELDS = ("name", "dids", "target", "protection", "recording", "menu", "menu_digit", "ring_timeout")


def _dept_values(form: Any) -> dict[str, Any]:
    dids = [d for d in re.split(r"[\s,]+", form.get("dids", "")) if d]
    digit = form.get("menu_digit", "").strip()
    return {"name": " ".join(form.get("name", "").split()), "dids": dids,
            "target": form.get("target", "").strip() or None, "protection": bool(form.get("protection")),
            "recording": bool(form.get("recording")), "menu": bool(form.get("menu")),
            "menu_digit": digit or None, "ring_timeout": _number(form.get("ring_timeout", "30"))}


def _set_dept(entry: Any, values: dict[str, Any]) -> None:
    for key in DEPT_FIELDS:
        value = values[key]
        if value is None:
            entry.pop(key, None)
        else:
            entry[key] = yamledit.safe(value) if not isinstance(value, int | bool) else value


@bp.get("/departments")
def departments(errors: dict | None = None, form: Any = None, editing: str | None = None, code: int = 200):
    config, version = _config()
    return render_template("departments.html", config=config, version=version, errors=errors or {}, form=form,
                           editing=editing), code


def _dept_errors(outcome: Any, index: int) -> dict[str, list[str]]:
    errs: dict[str, list[str]] = {}
    for loc, msgs in errors_by_field(outcome.problems).items():
        m = re.match(rf"^departments\[{index}\](?:\.(\w+))?", loc)
        key = (m.group(1) or "general") if m else "general"
        errs.setdefault(key, []).extend(msgs)
    return errs


def allowed_targets(config: IvrConfig, extra: list[str]) -> set[str]:
    """Where a department may send calls: the admin's list, the phones of ivr.yaml, and the targets
    departments use now. An operator can never point one at an outside number or another context."""
    return {*extra, *(f"PJSIP/{p.extension}" for p in config.sip.phones),
            *(d.target for d in config.departments if d.target)}


def _target_refused(config: IvrConfig, values: dict[str, Any], dept: str) -> Any:
    target = values["target"]
    if target is None or target in allowed_targets(config, _ws().settings.dial_targets):
        return None
    message = translate_current("v_target_not_allowed", target=target)
    return departments(errors={"target": [message]}, form=request.form, editing=dept, code=422)


@bp.post("/departments/<dept>")
@requires(Role.OPERATOR)
def department_save(dept: str):
    config, _v = _config()
    index = next((i for i, d in enumerate(config.departments) if d.id == dept), None)
    if index is None:
        abort(404)
    values = _dept_values(request.form)
    refused = _target_refused(config, values, dept)
    if refused is not None:
        return refused

    def edit(doc: Any) -> None:
        for entry in doc["departments"]:
            if entry.get("id") == dept:
                _set_dept(entry, values)

    outcome = _ivr_change("ivr.department", f"department {dept}", edit, section=("departments", index))
    report(outcome)
    if outcome.status in ("invalid", "conflict"):
        return departments(errors=_dept_errors(outcome, index), form=request.form, editing=dept,
                           code=status_code(outcome))
    return redirect(url_for("phone.departments", _anchor=f"d-{dept}"), 303)


@bp.post("/departments/new")
@requires(Role.OPERATOR)
def department_add():
    config, _v = _config()
    new_id = request.form.get("id", "").strip()
    values = _dept_values(request.form)
    refused = _target_refused(config, values, "__new__")
    if refused is not None:
        return refused

    def edit(doc: Any) -> None:
        entry = yamledit.safe({"id": new_id})
        entry.fa.set_block_style()
        _set_dept(entry, values)
        doc["departments"].append(entry)

    outcome = _ivr_change("ivr.department", f"add department {new_id}", edit, base=None)
    report(outcome)
    if outcome.status == "invalid":
        errs = _dept_errors(outcome, len(config.departments))
        for p in outcome.problems:
            if p.code == "v_dept_id_twice":
                errs.setdefault("id", []).append(errs.pop("general", [""])[0] if "general" in errs else "")
        return departments(errors=errs, form=request.form, editing="__new__", code=status_code(outcome))
    return redirect(url_for("phone.departments", _anchor=f"d-{new_id}"), 303)


@bp.post("/departments/<dept>/delete")
@requires(Role.OPERATOR)
def department_delete(dept: str):
    config, _v = _config()
    index = next((i for i, d in enumerate(config.departments) if d.id == dept), None)
    if index is None:
        abort(404)

    def edit(doc: Any) -> None:
        doc["departments"][:] = [d for d in doc["departments"] if d.get("id") != dept]

    outcome = _ivr_change("ivr.department", f"delete department {dept}", edit, section=("departments", index))
    report(outcome)
    if outcome.status == "invalid":
        return departments(errors={"general": [e for v in errors_by_field(outcome.problems).values() for e in v]},
                           code=status_code(outcome))
    return redirect(url_for("phone.departments"), 303)


# -- call policy ----------------------------------------------------------------------------------

@bp.get("/policy")
def policy(errors: dict | None = None, form: Any = None, code: int = 200):
    config, version = _config()
    return render_template("policy.html", config=config, version=version, errors=errors or {}, form=form), code


@bp.post("/policy")
@requires(Role.OPERATOR)
def policy_save():
    form = request.form
    warnings = _number(form.get("protection.warnings_before_end", ""))
    settings = _ws().settings
    errs = {}
    for field in ("call_limit.warning_after", "call_limit.end_after"):
        value = _number(form.get(field, ""))
        if isinstance(value, int) and not settings.call_limit_min <= value <= settings.call_limit_max:
            errs[field] = [translate_current("v_call_limit_range", lo=settings.call_limit_min,
                                             hi=settings.call_limit_max)]
    if errs:
        return policy(errors=errs, form=form, code=422)

    def edit(doc: Any) -> None:
        limit = doc.setdefault("call_limit", yamledit.safe({}))
        limit["warning_after"] = _number(form.get("call_limit.warning_after", ""))
        limit["end_after"] = _number(form.get("call_limit.end_after", ""))
        prot = doc.setdefault("protection", yamledit.safe({}))
        prot["warning_key"] = yamledit.safe(form.get("protection.warning_key", "").strip())
        prot["warnings_before_end"] = warnings
        if isinstance(warnings, int) and 1 <= warnings <= 9:
            # warning-1 .. warning-(N-1) are played; the N-th plays warning-final.
            ann = doc["announcements"]
            for n in range(1, warnings):
                if f"warning-{n}" not in ann:
                    ann[f"warning-{n}"] = yamledit.safe(WARNING_DEFAULT.format(n=n))
            for key in [k for k in ann if re.fullmatch(r"warning-\d+", k) and int(k.split("-")[1]) >= warnings]:
                del ann[key]

    outcome = _ivr_change("ivr.policy", "call time limit and warning policy", edit,
                          section=[("call_limit",), ("protection",)])
    report(outcome)
    if outcome.status in ("invalid", "conflict"):
        errs: dict[str, list[str]] = {}
        for loc, msgs in errors_by_field(outcome.problems).items():
            errs.setdefault(loc if loc.startswith(("call_limit.", "protection.")) else "general", []).extend(msgs)
        return policy(errors=errs, form=form, code=status_code(outcome))
    return redirect(url_for("phone.policy"), 303)


# -- live calls, events, recordings ---------------------------------------------------------------

@bp.get("/calls")
def calls() -> str:
    ws = _ws()
    ivr = ws.service("ivr")
    config, _v = _config()
    live = ivr.controller.live_calls() if ivr is not None else None
    names = {d.id: d.name for d in config.departments} | {"main": translate_current("main_number")}
    now = time.time()
    return render_template("calls.html", calls=live, lines=config.lines, names=names, now=now,
                           connected=ivr is not None and ivr.stats.connected)


@bp.post("/calls/hangup")
@requires(Role.OPERATOR)
def hangup():
    ws = _ws()
    ivr = ws.service("ivr")
    call = request.form.get("call", "")
    if ivr is None or call not in ivr.controller.calls:
        flash(translate_current("err_call_gone"), "error")
        return redirect(url_for("phone.calls"), 303)
    info = ivr.controller.calls[call]
    try:
        ws.run_async(ivr.controller.hangup(call), timeout=10)
    except Exception as exc:
        ws.audit.record(user=g.user.name, address=address(), action="ivr.hangup", target=call,
                        summary=f"end call on line {info.line}", result="refused", applied=False, detail=str(exc))
        flash(translate_current("err_hangup", detail=str(exc)), "error")
        return redirect(url_for("phone.calls"), 303)
    ws.audit.record(user=g.user.name, address=address(), action="ivr.hangup", target=call,
                    summary=f"end call on line {info.line} ({info.department})", result="applied", applied=True)
    flash(translate_current("ok_hangup", line=info.line), "ok")
    return redirect(url_for("phone.calls"), 303)


@bp.get("/events")
def events() -> str:
    config, _v = _config()
    try:
        days = min(max(int(request.args.get("days", "7")), 1), 365)
    except ValueError:
        days = 7
    since = midnight(config.hours.timezone) - (days - 1) * 86400
    rows = read_events(_ws(), since, limit=1000)
    names = {d.id: d.name for d in config.departments}
    today = dt.datetime.now(zoneinfo.ZoneInfo(config.hours.timezone)).date()
    heat_days = 91
    heat_rows = read_events(_ws(), midnight(config.hours.timezone) - (heat_days - 1) * 86400, limit=100000)
    protected = {d.id: d.name for d in config.departments if d.protection}
    heat = heatmap_svg(heat_rows, protected, today, heat_days, config.hours.timezone,
                       lambda **kw: translate_current("heatmap_cell", **kw))
    return render_template("events.html", events=rows, days=days, names=names, heatmap=heat, heatmap_days=heat_days,
                           export_from=(today - dt.timedelta(days=days - 1)).isoformat(), export_to=today.isoformat())


def _recordings_dir() -> tuple[Path, int]:
    ws = _ws()
    ivr = ws.service("ivr")
    config = ivr.config if ivr is not None else _config()[0]
    return config.recordings.local_directory, config.recordings.retention_days


@bp.get("/recordings")
@requires(Role.ADMIN)
def recordings() -> str:
    directory, retention = _recordings_dir()
    now = time.time()
    files = []
    if directory.is_dir():
        for path in sorted(directory.rglob("*.wav"), key=lambda p: p.stat().st_mtime, reverse=True)[:500]:
            st = path.stat()
            age = (now - st.st_mtime) / 86400
            files.append({"name": str(path.relative_to(directory)), "size": st.st_size, "time": st.st_mtime,
                          "left": max(0, int(retention - age))})
    return render_template("recordings.html", files=files, retention=retention, directory=directory)


@bp.get("/recordings/file")
@requires(Role.ADMIN)
def recording_file():
    directory, _r = _recordings_dir()
    name = request.args.get("name", "")
    path = (directory / name).resolve()
    if not name or directory.resolve() not in path.parents or not path.is_file():
        abort(404)
    _ws().audit.record(user=g.user.name, address=address(), action="recording.play", target=name,
                       summary=f"listened to recording {name}", result="done")
    return send_file(path, mimetype="audio/wav", conditional=True, max_age=0)


__all__ = ["REQUIRED_ANNOUNCEMENTS", "bp"]
