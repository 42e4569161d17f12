"""Sharding the inventory between collectors: every device exactly once, stable across runs."""

from __future__ import annotations

import subprocess
import sys

import pytest

from collectors.snmp.service import SnmpCollector
from nms.district import load_district
from nms.inventory.shard import parse_shard, shard_of
from nms.secrets import SecretResolver


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
