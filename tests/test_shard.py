"""Sharding the inventory between collectors: every device exactly once, stable across runs."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import pytest
import yaml

from collectors.snmp.service import SnmpCollector
from nms.app.district import load_district
from nms.inventory.shard import parse_shard, shard_of
from nms.secrets import SecretResolver
from tests.lab_fixtures import free_tcp_port


def test_shards_cover_every_active_device_exactly_once():
    district = load_district()
    names = [d.name for d in district.inventory.active_devices()]
    for total in (1, 2, 3, 7):
        seen: list[str] = []
        for index in range(total):
            seen += [d.name for d in SnmpCollector(district, SecretResolver(environ={}),
                                                   shard=(index, total)).devices()]
        assert sorted(seen) == sorted(names)


def test_shard_assignment_is_stable_across_processes():
    code = "from nms.inventory.shard import shard_of; print([shard_of(n, 5) for n in ('ap-a', 'bb-sw-01', 'x')])"
    runs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
            for _ in range(2)}
    assert len(runs) == 1
    assert runs.pop().strip() == str([shard_of(n, 5) for n in ("ap-a", "bb-sw-01", "x")])


@pytest.mark.parametrize("text", ["3/3", "a/b", "1", "-1/2", "0/0"])
def test_bad_shard_is_refused_with_its_text(text):
    with pytest.raises(ValueError, match="shard"):
        parse_shard(text)


def test_shards_agree_with_prometheus_hashmod(tmp_path):
    """A real Prometheus computes hashmod over the same names: it must put each device in our shard."""
    prometheus = shutil.which("prometheus")
    assert prometheus, "prometheus is missing: install Debian package 'prometheus' (make setup)"
    names = [d.name for d in load_district().inventory.active_devices()][:40]
    total = 7
    closed = free_tcp_port()  # nothing listens there: the targets are down, their labels are what counts
    config = {
        "global": {"scrape_interval": "1s"},
        "scrape_configs": [{
            "job_name": "shard",
            "static_configs": [{"targets": [f"127.0.0.1:{closed}"], "labels": {"device": n}}
                               for n in names],
            "relabel_configs": [
                {"source_labels": ["device"], "modulus": total, "target_label": "shard", "action": "hashmod"},
                # distinct instances, or Prometheus would merge the identical targets into one
                {"source_labels": ["device"], "target_label": "instance"},
            ],
        }],
    }
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    listen = f"127.0.0.1:{free_tcp_port()}"
    proc = subprocess.Popen([prometheus, f"--config.file={tmp_path / 'prometheus.yml'}",
                             f"--web.listen-address={listen}", f"--storage.tsdb.path={tmp_path / 'data'}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        result: list = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(result) < len(names):
            time.sleep(0.5)
            try:
                url = f"http://{listen}/api/v1/query?" + urllib.parse.urlencode({"query": 'up{job="shard"}'})
                with urllib.request.urlopen(url, timeout=5) as r:
                    result = json.load(r)["data"]["result"]
            except OSError:
                continue
        theirs = {s["metric"]["device"]: int(s["metric"]["shard"]) for s in result}
        assert len(theirs) == len(names), f"Prometheus reported {len(theirs)} of {len(names)} targets"
        assert theirs == {n: shard_of(n, total) for n in names}
    finally:
        proc.terminate()
        proc.wait(10)
