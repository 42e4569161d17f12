"""Grafana dashboards of the service, generated from Python (``python -m dashboards.build``).

The JSON in ``dashboards/json/`` is the build's output and is what Grafana provisions
(``dashboards/provisioning/``); the tests check it is up to date with the Python definitions.

Rate windows: every ``rate()``/``irate()``/``increase()`` covers at least four polls of the slowest
device class it reads (configs/nms.yaml ``polling.classes``), rather than the collector stamping
samples with the poll time; ``$__rate_interval`` is not used. ``python -m dashboards.build --check``
fails the build on a shorter window in a panel, an annotation or an alert rule (dashboards.windows).
Counts of calls and protection events are exact day counts from the IVR's event store.

The drill-down runs overview -> category -> site -> device -> interface (dashboards.drill).
"""
