"""A change to ivr.yaml in words, for the history and rollback pages.

"직원 보호 안내 문구 변경: “…” → “…”", "점심시간 12:00–13:00 → 11:30–12:30", "공휴일 추가: …": what a team
member needs to decide whether to roll back, instead of a YAML diff. Anything without a sentence of
its own is named by its key ("기타 설정 변경: sip.trunk"), so no change goes unmentioned.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from nms.configfile import ConfigError, load_text

Translate = Callable[..., str]
_DAY_ORDER = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_HANDLED = {"announcements", "hours", "departments", "call_limit", "protection", "lines", "main_number"}


def describe_ivr_change(old_text: str, new_text: str, _: Translate) -> list[str]:
    """Sentences for the change from ``old_text`` to ``new_text`` (both ivr.yaml), in the UI's language."""
    try:
        old = load_text(old_text) or {}
        new = load_text(new_text) or {}
    except ConfigError:
        return [_("chg_unreadable")]
    if not isinstance(old, dict) or not isinstance(new, dict):
        return [_("chg_unreadable")]
    out = list(_announcements(old.get("announcements") or {}, new.get("announcements") or {}, _))
    out += _hours(old.get("hours") or {}, new.get("hours") or {}, _)
    out += _departments(old.get("departments") or [], new.get("departments") or [], _)
    for key in ("call_limit", "protection", "lines", "main_number"):
        if old.get(key) != new.get(key):
            out.append(_("chg_setting", what=_(f"chg_{key}"), old=_plain(old.get(key)), new=_plain(new.get(key))))
    for key in sorted((set(old) | set(new)) - _HANDLED):
        if old.get(key) != new.get(key):
            out.append(_("chg_other", key=key))
    return out


def _quote(text: Any, limit: int = 80) -> str:
    s = " ".join(str(text).split())
    return f"“{s if len(s) <= limit else s[:limit - 1] + '…'}”"


def _label(_: Translate, msg_id: str, fallback: str) -> str:
    text = _(msg_id)
    return fallback if text == msg_id else text


def _announcements(old: dict, new: dict, _: Translate) -> Iterator[str]:
    for key in sorted(set(old) | set(new)):
        name = _label(_, f"ann_{key}", key)
        if key not in old:
            yield _("chg_ann_added", name=name, new=_quote(new[key]))
        elif key not in new:
            yield _("chg_ann_removed", name=name)
        elif old[key] != new[key]:
            yield _("chg_ann", name=name, old=_quote(old[key]), new=_quote(new[key]))


def _span(r: Any) -> str:
    if not isinstance(r, dict):
        return "—"
    return f"{r.get('start')}–{r.get('end')}"


def _periods(periods: Any) -> str:
    if not periods:
        return "—"
    parts = []
    for p in periods:
        days = sorted(p.get("days") or [], key=lambda d: _DAY_ORDER.index(d) if d in _DAY_ORDER else 9)
        parts.append(f"{','.join(days)} {_span(p)}")
    return "; ".join(parts)


def _hours(old: dict, new: dict, _: Translate) -> Iterator[str]:
    if old.get("business") != new.get("business"):
        yield _("chg_business", old=_periods(old.get("business")), new=_periods(new.get("business")))
    if old.get("lunch") != new.get("lunch"):
        yield _("chg_lunch", old=_span(old.get("lunch")) if old.get("lunch") else _("chg_none"),
                new=_span(new.get("lunch")) if new.get("lunch") else _("chg_none"))
    old_h = {str(h.get("date")): h.get("name") for h in old.get("holidays") or [] if isinstance(h, dict)}
    new_h = {str(h.get("date")): h.get("name") for h in new.get("holidays") or [] if isinstance(h, dict)}
    added = [f"{d} {new_h[d]}" for d in sorted(new_h) if d not in old_h]
    removed = [f"{d} {old_h[d]}" for d in sorted(old_h) if d not in new_h]
    renamed = [f"{d} {old_h[d]} → {new_h[d]}" for d in sorted(new_h) if d in old_h and old_h[d] != new_h[d]]
    for msg_id, items in (("chg_holidays_added", added), ("chg_holidays_removed", removed),
                          ("chg_holidays_renamed", renamed)):
        if items:
            shown = ", ".join(items[:8]) + (f" … (+{len(items) - 8})" if len(items) > 8 else "")
            yield _(msg_id, n=len(items), items=shown)
    if old.get("holidays_until") != new.get("holidays_until"):
        yield _("chg_holidays_until", old=old.get("holidays_until") or "—", new=new.get("holidays_until") or "—")
    if old.get("routes") != new.get("routes"):
        yield _("chg_routes", old=_plain(old.get("routes")), new=_plain(new.get("routes")))


def _departments(old: list, new: list, _: Translate) -> Iterator[str]:
    before = {d.get("id"): d for d in old if isinstance(d, dict)}
    after = {d.get("id"): d for d in new if isinstance(d, dict)}
    for dept_id in after:
        if dept_id not in before:
            yield _("chg_dept_added", name=after[dept_id].get("name", dept_id))
    for dept_id, d in before.items():
        if dept_id not in after:
            yield _("chg_dept_removed", name=d.get("name", dept_id))
        elif after[dept_id] != d:
            fields = sorted(k for k in set(d) | set(after[dept_id]) if d.get(k) != after[dept_id].get(k))
            yield _("chg_dept", name=after[dept_id].get("name", dept_id),
                    fields=", ".join(f"{k}: {_plain(d.get(k))} → {_plain(after[dept_id].get(k))}" for k in fields))


def _plain(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, dict):
        return ", ".join(f"{k} {_plain(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_plain(v) for v in value)
    return str(value)
