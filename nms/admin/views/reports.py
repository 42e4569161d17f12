"""Reports: the monthly reports kept under the state directory, for download (viewer and up)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, render_template, send_file
from markupsafe import Markup
from werkzeug.wrappers import Response

from nms.admin.context import state
from nms.reports.archive import kept_report, list_reports
from nms.reports.figures import recent_site_availability
from nms.reports.promapi import PrometheusClient, PrometheusError
from nms.reports.sitemap import placed, svg

bp = Blueprint("reports", __name__, url_prefix="/reports")
MIMETYPES = {"pdf": "application/pdf",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _directory() -> Path:
    district = state().ws.district
    return district.config_path.parent / district.settings.reports.directory


@bp.get("/")
def index() -> str:
    district = state().ws.district
    sites = district.inventory.sites
    availability: dict[str, float] = {}
    unavailable = None
    if placed(sites):
        try:
            availability = recent_site_availability(PrometheusClient(district.settings.reports.prometheus, timeout=3))
        except PrometheusError as exc:
            unavailable = str(exc)
    site_map = Markup(svg(sites, availability)) if placed(sites) else None  # built from escaped parts only
    return render_template("reports.html", reports=list_reports(_directory()), site_map=site_map,
                           map_error=unavailable, placed=len(placed(sites)), total=len(sites))


@bp.get("/<name>")
def download(name: str) -> Response:
    path = kept_report(_directory(), name)
    if path is None:
        abort(404)
    return send_file(path, mimetype=MIMETYPES[path.suffix.lstrip(".")], as_attachment=True, download_name=path.name)
