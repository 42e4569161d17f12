"""The announcements page: each announcement's text and its audio (synthesized, regenerated or uploaded)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from flask import abort, flash, g, redirect, render_template, request, send_file, url_for

from ivr.config import IvrConfig
from ivr.prompts import PromptError
from nms.admin import yamledit
from nms.admin.i18n import translate_current
from nms.admin.users import Role
from nms.admin.views import address, errors_by_field, report, requires, status_code
from nms.admin.views.phone.common import bp, ivr_change, ivr_config, ivr_config_with, workspace


def _announcement_keys(config: IvrConfig) -> list[str]:
    keys = list(config.announcement_keys())
    return keys + sorted(k for k in config.announcements if k not in keys)


@bp.get("/")
def announcements(errors: dict | None = None, form: dict | None = None, code: int = 200):
    config, version = ivr_config()
    ws = workspace()
    ws.audio.adopt(config, version)
    return render_template("announcements.html", config=config, version=version, keys=_announcement_keys(config),
                           audio=ws.audio.info(config), errors=errors or {}, form=form or {}), code


@bp.post("/announcements/<key>")
@requires(Role.OPERATOR)
def announcement_save(key: str):
    config, _v = ivr_config_with(key)
    text = " ".join(request.form.get("text", "").split())
    # Make the audio first: text TTS cannot speak never reaches the file (nothing half-applied).
    try:
        if text:  # empty text is the validation's to report, in its words
            workspace().audio.synthesize(text, config.language)
    except PromptError as exc:
        return announcements(errors={f"announcements.{key}": [translate_current("err_audio", detail=str(exc))]},
                             form={f"announcements.{key}": request.form.get("text", "")[:2000]}, code=422)

    def edit(doc: Any) -> None:
        doc["announcements"][key] = yamledit.safe(text)

    outcome = ivr_change("ivr.announcement", f"announcement {key}", edit, section=("announcements", key))
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
    ws = workspace()
    config, version = ivr_config_with(key)
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
    ws = workspace()
    config, version = ivr_config_with(key)
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
    ws = workspace()
    config, _v = ivr_config_with(key)
    path = ws.audio.deployed(config, key)
    if not path.is_file():
        abort(404)
    return send_file(path, mimetype="audio/wav", conditional=True, etag=True, max_age=0)
