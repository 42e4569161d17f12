"""The page's languages: Korean (default) and English, from the one catalogue of nms (:mod:`nms.i18n`).

What is page-only lives here: the request's language, role labels, validation problems
(:class:`nms.admin.validation.FieldProblem`, with the service's own message kept as a fallback),
times and masked numbers.
"""

from __future__ import annotations

import datetime as dt
import time
import zoneinfo
from typing import Any

from ivr.events import mask_number as _mask
from nms.i18n import CATALOG, LANGUAGES, translate  # noqa: F401 - the page's names for them

TIMEZONE = zoneinfo.ZoneInfo("Asia/Seoul")


def current_language() -> str:
    from flask import g, has_request_context

    return getattr(g, "lang", "ko") if has_request_context() else "ko"


def translate_current(msg_id: str, /, **kwargs: Any) -> str:
    return translate(msg_id, current_language(), **kwargs)


def choose_language(session_lang: str | None, user: Any, default: str) -> str:
    for lang in (session_lang, getattr(user, "language", None), default):
        if lang in LANGUAGES:
            return lang
    return "ko"


def role_label(role: Any) -> str:
    return translate_current(f"role_{role.label}_user")


def problem_text(problem: Any) -> str:
    args = {k: v for k, v in problem.args.items()}
    text = translate_current(problem.code, **args)
    return text if text != problem.code else (problem.raw or problem.code)


def format_time(ts: float | None) -> str:
    if not ts:
        return ""
    return dt.datetime.fromtimestamp(float(ts), TIMEZONE).strftime("%Y-%m-%d %H:%M:%S")


def format_ago(ts: float | None) -> str:
    if not ts:
        return ""
    seconds = max(0, int(time.time() - float(ts)))
    ko = current_language() != "en"
    if seconds < 60:
        return f"{seconds}초 전" if ko else f"{seconds} s ago"
    if seconds < 3600:
        return f"{seconds // 60}분 전" if ko else f"{seconds // 60} min ago"
    return format_time(ts)


def mask_number(number: str | None) -> str:
    return _mask(number or "")
