"""Grafana dashboards of the service, generated from Python (``python -m dashboards.build``).

The JSON in ``dashboards/json/`` is the build's output and is what Grafana provisions
(``dashboards/provisioning/``); the tests check it is up to date with the Python definitions.
"""
