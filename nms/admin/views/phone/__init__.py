"""The phone (IVR) pages: announcements and their audio, hours and holidays, departments, the call
policy, live calls, protection events and (admins only) recordings. One blueprint (``phone``), one
module per page; importing the package registers every page's routes on it."""

from __future__ import annotations

from ivr.config import REQUIRED_ANNOUNCEMENTS
from nms.admin.views.phone import announcements, calls, departments, events, hours, policy, recordings
from nms.admin.views.phone.common import bp

__all__ = ["REQUIRED_ANNOUNCEMENTS", "announcements", "bp", "calls", "departments", "events", "hours", "policy",
           "recordings"]
