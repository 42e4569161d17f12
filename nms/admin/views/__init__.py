"""Blueprints of the admin page, and what they share: role checks and reporting a change's outcome."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import abort, flash, g, request

from nms.admin.changes import Outcome
from nms.admin.i18n import problem_text, translate_current
from nms.admin.users import Role
from nms.admin.validation import FieldProblem


def requires(role: Role) -> Callable:
    """Only users with at least ``role`` may use the view (403 otherwise)."""
    def wrap(view: Callable) -> Callable:
        @functools.wraps(view)
        def inner(*args: Any, **kwargs: Any) -> Any:
            if g.user is None or not g.user.can(role):
                abort(403)
            return view(*args, **kwargs)
        inner.required_role = role  # type: ignore[attr-defined]
        return inner
    return wrap


def address() -> str:
    return request.remote_addr or ""


def report(outcome: Outcome, details: bool = False) -> None:
    """Tell the user what happened to the change (a message on the next page).

    Validation problems are listed only with ``details``; otherwise the form shows them by its fields.
    """
    _ = translate_current
    if outcome.status == "applied":
        flash(_("ok_applied"), "ok")
    elif outcome.status == "saved":
        flash(_("ok_saved_not_live", detail=outcome.message), "warn")
    elif outcome.status == "unchanged":
        flash(_("ok_unchanged"), "info")
    elif outcome.status == "conflict":
        flash(_("err_conflict"), "error")
    elif outcome.status == "restored":
        flash(_("err_apply_failed", detail=outcome.message), "error")
    elif outcome.status == "invalid":
        if not details:
            flash(_("err_invalid"), "error")
        else:
            for p in outcome.problems:
                flash(problem_text(p), "error")


def errors_by_field(problems: list[FieldProblem]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for p in problems:
        out.setdefault(p.loc, []).append(problem_text(p))
    return out


def status_code(outcome: Outcome) -> int:
    return {"invalid": 422, "conflict": 409, "restored": 502}.get(outcome.status, 200)
