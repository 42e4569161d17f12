"""The departments page: each department's numbers, where its calls go and its protection."""

from __future__ import annotations

import re
from typing import Any

from flask import abort, redirect, render_template, request, url_for

from ivr.config import IvrConfig
from nms.admin import yamledit
from nms.admin.i18n import translate_current
from nms.admin.users import Role
from nms.admin.views import errors_by_field, report, requires, status_code
from nms.admin.views.phone.common import bp, form_number, ivr_change, ivr_config, workspace

DEPT_FIELDS = ("name", "dids", "target", "protection", "recording", "menu", "menu_digit", "ring_timeout")


def _dept_values(form: Any) -> dict[str, Any]:
    dids = [d for d in re.split(r"[\s,]+", form.get("dids", "")) if d]
    digit = form.get("menu_digit", "").strip()
    return {"name": " ".join(form.get("name", "").split()), "dids": dids,
            "target": form.get("target", "").strip() or None, "protection": bool(form.get("protection")),
            "recording": bool(form.get("recording")), "menu": bool(form.get("menu")),
            "menu_digit": digit or None, "ring_timeout": form_number(form.get("ring_timeout", "30"))}


def _set_dept(entry: Any, values: dict[str, Any]) -> None:
    for key in DEPT_FIELDS:
        value = values[key]
        if value is None:
            entry.pop(key, None)
        else:
            entry[key] = yamledit.safe(value) if not isinstance(value, int | bool) else value


@bp.get("/departments")
def departments(errors: dict | None = None, form: Any = None, editing: str | None = None, code: int = 200):
    config, version = ivr_config()
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
    if target is None or target in allowed_targets(config, workspace().settings.dial_targets):
        return None
    message = translate_current("v_target_not_allowed", target=target)
    return departments(errors={"target": [message]}, form=request.form, editing=dept, code=422)


@bp.post("/departments/<dept>")
@requires(Role.OPERATOR)
def department_save(dept: str):
    config, _v = ivr_config()
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

    outcome = ivr_change("ivr.department", f"department {dept}", edit, section=("departments", index))
    report(outcome)
    if outcome.status in ("invalid", "conflict"):
        return departments(errors=_dept_errors(outcome, index), form=request.form, editing=dept,
                           code=status_code(outcome))
    return redirect(url_for("phone.departments", _anchor=f"d-{dept}"), 303)


@bp.post("/departments/new")
@requires(Role.OPERATOR)
def department_add():
    config, _v = ivr_config()
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

    outcome = ivr_change("ivr.department", f"add department {new_id}", edit, base=None)
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
    config, _v = ivr_config()
    index = next((i for i, d in enumerate(config.departments) if d.id == dept), None)
    if index is None:
        abort(404)

    def edit(doc: Any) -> None:
        doc["departments"][:] = [d for d in doc["departments"] if d.get("id") != dept]

    outcome = ivr_change("ivr.department", f"delete department {dept}", edit, section=("departments", index))
    report(outcome)
    if outcome.status == "invalid":
        return departments(errors={"general": [e for v in errors_by_field(outcome.problems).values() for e in v]},
                           code=status_code(outcome))
    return redirect(url_for("phone.departments"), 303)
