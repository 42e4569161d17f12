"""A real Prometheus scrapes the running service: AP clients by category from simulated agents."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request

from collectors.snmp.service import SnmpCollector
from lab.agentdata import expected_value, read_snmprec
from lab.prometheus import start_prometheus
from nms.secrets import SecretResolver
from tests.lab_fixtures import free_tcp_port
from tests.service_runner import RunningService, wait_for


def query(prometheus: str, expr: str) -> list[dict]:
    url = f"{prometheus}/api/v1/query?{urllib.parse.urlencode({'query': expr})}"
    with urllib.request.urlopen(url, timeout=10) as r:
        body = json.load(r)
    assert body["status"] == "success", body
    return body["data"]["result"]


def served_clients(agents, district, device: str, t: float) -> int:
    profile = district.snmp.profiles[next(d.profile for d in district.inventory.devices if d.name == device)]
    column = "." + profile.clients_oid + "."
    records = read_snmprec(agents.specs[device].data_file)
    radios = [rec for oid, rec in records.items() if ("." + oid).startswith(column)]
    assert radios, f"{device}'s data file serves no client-count rows under {column}"
    return sum(int(expected_value(rec, t)) for rec in radios)


def test_prometheus_answers_ap_clients_by_category(lab_district, lab_agents, lab_run_dir):
    secrets = SecretResolver(lab_agents.secrets_dir, environ={})
    collector = SnmpCollector(lab_district, secrets)
    with RunningService(lab_district.config_path, services=[collector]) as svc:
        assert svc.wait_scrape(lambda t: 'nms_category_ap_clients{category="park"}' in t, 30), \
            "the collector should have polled the APs"
        listen = f"127.0.0.1:{free_tcp_port()}"
        prom = start_prometheus(lab_run_dir, lab_district.settings.http.listen, listen)
        try:
            url = f"http://{listen}"
            by_category = wait_for(lambda: query(url, "sum by (category) (nms_ap_clients)"), 40, 1.0)
            assert by_category, "Prometheus never got AP client series from the service"
            categories = {r["metric"]["category"]: float(r["value"][1]) for r in by_category}
            assert set(categories) == {"market", "park"}  # the two APs of the small district
            rollup = {r["metric"]["category"]: float(r["value"][1])
                      for r in query(url, "nms_category_ap_clients")}
            assert rollup == categories  # the service's own rollup agrees with Prometheus' sum
            # Prometheus holds what each agent served at the collector's poll time, recomputed from
            # the agent's own data file and the lab's model of client counts over the day.
            for device, category in (("ap-market-01", "market"), ("ap-park-01", "park")):
                polled = float(query(url, f'nms_snmp_last_poll_timestamp_seconds{{device="{device}"}}')[0]["value"][1])
                held = float(query(url, f'nms_ap_clients{{device="{device}"}}')[0]["value"][1])
                assert held == categories[category]
                assert held in {served_clients(lab_agents, lab_district, device, polled + d) for d in (0, 1)}
            up = query(url, 'nms_device_up{role="ap"}')
            assert {r["metric"]["device"] for r in up} == {"ap-market-01", "ap-park-01"}
        finally:
            prom.stop()
