"""Publishing announcements and holidays with a look first: drafts that can be heard before callers
hear them, one click to publish, one click back to the previous text; the holiday import as a diff
that an operator approves."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, send_file, url_for

from ivr.config import IvrConfig
from ivr.holidays import HolidayImport, apply_import, plan_import
from ivr.prompts import PromptError
from nms.admin import yamledit
from nms.admin.context import state
from nms.admin.drafts import MAX_DRAFT_CHARS, Draft, DraftStore
from nms.admin.i18n import translate_current
from nms.admin.users import Role
from nms.admin.views import address, report, requires
from nms.admin.views.phone.common import ivr_change
from nms.configfile import load_text

bp = Blueprint("publish", __name__, url_prefix="/phone")
HISTORY_DEPTH = 50  # versions searched for an announcement's previous text


@bp.app_context_processor
def _announcement_helpers() -> dict[str, Any]:
    """For the announcements page (a view of the phone blueprint): its drafts and previous texts."""
    return {"announcement_drafts": live_drafts, "previous_texts": previous_texts}


def drafts() -> DraftStore:
    return DraftStore(state().ws.audio.directory / "drafts.json")


def live_drafts(config: IvrConfig) -> dict[str, Draft]:
    """Drafts that differ from what is published (a published draft needs no more attention)."""
    return {k: d for k, d in drafts().all().items() if config.announcements.get(k) != d.text}


def previous_texts(config: IvrConfig) -> dict[str, str]:
    """For each announcement, the text it had before its current one (searching back through the history)."""
    return {key: text for key, (text, _version) in _previous(config).items()}


def _previous(config: IvrConfig) -> dict[str, tuple[str, str]]:
    """For each announcement, its previous text and the newest version that had it."""
    store = state().ws.file("ivr").store
    out: dict[str, tuple[str, str]] = {}
    pending = set(config.announcements)
    for entry in list(reversed(store.history()))[:HISTORY_DEPTH]:
        if not pending:
            break
        try:
            old = (load_text(store.read_version(entry.version)) or {}).get("announcements") or {}
        except Exception:  # an unreadable old version has nothing to offer
            continue
        for key in list(pending):
            text = old.get(key)
            if isinstance(text, str) and text != config.announcements[key]:
                out[key] = (text, entry.version)
                pending.discard(key)
    return out


def _config_with(key: str) -> IvrConfig:
    try:
        config, _v = state().ws.ivr_config()
    except FileNotFoundError:
        abort(404)
    if key not in config.announcements:
        abort(404)
    return config


@bp.post("/announcements/<key>/draft")
@requires(Role.OPERATOR)
def draft(key: str):
    ws = state().ws
    config = _config_with(key)
    text = " ".join(request.form.get("text", "").split())
    anchor = url_for("phone.announcements", _anchor=f"a-{key}")
    if not text or len(text) > MAX_DRAFT_CHARS:
        flash(translate_current("draft_empty"), "error")
        return redirect(anchor, 303)
    if text == config.announcements[key]:
        drafts().discard(key)
        flash(translate_current("draft_same"), "info")
        return redirect(anchor, 303)
    try:
        sha = ws.audio.synthesize(text, config.language)
    except PromptError as exc:
        flash(translate_current("err_audio", detail=str(exc)), "error")
        return redirect(anchor, 303)
    drafts().put(key, text, sha, g.user.name)
    ws.audit.record(user=g.user.name, address=address(), action="ivr.announcement.draft", target=key,
                    summary=f"draft of announcement {key} (not published)", result="done",
                    diff=f"- {config.announcements[key]}\n+ {text}\n")
    flash(translate_current("draft_made"), "ok")
    return redirect(anchor, 303)


@bp.get("/drafts/<key>.wav")
def draft_audio(key: str):
    found = drafts().get(key)
    if found is None:
        abort(404)
    path = state().ws.audio.blob(found.sha)
    if not path.is_file():
        abort(404)
    return send_file(path, mimetype="audio/wav", conditional=True, max_age=0)


@bp.post("/announcements/<key>/draft/discard")
@requires(Role.OPERATOR)
def draft_discard(key: str):
    _config_with(key)
    if drafts().discard(key):
        state().ws.audit.record(user=g.user.name, address=address(), action="ivr.announcement.draft", target=key,
                                summary=f"discarded the draft of announcement {key}", result="done")
    return redirect(url_for("phone.announcements", _anchor=f"a-{key}"), 303)


@bp.post("/announcements/<key>/previous")
@requires(Role.OPERATOR)
def previous(key: str):
    """Publish the announcement's previous text again, with the very audio it had then."""
    ws = state().ws
    config = _config_with(key)
    found = _previous(config).get(key)
    if found is None:
        flash(translate_current("ann_previous_none"), "error")
        return redirect(url_for("phone.announcements", _anchor=f"a-{key}"), 303)
    text, version = found
    sha = ws.audio.audio_of_version(version, key)
    if sha is not None:
        ws.audio.bind_text_audio(text, config.language, sha)

    def edit(doc: Any) -> None:
        doc["announcements"][key] = yamledit.safe(text)

    outcome = ivr_change("ivr.announcement", f"announcement {key}: back to the previous text", edit,
                         section=("announcements", key))
    report(outcome, details=True)
    return redirect(url_for("phone.announcements", _anchor=f"a-{key}"), 303)


# -- holidays from python-holidays ------------------------------------------------------------------

def _years(raw: str | None) -> list[int]:
    this = dt.date.today().year
    if not raw:
        return [this, this + 1]
    years = []
    for part in raw.replace(",", " ").split():
        if part.isdigit() and this - 1 <= int(part) <= this + 5:
            years.append(int(part))
    return sorted(set(years)) or [this, this + 1]


def _plan() -> tuple[IvrConfig, str, HolidayImport]:
    try:
        config, version = state().ws.ivr_config()
    except FileNotFoundError:
        abort(404)
    return config, version, plan_import(config.hours, _years(request.values.get("years")))


@bp.get("/holidays/import")
def holidays_import() -> str:
    config, version, plan = _plan()
    return render_template("holidays_import.html", config=config, version=version, plan=plan,
                           years=" ".join(str(y) for y in plan.years))


@bp.post("/holidays/import")
@requires(Role.OPERATOR)
def holidays_import_apply():
    config, _version, plan = _plan()
    holidays = apply_import(list(config.hours.holidays), plan)

    def edit(doc: Any) -> None:
        doc["hours"]["holidays"] = yamledit.safe(
            [{"date": h.date, "name": h.name, **({"local": True} if h.local else {})} for h in holidays])
        doc["hours"]["holidays_until"] = plan.until

    summary = (f"import holidays {'-'.join(str(y) for y in plan.years)} from {plan.source}: "
               f"+{len(plan.added)} -{len(plan.removed)} ~{len(plan.renamed)}")
    outcome = ivr_change("ivr.holiday.import", summary, edit, section=("hours", "holidays"))
    report(outcome, details=True)
    return redirect(url_for("phone.hours", _anchor="holidays"), 303)
