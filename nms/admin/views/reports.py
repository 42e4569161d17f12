"""Reports: the monthly reports kept under the state directory, for download (viewer and up)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, render_template, send_file
from werkzeug.wrappers import Response

from nms.admin.context import state
from nms.reports.archive import kept_report, list_reports

bp = Blueprint("reports", __name__, url_prefix="/reports")
MIMETYPES = {"pdf": "application/pdf",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _directory() -> Path:
    district = state().ws.district
    return district.config_path.parent / district.settings.reports.directory


@bp.get("/")
def index() -> str:
    return render_template("reports.html", reports=list_reports(_directory()))


@bp.get("/<name>")
def download(name: str) -> Response:
    path = kept_report(_directory(), name)
    if path is None:
        abort(404)
    return send_file(path, mimetype=MIMETYPES[path.suffix.lstrip(".")], as_attachment=True, download_name=path.name)
