"""History: every version of each configuration file with a readable diff, rollback, and the audit log."""

from __future__ import annotations

from flask import Blueprint, abort, g, redirect, render_template, request, url_for

from nms.admin.audit import text_diff
from nms.admin.context import state
from nms.admin.describe import describe_ivr_change
from nms.admin.i18n import translate_current
from nms.admin.users import Role
from nms.admin.views import address, report
from nms.store import StoreError, UnknownVersion

bp = Blueprint("history", __name__, url_prefix="/history")
KINDS = ("ivr", "inventory", "settings")
PAGE = 50


def _file(kind: str):
    if kind not in KINDS:
        abort(404)
    return state().ws.file(kind)


@bp.get("/")
def index() -> str:
    ws = state().ws
    files = []
    for kind in KINDS:
        cf = ws.file(kind)
        entries = list(reversed(cf.store.history()))
        files.append({"kind": kind, "path": cf.path, "current": cf.store.current_version(), "entries": entries[:15],
                      "total": len(entries), "role": cf.role})
    return render_template("history.html", files=files)


@bp.get("/<kind>")
def versions(kind: str) -> str:
    cf = _file(kind)
    entries = list(reversed(cf.store.history()))
    return render_template("versions.html", kind=kind, cf=cf, entries=entries, current=cf.store.current_version())


@bp.get("/<kind>/<version>")
def version(kind: str, version: str) -> str:
    cf = _file(kind)
    history = cf.store.history()
    matches = [i for i, e in enumerate(history) if e.version.startswith(version)]
    if not matches or len(version) < 6:
        abort(404)
    i = matches[-1]
    entry = history[i]
    try:
        text = cf.store.read_version(entry.version)
        prev_entry = next((history[j] for j in range(i - 1, -1, -1) if history[j].version != entry.version), None)
        prev = cf.store.read_version(prev_entry.version) if prev_entry else ""
        current, current_version = cf.store.read()
    except (UnknownVersion, StoreError, FileNotFoundError):
        abort(404)
    words = rollback_words = None
    if kind == "ivr":
        words = describe_ivr_change(prev, text, translate_current)
        rollback_words = describe_ivr_change(current, text, translate_current)
    return render_template("version.html", kind=kind, cf=cf, entry=entry, prev=prev_entry,
                           diff=text_diff(prev, text, cf.path.name), to_current=text_diff(text, current, cf.path.name),
                           current_version=current_version, words=words, rollback_words=rollback_words)


@bp.post("/<kind>/<version>/rollback")
def rollback(kind: str, version: str):
    cf = _file(kind)
    if not g.user.can(Role.OPERATOR if cf.role == "operator" else Role.ADMIN):
        abort(403)
    ws = state().ws
    after = None
    if kind == "ivr":
        user = g.user.name
        after = lambda model, v: ws.audio.sync(model, v, user)  # noqa: E731 - the audio of that version returns
    outcome = state().changes.rollback(kind, version, user=g.user.name, base_version=request.form.get("current"),
                                       address=address(), after_apply=after)
    report(outcome, details=True)
    return redirect(url_for("history.versions", kind=kind), 303)


@bp.get("/audit")
def audit() -> str:
    ws = state().ws
    raw = request.args.get("page", "1")
    page = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 9 else 0
    if page < 1:
        abort(404)
    action = request.args.get("action", "")[:64]
    entries = ws.audit.entries(limit=PAGE, offset=(page - 1) * PAGE, action_prefix=action)
    if not entries and page > 1:
        abort(404)  # past the last page (SQLite's OFFSET is a 64-bit integer: never hand it a bigger one)
    return render_template("audit.html", entries=entries, page=page, action=action)
