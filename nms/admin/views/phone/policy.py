"""The call policy page: the call time limit and the warnings before a call is ended."""

from __future__ import annotations

import re
from typing import Any

from flask import redirect, render_template, request, url_for

from nms.admin import yamledit
from nms.admin.i18n import translate_current
from nms.admin.users import Role
from nms.admin.views import errors_by_field, report, requires, status_code
from nms.admin.views.phone.common import bp, form_number, ivr_change, ivr_config, workspace

WARNING_DEFAULT = "{n}번째 경고입니다. 상담 직원에 대한 폭언이나 욕설을 삼가 주십시오."


@bp.get("/policy")
def policy(errors: dict | None = None, form: Any = None, code: int = 200):
    config, version = ivr_config()
    return render_template("policy.html", config=config, version=version, errors=errors or {}, form=form), code


@bp.post("/policy")
@requires(Role.OPERATOR)
def policy_save():
    form = request.form
    warnings = form_number(form.get("protection.warnings_before_end", ""))
    settings = workspace().settings
    errs = {}
    for field in ("call_limit.warning_after", "call_limit.end_after"):
        value = form_number(form.get(field, ""))
        if isinstance(value, int) and not settings.call_limit_min <= value <= settings.call_limit_max:
            errs[field] = [translate_current("v_call_limit_range", lo=settings.call_limit_min,
                                             hi=settings.call_limit_max)]
    if errs:
        return policy(errors=errs, form=form, code=422)

    def edit(doc: Any) -> None:
        limit = doc.setdefault("call_limit", yamledit.safe({}))
        limit["warning_after"] = form_number(form.get("call_limit.warning_after", ""))
        limit["end_after"] = form_number(form.get("call_limit.end_after", ""))
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

    outcome = ivr_change("ivr.policy", "call time limit and warning policy", edit,
                         section=[("call_limit",), ("protection",)])
    report(outcome)
    if outcome.status in ("invalid", "conflict"):
        errs: dict[str, list[str]] = {}
        for loc, msgs in errors_by_field(outcome.problems).items():
            errs.setdefault(loc if loc.startswith(("call_limit.", "protection.")) else "general", []).extend(msgs)
        return policy(errors=errs, form=form, code=status_code(outcome))
    return redirect(url_for("phone.policy"), 303)
