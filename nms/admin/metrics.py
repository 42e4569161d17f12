"""Prometheus metrics of the admin page: logins and changes, by result."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from nms.admin.context import AdminState
from nms.admin.users import CHECK_LOAD


class AdminCollector:
    def __init__(self, state: AdminState):
        self.state = state

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        st = self.state
        logins = CounterMetricFamily("nms_admin_logins", "Login attempts on the admin page, by result",
                                     labels=["result"])
        for result, n in sorted(st.logins.items()):
            logins.add_metric([result], n)
        yield logins
        changes = CounterMetricFamily("nms_admin_changes", "Configuration changes made on the admin page, by file "
                                      "and result (applied, saved, unchanged, invalid, conflict, restored)",
                                      labels=["file", "result"])
        for (kind, result), n in sorted(st.changes.counts.items()):
            changes.add_metric([kind, result], n)
        yield changes
        checks = GaugeMetricFamily("nms_admin_password_checks_peak", "Most password checks (Argon2id) that ran "
                                   "at once since start; bounded so that logins cannot starve the other pages")
        checks.add_metric([], CHECK_LOAD.peak)
        yield checks
        users = GaugeMetricFamily("nms_admin_users", "Enabled admin-page users")
        users.add_metric([], sum(1 for u in st.ws.users.list() if not u.disabled))
        yield users
