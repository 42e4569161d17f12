"""Reports without the lab: periods, bad input, the event-store counts, the monthly job and the admin page's list.

The job writes into a real (empty) Prometheus's answers: a month with no data, which says so.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from xml.etree import ElementTree

import pytest
import yaml

from ivr.events import EventStore, ProtectionEvent, count_events
from nms.app.district import load_district
from nms.cli import main, report_inputs
from nms.inventory.models import Category, Site
from nms.reports import period as periods
from nms.reports.archive import list_reports
from nms.reports.figures import inventory_tables
from nms.reports.schedule import ReportService
from nms.reports.sitemap import colour, contains, placed, svg
from tests.admin_fixtures import make_light_admin
from tests.lab_fixtures import free_tcp_port
from tests.test_dashboards_lab import Prometheus


def test_periods_follow_the_seoul_calendar() -> None:
    nov = periods.month("2026-11")
    assert nov.start.isoformat() == "2026-11-01T00:00:00+09:00" and nov.end.isoformat() == "2026-12-01T00:00:00+09:00"
    assert len(nov.days()) == 30 and nov.title == "2026년 11월" and nov.previous().label == "2026-10"
    assert periods.month("2026-01").previous().label == "2025-12"
    year = periods.year("2026")
    assert len(year.days()) == 365 and year.previous().label == "2025" and year.previous_name == "전년"
    # 2026-11-30 16:00 UTC is already December 1st in Seoul: the job reports November
    assert periods.previous_month(datetime.fromisoformat("2026-11-30T21:00:00+00:00")).label == "2026-11"


@pytest.mark.parametrize("text", ["2026-13", "2026-1", "26-11", "2026-11; rm", "../2026-11", "", "1999-12"])
def test_a_bad_month_is_refused_in_korean(text: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with pytest.raises(periods.PeriodError, match="YYYY-MM"):
        periods.month(text)
    assert main(["report", "monthly", "--month", text, "--out", str(tmp_path)]) == 2
    assert "월은 YYYY-MM 형식이어야 합니다" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_an_unreachable_prometheus_is_named(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_tcp_port()}"
    assert main(["report", "monthly", "--month", "2026-10", "--out", str(tmp_path), "--prometheus", url]) == 5
    err = capsys.readouterr().err
    assert url in err and "질의할 수 없습니다" in err
    assert not any(tmp_path.iterdir())  # no half-written report


def test_event_counts_are_read_only_and_by_range(tmp_path: Path) -> None:
    assert count_events(tmp_path / "absent.sqlite3", 0, 1e10) is None
    store = EventStore(tmp_path / "events.sqlite3", b"k" * 32)
    for i, (dept, kind, t) in enumerate([("civil", "warning", 100.0), ("civil", "warning", 150.0),
                                         ("civil", "termination", 199.9), ("tax", "warning", 200.0)]):
        store.add(ProtectionEvent(f"e{i}", t, kind, 1, dept, 1, "1001", "01012345678", None))
    store.close()
    assert count_events(tmp_path / "events.sqlite3", 100, 200) == {("civil", "warning"): 2, ("civil", "termination"): 1}
    (tmp_path / "other.sqlite3").touch()
    sqlite3.connect(tmp_path / "other.sqlite3").execute("CREATE TABLE x (a)").connection.close()
    assert count_events(tmp_path / "other.sqlite3", 0, 1e10) is None


def test_inventory_tables_count_planned_and_future_aps_as_planned() -> None:
    district = load_district(Path(__file__).resolve().parent.parent / "configs" / "nms.yaml")
    tables = inventory_tables(district.inventory, periods.month("2026-11"))
    total = {k: sum(v[k] for v in tables["by_category"].values()) for k in ("sites", "aps", "planned_aps")}
    planned = sum(1 for d in district.inventory.devices if d.role.value == "ap" and d.status.value == "planned")
    assert total["planned_aps"] == planned > 0 and total["sites"] == 266
    # a report of 2019 counts APs installed from 2020 on as planned
    early = inventory_tables(district.inventory, periods.year("2019"))
    assert sum(v["aps"] for v in early["by_category"].values()) < total["aps"]
    assert early["by_year"]["2020"]["aps"] == 0 and early["by_year"]["2020"]["planned_aps"] > 0


@pytest.fixture
def empty_prometheus(tmp_path: Path) -> Iterator[str]:
    """A real Prometheus with no data (its one target is a port nobody listens on)."""
    prometheus = Prometheus(tmp_path / "prometheus", f"127.0.0.1:{free_tcp_port()}", rule_files=())
    try:
        yield prometheus.url
    finally:
        prometheus.stop()


def test_the_monthly_job_writes_and_the_admin_page_lists_it(empty_prometheus: str, tmp_path: Path) -> None:
    la = make_light_admin(tmp_path / "light")
    try:
        config = la.base / "nms.yaml"
        doc = yaml.safe_load(config.read_text())
        doc["reports"] = {"prometheus": empty_prometheus, "directory": "reports"}
        config.write_text(yaml.safe_dump(doc))
        district = load_district(config)
        la.ws.set_district(district)
        service = ReportService(district, report_inputs)

        async def run() -> tuple[datetime, list[Path]]:
            await service.start()
            try:
                job = service.scheduler.get_job("monthly-report")
                # 2026-12-01 06:00 KST is 2026-11-30 21:00 UTC
                first = datetime.fromisoformat("2026-11-30T21:00:00+00:00").timestamp()
                paths = await service.run_previous_month(first)
                return job.next_run_time, paths
            finally:
                await service.stop()

        next_run, paths = asyncio.run(run())
        local = next_run.astimezone(periods.SEOUL)
        assert (local.day, local.hour, local.minute) == (1, 6, 0)
        assert [p.name for p in paths] == ["report-monthly-2026-11.pdf", "report-monthly-2026-11.xlsx"]
        assert all(p.parent == la.base / "reports" for p in paths)
        assert [r.name for r in list_reports(la.base / "reports")] == [p.name for p in paths]
        (la.base / "reports" / "users.sqlite3").write_bytes(b"secret")

        anonymous = la.app.test_client()
        assert anonymous.get("/reports/").status_code == 302
        assert anonymous.get("/reports/report-monthly-2026-11.pdf").status_code == 302
        viewer = la.login("viewer")
        page = viewer.get("/reports/")
        assert page.status_code == 200 and "report-monthly-2026-11.pdf" in page.text
        assert "users.sqlite3" not in page.text
        pdf = viewer.get("/reports/report-monthly-2026-11.pdf")
        assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF") and pdf.mimetype == "application/pdf"
        assert "attachment" in pdf.headers["Content-Disposition"]
        xlsx = viewer.get("/reports/report-monthly-2026-11.xlsx")
        assert xlsx.status_code == 200 and xlsx.data.startswith(b"PK")
        assert "좌표(lat, lon)가 있는 사이트가 없습니다" in page.text  # the light district has no coordinates
        for name in ("users.sqlite3", "..%2Fnms.yaml", "report-monthly-2026-11.pdf%00", "report-monthly-../x.pdf"):
            assert viewer.get(f"/reports/{name}").status_code == 404, name
    finally:
        la.service.close()


def test_the_site_map_places_every_lab_site_inside_the_district() -> None:
    district = load_district(Path(__file__).resolve().parent.parent / "configs" / "nms.yaml")
    sites = district.inventory.sites
    assert len(placed(sites)) == len(sites) == 267
    assert all(contains(s.lon, s.lat) for s in sites)
    assert len({(s.lat, s.lon) for s in sites}) == len(sites)
    picture = svg(sites, {sites[0].id: 1.0, sites[1].id: 0.5})
    root = ElementTree.fromstring(picture)  # well-formed
    circles = [c for c in root.iter("{http://www.w3.org/2000/svg}circle") if c.get("data-site")]
    assert len(circles) == 267
    fills = {c.get("data-site"): c.get("fill") for c in circles}
    assert fills[sites[0].id] == colour(1.0) != fills[sites[1].id] == colour(0.5) != fills[sites[2].id] == colour(None)
    assert "<script" not in picture and "style=" not in picture


def test_the_site_map_escapes_names() -> None:
    site = Site(id="x-1", name='<script>alert("x")</script>', category=Category.PARK, lat=37.46, lon=126.90)
    picture = svg([site], {})
    assert "<script>" not in picture and "&lt;script&gt;" in picture
    ElementTree.fromstring(picture)
    with pytest.raises(ValueError, match="lat and lon go together"):
        Site(id="x-2", name="x", category=Category.PARK, lat=37.46)
