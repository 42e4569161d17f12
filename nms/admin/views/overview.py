"""The overview: firing alerts, service health, lines in use, devices down, busy Wi-Fi sites, protection events."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template

from nms.admin.context import state
from nms.admin.status import StatusReader
from nms.admin.views.alerts import firing

bp = Blueprint("overview", __name__)


def reader() -> StatusReader:
    ext = current_app.extensions
    if "nms_admin_status" not in ext:
        ext["nms_admin_status"] = StatusReader(state().ws)
    return ext["nms_admin_status"]


@bp.get("/")
def index() -> str:
    alerts, problem = firing()
    return render_template("overview.html", o=reader().overview(), alerts=alerts, alerts_problem=problem)


@bp.get("/overview.json")
def data():
    """The same numbers for the page's periodic refresh."""
    o = reader().overview()
    return jsonify(lines_in_use=o.lines_in_use, lines=o.lines, devices_down=o.devices_down,
                   devices_polled=o.devices_polled, health={h.name: h.state for h in o.health},
                   events_today=sum(o.events_by_kind.values()))
