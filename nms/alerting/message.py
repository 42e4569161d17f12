"""Alertmanager's webhook payload (version 4), checked, and the short Korean message relayed onwards."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict

MAX_ALERTS = 1000
MAX_TEXT = 1000  # characters kept of any one label or annotation


class PayloadError(ValueError):
    """The body is not an Alertmanager webhook notification."""


class RelayedAlert(TypedDict):
    status: str
    alertname: str
    severity: str
    summary_ko: str
    summary: str
    device: str
    site: str
    starts_at: str


class Relayed(TypedDict):
    text: str
    status: str
    severity: str
    team: str
    alerts: list[RelayedAlert]
    external_url: str


@dataclass(frozen=True)
class Notification:
    status: str  # firing | resolved
    group_key: str
    common: dict[str, str]
    alerts: list[RelayedAlert]
    external_url: str


def _text(value: object) -> str:
    return value[:MAX_TEXT] if isinstance(value, str) else ""


def _strings(value: object, what: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PayloadError(f"{what} is not an object")
    return {str(k)[:100]: _text(v) for k, v in list(value.items())[:100]}


def parse(doc: object) -> Notification:
    """The notification in ``doc`` (parsed JSON); PayloadError naming what is wrong."""
    if not isinstance(doc, dict):
        raise PayloadError("the body is not a JSON object")
    if doc.get("version") != "4":
        raise PayloadError(f"unsupported webhook version {str(doc.get('version'))[:20]!r} (expected '4')")
    status = doc.get("status")
    if status not in ("firing", "resolved"):
        raise PayloadError("status is neither 'firing' nor 'resolved'")
    raw = doc.get("alerts")
    if not isinstance(raw, list) or not raw:
        raise PayloadError("alerts is not a non-empty list")
    if len(raw) > MAX_ALERTS:
        raise PayloadError(f"{len(raw)} alerts in one notification (at most {MAX_ALERTS})")
    alerts: list[RelayedAlert] = []
    for item in raw:
        if not isinstance(item, dict):
            raise PayloadError("an alert is not an object")
        labels, notes = _strings(item.get("labels"), "labels"), _strings(item.get("annotations"), "annotations")
        alerts.append(RelayedAlert(
            status=_text(item.get("status")), alertname=labels.get("alertname", ""),
            severity=labels.get("severity", ""), summary_ko=notes.get("summary_ko", ""),
            summary=notes.get("summary", ""), device=labels.get("device", ""), site=labels.get("site", ""),
            starts_at=_text(item.get("startsAt"))))
    return Notification(status=status, group_key=_text(doc.get("groupKey")),
                        common=_strings(doc.get("commonLabels"), "commonLabels"), alerts=alerts,
                        external_url=_text(doc.get("externalURL")))


SEVERITY_KO = {"critical": "긴급", "warning": "주의"}


def render(n: Notification) -> Relayed:
    """The relayed JSON: ``text`` is what a messenger or an SMS shows (Korean, one line per alert)."""
    head = f"[{'장애' if n.status == 'firing' else '복구'}]"
    severity = n.common.get("severity", "")
    if severity:
        head += f"[{SEVERITY_KO.get(severity, severity)}]"
    def line(a: RelayedAlert) -> str:
        mark = "(복구) " if a["status"] == "resolved" and n.status == "firing" else ""
        return mark + (a["summary_ko"] or a["summary"] or a["alertname"])

    lines = [line(a) for a in n.alerts]
    text = f"{head} {lines[0]}" if len(lines) == 1 else f"{head} {len(lines)}건\n" + "\n".join(
        f"- {x}" for x in lines)
    return Relayed(text=text, status=n.status, severity=severity, team=n.common.get("team", ""),
                   alerts=n.alerts, external_url=n.external_url)
