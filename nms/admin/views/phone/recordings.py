"""The recordings page (admins only): the recorded calls and playing one (audited)."""

from __future__ import annotations

import time
from pathlib import Path

from flask import abort, g, render_template, request, send_file

from nms.admin.users import Role
from nms.admin.views import address, requires
from nms.admin.views.phone.common import bp, ivr_config, workspace


def _recordings_dir() -> tuple[Path, int]:
    ws = workspace()
    ivr = ws.service("ivr")
    config = ivr.config if ivr is not None else ivr_config()[0]
    return config.recordings.local_directory, config.recordings.retention_days


@bp.get("/recordings")
@requires(Role.ADMIN)
def recordings() -> str:
    directory, retention = _recordings_dir()
    now = time.time()
    files = []
    if directory.is_dir():
        for path in sorted(directory.rglob("*.wav"), key=lambda p: p.stat().st_mtime, reverse=True)[:500]:
            st = path.stat()
            age = (now - st.st_mtime) / 86400
            files.append({"name": str(path.relative_to(directory)), "size": st.st_size, "time": st.st_mtime,
                          "left": max(0, int(retention - age))})
    return render_template("recordings.html", files=files, retention=retention, directory=directory)


@bp.get("/recordings/file")
@requires(Role.ADMIN)
def recording_file():
    directory, _r = _recordings_dir()
    name = request.args.get("name", "")
    path = (directory / name).resolve()
    if not name or directory.resolve() not in path.parents or not path.is_file():
        abort(404)
    workspace().audit.record(user=g.user.name, address=address(), action="recording.play", target=name,
                       summary=f"listened to recording {name}", result="done")
    return send_file(path, mimetype="audio/wav", conditional=True, max_age=0)
