"""What every phone page shares: the ``phone`` blueprint, the IVR configuration of the request and
the one way an IVR change is made (versioned, audited, then the announcement audio synced)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, g, make_response, render_template, request

from ivr.config import IvrConfig
from nms.admin import yamledit
from nms.admin.context import state
from nms.admin.i18n import problem_text
from nms.admin.validation import Invalid
from nms.admin.views import address
from nms.admin.workspace import Workspace

bp = Blueprint("phone", __name__, url_prefix="/phone")


def workspace() -> Workspace:
    """The admin workspace of this request."""
    return state().ws


def ivr_config() -> tuple[IvrConfig, str]:
    """The IVR configuration and its version; 404 without one, 422 when it no longer validates."""
    try:
        return workspace().ivr_config()
    except FileNotFoundError:
        abort(404)
    except Invalid as exc:  # edited by hand into something the service would refuse too
        message = "; ".join(problem_text(p) for p in exc.problems)[:2000]
        abort(make_response(render_template("error.html", code=422, message=message), 422))


def ivr_config_with(key: str) -> tuple[IvrConfig, str]:
    """The IVR configuration and its version, or 404 when it has no announcement ``key``."""
    config, version = ivr_config()
    if key not in config.announcements:
        abort(404)
    return config, version


def _sync(user: str):
    """After an IVR change is live: give every announcement the audio of the new version."""
    ws = workspace()
    return lambda model, version: ws.audio.sync(model, version, user)


def ivr_change(action: str, summary: str, edit: Any, section: Any = None, text: str | None = None,
               base: str | None = "") -> Any:
    """Apply ``edit`` to ivr.yaml as ``action`` (versioned, audited), then sync the announcement audio.
    ``base`` is the version the edit was made on: the form's by default, ``None`` for no check."""
    return state().changes.change(
        "ivr", user=g.user.name, action=action, summary=summary, edit=edit, text=text,
        base_version=request.form.get("version") if base == "" else base, section=section, address=address(),
        after_apply=_sync(g.user.name))


def form_number(value: str) -> Any:
    """A form field as an int when it is one, else as text (for the validation to name)."""
    value = (value or "").strip()
    try:
        return int(value)
    except ValueError:
        return yamledit.safe(value)
