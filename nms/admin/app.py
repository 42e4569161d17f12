"""The Flask application: security settings, the signed-in user, language, and the page blueprints."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask, Response, g, render_template, request, session
from flask_wtf.csrf import CSRFError, CSRFProtect

from nms.admin import i18n
from nms.admin.context import EXTENSION, AdminState
from nms.admin.users import Role
from nms.admin.workspace import Workspace

HERE = Path(__file__).resolve().parent
PUBLIC_ENDPOINTS = {"auth.login", "static", "auth.language", "auth.healthz"}
MAX_UPLOAD = 20 * 1024 * 1024
CSP = ("default-src 'self'; img-src 'self' data:; media-src 'self'; style-src 'self'; script-src 'self'; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def _secret_key(state_dir: Path) -> bytes:
    """The key that signs session cookies: made once, kept in the state directory (mode 600)."""
    path = state_dir / "session.key"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        key = secrets.token_bytes(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key)
        return key


def create_app(workspace: Workspace, *, testing: bool = False) -> Flask:
    settings = workspace.settings
    app = Flask("nms.admin", template_folder=str(HERE / "templates"), static_folder=str(HERE / "static"),
                static_url_path="/static")
    secure = settings.secure_cookies
    app.config.update(
        SECRET_KEY=_secret_key(settings.state_dir),
        SESSION_COOKIE_NAME="__Host-nms_admin" if secure else "nms_admin",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SECURE=secure,
        SESSION_COOKIE_SAMESITE="Strict",
        PERMANENT_SESSION_LIFETIME=settings.session_lifetime,
        MAX_CONTENT_LENGTH=MAX_UPLOAD,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the (server-side) session
        WTF_CSRF_SSL_STRICT=secure,
        TESTING=testing,
        SEND_FILE_MAX_AGE_DEFAULT=3600,
    )
    CSRFProtect(app)
    app.extensions[EXTENSION] = AdminState(workspace)
    app.jinja_env.globals.update(_=i18n.translate_current, Role=Role, role_label=i18n.role_label)
    app.jinja_env.filters.update(when=i18n.format_time, ago=i18n.format_ago, mask=i18n.mask_number,
                                 problem=i18n.problem_text)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.before_request
    def _load_user() -> Any:
        g.user = None
        sid = session.get("sid")
        if sid:
            g.user = workspace.users.session_user(sid, settings.session_lifetime)
            if g.user is None:
                session.clear()
        g.lang = i18n.choose_language(session.get("lang"), g.user, settings.language)
        if request.endpoint in PUBLIC_ENDPOINTS or g.user is not None:
            return None
        from flask import redirect, url_for

        if request.method == "GET":
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return render_template("error.html", code=401, message=i18n.translate_current("err_login_needed")), 401

    @app.after_request
    def _headers(resp: Response) -> Response:
        resp.headers.setdefault("Content-Security-Policy", CSP)
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["X-Frame-Options"] = "DENY"
        resp.headers["Referrer-Policy"] = "same-origin"
        if secure:
            resp.headers["Strict-Transport-Security"] = "max-age=31536000"
        if resp.mimetype == "text/html":
            resp.headers["Cache-Control"] = "no-store"
        return resp

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError) -> tuple[str, int]:
        return render_template("error.html", code=400, message=i18n.translate_current("err_csrf")), 400

    @app.errorhandler(403)
    def _forbidden(exc: Any) -> tuple[str, int]:
        return render_template("error.html", code=403, message=i18n.translate_current("err_forbidden")), 403

    @app.errorhandler(404)
    def _missing(exc: Any) -> tuple[str, int]:
        return render_template("error.html", code=404, message=i18n.translate_current("err_not_found")), 404

    @app.errorhandler(413)
    def _too_large(exc: Any) -> tuple[str, int]:
        return render_template("error.html", code=413, message=i18n.translate_current("err_too_large")), 413

    from nms.admin.views import (
        alerts,
        auth,
        history,
        network,
        overview,
        phone,
        phone_cases,
        phone_publish,
        reports,
        users,
    )

    for bp in (auth.bp, overview.bp, phone.bp, phone_publish.bp, phone_cases.bp, network.bp, history.bp, reports.bp,
               users.bp, alerts.bp):
        app.register_blueprint(bp)
    return app
