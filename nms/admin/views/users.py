"""User management (admins): create users, change roles, reset passwords, disable accounts."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from nms.admin.audit import value_diff
from nms.admin.context import state
from nms.admin.i18n import translate_current
from nms.admin.users import Role, UserError
from nms.admin.views import address, requires

bp = Blueprint("users", __name__, url_prefix="/users")


@bp.get("/")
@requires(Role.ADMIN)
def index(error: str | None = None, form: dict | None = None, code: int = 200):
    return render_template("users.html", users=state().ws.users.list(), roles=list(Role), error=error,
                           form=form or {}), code


def _audit(action: str, target: str, summary: str, old: object, new: object) -> None:
    state().ws.audit.record(user=g.user.name, address=address(), action=action, target=target, summary=summary,
                            diff=value_diff(old, new), result="applied", applied=True)


@bp.post("/")
@requires(Role.ADMIN)
def create():
    ws = state().ws
    f = request.form
    name = f.get("name", "").strip().lower()
    try:
        role = Role.parse(f.get("role", ""))
        if f.get("password", "") != f.get("confirm", ""):
            raise UserError("password_confirm")
        ws.users.create(name, role, f.get("password", ""))
    except UserError as exc:
        return index(error=translate_current("err_" + exc.code, n=exc.detail), form={"name": name,
                                                                                      "role": f.get("role")},
                     code=422)
    except ValueError:
        return index(error=translate_current("err_role"), form={"name": name}, code=422)
    _audit("user.create", name, f"create user {name} ({role.label})", None, {"name": name, "role": role.label})
    flash(translate_current("ok_user_created", name=name), "ok")
    return redirect(url_for("users.index"), 303)


@bp.post("/<name>")
@requires(Role.ADMIN)
def update(name: str):
    ws = state().ws
    user = ws.users.get(name)
    if user is None:
        return index(error=translate_current("err_user_unknown"), code=404)
    f = request.form
    try:
        if "role" in f:
            role = Role.parse(f["role"])
            if user.role is Role.ADMIN and role is not Role.ADMIN and ws.users.admins() <= 1:
                raise UserError("last_admin")
            ws.users.set_role(name, role)
            _audit("user.role", name, f"role of {name}: {user.role.label} → {role.label}",
                   {"role": user.role.label}, {"role": role.label})
        if "disabled" in f:
            disabled = f["disabled"] == "1"
            if disabled and user.role is Role.ADMIN and ws.users.admins() <= 1:
                raise UserError("last_admin")
            ws.users.set_disabled(name, disabled)
            _audit("user.disable", name, f"{'disable' if disabled else 'enable'} {name}",
                   {"disabled": user.disabled}, {"disabled": disabled})
        if f.get("password"):
            ws.users.set_password(name, f["password"])
            _audit("user.password", name, f"reset password of {name}", None, None)
    except UserError as exc:
        return index(error=translate_current("err_" + exc.code, n=exc.detail), code=422)
    except ValueError:
        return index(error=translate_current("err_role"), code=422)
    flash(translate_current("ok_user_updated", name=name), "ok")
    return redirect(url_for("users.index"), 303)
