"""The protection events page: the list and its heatmap."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from flask import render_template, request

from nms.admin.heatmap import heatmap_svg
from nms.admin.i18n import translate_current
from nms.admin.status import midnight, read_events
from nms.admin.views.phone.common import bp, ivr_config, workspace


@bp.get("/events")
def events() -> str:
    config, _v = ivr_config()
    try:
        days = min(max(int(request.args.get("days", "7")), 1), 365)
    except ValueError:
        days = 7
    since = midnight(config.hours.timezone) - (days - 1) * 86400
    rows = read_events(workspace(), since, limit=1000)
    names = {d.id: d.name for d in config.departments}
    today = dt.datetime.now(zoneinfo.ZoneInfo(config.hours.timezone)).date()
    heat_days = 91
    heat_rows = read_events(workspace(), midnight(config.hours.timezone) - (heat_days - 1) * 86400, limit=100000)
    protected = {d.id: d.name for d in config.departments if d.protection}
    heat = heatmap_svg(heat_rows, protected, today, heat_days, config.hours.timezone,
                       lambda **kw: translate_current("heatmap_cell", **kw))
    return render_template("events.html", events=rows, days=days, names=names, heatmap=heat, heatmap_days=heat_days,
                           export_from=(today - dt.timedelta(days=days - 1)).isoformat(), export_to=today.isoformat())
