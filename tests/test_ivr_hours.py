"""Time-of-day routing against Asterisk's own clock logic, with the wall clock set by faketime."""

from __future__ import annotations

import pytest

from tests import ivr_fixtures
from tests.ivr_fixtures import config_data, run

asterisk_rootfs = ivr_fixtures.asterisk_rootfs
ivr_lab_factory = ivr_fixtures.ivr_lab_factory

# (Seoul wall time, what the caller hears first). 2026-11-25 is a Wednesday, 2026-11-28 a Saturday,
# 2026-10-09 (Friday) is 한글날 in the shipped holiday list.
CASES = [
    ("2026-11-25 10:30:00", "staff-protection"),
    ("2026-11-25 12:30:00", "lunch"),
    ("2026-11-25 12:59:50", "lunch"),
    ("2026-11-25 13:00:10", "staff-protection"),
    ("2026-11-25 17:59:50", "staff-protection"),
    ("2026-11-25 18:00:10", "after-hours"),
    ("2026-11-25 08:59:50", "after-hours"),
    ("2026-11-28 10:30:00", "after-hours"),
    ("2026-10-09 10:30:00", "holiday"),
]


@pytest.mark.parametrize(("wall", "expected"), CASES)
def test_hours_routing(ivr_lab_factory, wall: str, expected: str) -> None:
    lab = ivr_lab_factory(config_data(real_hours=True), faketime=f"@{wall}")
    did = lab.config.departments[0].dids[0]
    sounds = ("staff-protection", "lunch", "after-hours", "holiday")

    async def scenario() -> list[str]:
        async with lab.client() as client:
            await client.call(did)
            await client.wait_until(lambda: any(client.playbacks(f"nms/{s}") for s in sounds), 20,
                                    f"an announcement at {wall}")
            if expected != "staff-protection":
                ends = await client.wait_until(lambda: client.user_events("NmsCallEnd"), 20, "the call ends")
                assert ends[0].get("Outcome") == "after-hours"
                assert ends[0].get("Closed") == expected
            return [s for s in sounds if client.playbacks(f"nms/{s}")]

    assert run(scenario()) == [expected]
