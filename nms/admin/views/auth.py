"""Signing in and out, the language switch, one's own password."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for

from nms.admin.context import state
from nms.admin.i18n import LANGUAGES, translate_current
from nms.admin.users import MAX_NAME, MAX_PASSWORD, Busy, UserError
from nms.admin.views import address

bp = Blueprint("auth", __name__)
MAX_LOGIN_BODY = 16 * 1024


def _safe_next(target: str | None) -> str:
    """A local path to go to after logging in or switching language; anything else goes home.

    Control characters (CR/LF would split the Location header), backslashes (browsers read ``/\\host``
    as ``//host``) and anything with a scheme or host are refused.
    """
    home = url_for("overview.index")
    if not target or len(target) > 2000 or any(ord(c) < 0x20 or ord(c) == 0x7F or c == "\\" for c in target):
        return home
    try:
        parts = urlsplit(target)
    except ValueError:
        return home
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return home
    return target


@bp.get("/-/healthy")
def healthz() -> tuple[str, int]:
    return "Healthy.\n", 200


@bp.route("/login", methods=["GET", "POST"])
def login():
    st = state()
    ws = st.ws
    _ = translate_current
    if request.method == "GET":
        if g.user is not None:
            return redirect(_safe_next(request.args.get("next")))
        return render_template("login.html", name="", next=request.args.get("next", ""),
                               no_users=ws.users.count() == 0)
    # A login form is a few hundred bytes: refuse a big body before parsing it or doing any other work.
    if (request.content_length or 0) > MAX_LOGIN_BODY:
        return render_template("error.html", code=413, message=_("err_too_large")), 413
    raw_name = request.form.get("username", "").strip().lower()
    name = raw_name[:MAX_NAME]
    password = request.form.get("password", "")
    nxt = request.form.get("next", "")[:2000]
    wait = ws.limiter.retry_after(name, address())
    if wait > 0:
        st.logins["limited"] += 1
        if ws.limiter.first_refusal(name, address(), wait):  # once per lock, not per attempt
            ws.audit.record(user=name or "?", address=address(), action="login", target=name,
                            summary="login refused", result="refused", detail="rate limited")
        minutes = max(1, int(wait // 60) + 1)
        return render_template("login.html", name=name, next=nxt, error=_("err_rate_limited", minutes=minutes),
                               no_users=False), 429
    try:
        plausible = name and password and raw_name == name and len(password) <= MAX_PASSWORD
        user = ws.users.verify(name, password) if plausible else None
    except Busy:
        st.logins["busy"] += 1
        resp = render_template("login.html", name=name, next=nxt, error=_("err_busy"), no_users=False)
        return resp, 503, {"Retry-After": "5"}
    if user is None:
        ws.limiter.failed(name, address())
        st.logins["failure"] += 1
        ws.audit.record(user=name or "?", address=address(), action="login", target=name, summary="login failed",
                        result="refused")
        return render_template("login.html", name=name, next=nxt, error=_("err_login"), no_users=False), 401
    ws.limiter.succeeded(name, address())
    st.logins["success"] += 1
    lang = session.get("lang")
    session.clear()  # a fresh session: nothing from before the login carries over
    session.permanent = True
    session["sid"] = ws.users.open_session(user.name, ws.settings.session_lifetime)
    if lang:
        session["lang"] = lang
    ws.audit.record(user=user.name, address=address(), action="login", target=user.name, summary="login",
                    result="done")
    return redirect(_safe_next(nxt))


@bp.post("/logout")
def logout():
    ws = state().ws
    sid = session.get("sid")
    if sid:
        ws.users.close_session(sid)
    if g.user is not None:
        ws.audit.record(user=g.user.name, address=address(), action="logout", target=g.user.name,
                        summary="logout", result="done")
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    flash(translate_current("ok_logged_out"), "info")
    return redirect(url_for("auth.login"))


@bp.get("/language/<lang>")
def language(lang: str):
    """A preference only (no configuration change), so a plain link is enough."""
    if lang in LANGUAGES:
        session["lang"] = lang
        if g.user is not None:
            state().ws.users.set_language(g.user.name, lang)
    return redirect(_safe_next(request.args.get("next")))


@bp.route("/account", methods=["GET", "POST"])
def account():
    ws = state().ws
    _ = translate_current
    error = None
    if request.method == "POST":
        current = request.form.get("current", "")
        new = request.form.get("new", "")
        try:
            wrong = ws.users.verify(g.user.name, current) is None
        except Busy:
            return render_template("account.html", error=_("err_busy")), 503
        if wrong:
            error = _("err_password_current")
        elif new != request.form.get("confirm", ""):
            error = _("err_password_confirm")
        else:
            try:
                ws.users.set_password(g.user.name, new)
            except UserError as exc:
                error = _("err_" + exc.code, n=exc.detail)
            else:
                ws.audit.record(user=g.user.name, address=address(), action="user.password", target=g.user.name,
                                summary="changed own password", result="done", applied=True)
                session.clear()
                flash(_("ok_password_changed"), "ok")
                return redirect(url_for("auth.login"))
        return render_template("account.html", error=error), 422
    return render_template("account.html", error=error)
