"""Holidays from a maintained source (python-holidays): the import as a diff, local closures kept,
the coverage metric, and an imported substitute holiday routed by the real Asterisk."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from ivr.config import DEFAULT_CONFIG, Holiday, load_config
from ivr.holidays import apply_import, korean_public_holidays, last_date_timestamp, plan_import
from ivr.metrics import IvrCollector
from ivr.service import IvrService
from nms.exposition import generate_text
from tests import ivr_fixtures
from tests.ivr_fixtures import config_data, run

asterisk_rootfs = ivr_fixtures.asterisk_rootfs
ivr_lab_factory = ivr_fixtures.ivr_lab_factory


def test_the_source_has_substitute_holidays() -> None:
    days = {h.date: h.name for h in korean_public_holidays([2026, 2027])}
    for substitute in ("2026-03-02", "2026-05-25", "2026-08-17", "2026-10-05", "2027-02-09", "2027-10-11"):
        assert "대체" in days[dt.date.fromisoformat(substitute)], substitute
    assert days[dt.date(2027, 2, 7)] == "설날"


def test_import_is_a_diff_against_the_hand_typed_list_and_keeps_local_closures() -> None:
    hours = load_config(DEFAULT_CONFIG).hours
    local = Holiday(date=dt.date(2026, 11, 2), name="구청 개청기념일 휴무", local=True)
    wrong = Holiday(date=dt.date(2026, 4, 1), name="잘못 입력한 휴일")
    hours = hours.model_copy(update={"holidays": [*hours.holidays, local, wrong]})
    plan = plan_import(hours, [2026, 2027])
    added = {h.date.isoformat() for h in plan.added}
    # The two dates where the hand-typed 2026 list and python-holidays disagree, and all of 2027.
    assert {"2026-05-01", "2026-07-17"} <= added
    assert {d for d in added if d.startswith("2027")} == {h.date.isoformat() for h in korean_public_holidays([2027])}
    assert [h.date.isoformat() for h in plan.removed] == ["2026-04-01"]  # a public date the source doesn't have
    assert local in plan.kept_local and local not in plan.removed
    assert ("2026-01-01", "신정", "신정연휴") in {(o.date.isoformat(), o.name, n.name) for o, n in plan.renamed}
    assert plan.until == dt.date(2027, 12, 31)

    after = apply_import(hours.holidays, plan)
    dates = [h.date for h in after]
    assert dates == sorted(dates) and len(dates) == len(set(dates))
    assert local in after and wrong not in after
    # Approving the same import twice changes nothing the second time.
    again = plan_import(hours.model_copy(update={"holidays": after, "holidays_until": plan.until}), [2026, 2027])
    assert again.empty


def test_holidays_last_date_metric(tmp_path) -> None:
    data = config_data(real_hours=True)
    data["hours"]["holidays_until"] = "2027-12-31"
    path = ivr_fixtures.write_config(tmp_path, data)
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    for name in ("ami", "ivr-caller-key"):
        (secrets / name).write_text("x" * 32)
    from nms.secrets import SecretResolver

    service = IvrService(path, secrets=SecretResolver(secrets))
    text = generate_text(IvrCollector(service.stats)).decode()
    expected = dt.datetime(2027, 12, 31, tzinfo=zoneinfo.ZoneInfo("Asia/Seoul")).timestamp()
    sample = next(line for line in text.splitlines() if line.startswith("nms_ivr_holidays_last_date "))
    assert float(sample.split()[1]) == expected
    assert last_date_timestamp(service.config.hours) == expected
    # Without holidays_until the last listed holiday is the end of coverage.
    hours = service.config.hours.model_copy(update={"holidays_until": None})
    assert hours.holidays_last_date == max(h.date for h in hours.holidays)


def test_an_imported_substitute_holiday_plays_the_holiday_announcement(ivr_lab_factory) -> None:
    data = config_data(real_hours=True)
    plan = plan_import(load_config(DEFAULT_CONFIG).hours, [2027])
    imported = apply_import([], plan)
    data["hours"]["holidays"] = [{"date": h.date.isoformat(), "name": h.name} for h in imported]
    # 2027-02-09 (Tuesday) is 설날 대체 휴일, only in the imported list.
    lab = ivr_lab_factory(data, faketime="@2027-02-09 10:30:00")
    did = lab.config.departments[0].dids[0]

    async def scenario() -> str:
        async with lab.client() as client:
            await client.call(did)
            ends = await client.wait_until(lambda: client.user_events("NmsCallEnd"), 30, "the call ends")
            assert client.playbacks("nms/holiday") and not client.playbacks("nms/staff-protection")
            return ends[0].get("Closed")

    assert run(scenario()) == "holiday"
