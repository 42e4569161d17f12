"""What the page's views share, and how a view reaches it (``state()``), apart from the Flask app.

The app (:mod:`nms.admin.app`) creates one :class:`AdminState` and registers the views; the views
import this module, never the app, so the imports run one way.
"""

from __future__ import annotations

import time

from nms.admin.changes import ChangeManager
from nms.admin.workspace import Workspace

EXTENSION = "nms_admin"


class AdminState:
    """What the views share: the workspace and the change manager."""

    def __init__(self, workspace: Workspace):
        self.ws = workspace
        self.changes = ChangeManager(workspace)
        self.logins: dict[str, int] = {"success": 0, "failure": 0, "limited": 0, "busy": 0}
        self.started = time.time()


def state() -> AdminState:
    from flask import current_app

    return current_app.extensions[EXTENSION]
