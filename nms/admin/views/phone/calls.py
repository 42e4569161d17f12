"""The live calls page, where an operator can end a call."""

from __future__ import annotations

import time

from flask import flash, g, redirect, render_template, request, url_for

from nms.admin.i18n import translate_current
from nms.admin.users import Role
from nms.admin.views import address, requires
from nms.admin.views.phone.common import bp, ivr_config, workspace


@bp.get("/calls")
def calls() -> str:
    ws = workspace()
    ivr = ws.service("ivr")
    config, _v = ivr_config()
    live = ivr.controller.live_calls() if ivr is not None else None
    names = {d.id: d.name for d in config.departments} | {"main": translate_current("main_number")}
    now = time.time()
    return render_template("calls.html", calls=live, lines=config.lines, names=names, now=now,
                           connected=ivr is not None and ivr.stats.connected)


@bp.post("/calls/hangup")
@requires(Role.OPERATOR)
def hangup():
    ws = workspace()
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
