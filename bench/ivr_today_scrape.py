"""Cost of the exact day counts at scrape time (nms_ivr_calls_today, nms_ivr_protection_events_today).

The IVR's collector counts the day's calls and protection events in the event store (SQLite) on every
scrape. This fills a store with a busy year (BUSY_DAY calls and EVENTS_DAY protection events a day,
the retention purge keeps a year) and times the collector: p50/p99 of one scrape's counting, in ms.
Goal: well under the 15 s scrape interval's budget, < 50 ms at p99.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchlib import percentile, publish  # noqa: E402

from ivr.config import DEFAULT_CONFIG, load_config  # noqa: E402
from ivr.events import EventStore, ProtectionEvent  # noqa: E402
from ivr.metrics import IvrTodayCollector, day_start  # noqa: E402
from nms.exposition import generate_text  # noqa: E402

DAYS = 365
BUSY_DAY = 6000  # calls a day: 60 lines, ~5 minutes each, 9 hours, some busy
EVENTS_DAY = 40
SCRAPES = 200


def main() -> None:
    config = load_config(DEFAULT_CONFIG)
    departments = [(d.id, d.name, d.protection) for d in config.departments]
    rng = random.Random(15)
    with tempfile.TemporaryDirectory() as tmp:
        store = EventStore(Path(tmp) / "events.sqlite3", b"bench-key")
        today = day_start(config.hours.timezone)
        fill = time.perf_counter()
        for day in range(DAYS):
            base = today - (DAYS - 1 - day) * 86400
            with store._lock:  # one transaction per day: filling, not what is measured
                store._db.execute("BEGIN")
                store._db.executemany("INSERT INTO calls VALUES (?,?,?)", [
                    (base + rng.uniform(0, 86400), rng.choice(("connected", "connected", "busy", "abandoned")),
                     rng.choice(departments)[0]) for _ in range(BUSY_DAY)])
                store._db.execute("COMMIT")
            for n in range(EVENTS_DAY):
                store.add(ProtectionEvent(f"{day}-{n}", base + rng.uniform(0, 86400), "warning", 1,
                                          rng.choice(departments)[0], 1, "0226272301", "01012345678", None))
        fill = time.perf_counter() - fill
        collector = IvrTodayCollector(store, lambda: config.hours.timezone, lambda: departments)
        timings = []
        for _ in range(SCRAPES):
            start = time.perf_counter()
            text = generate_text(collector)
            timings.append(time.perf_counter() - start)
        assert b"nms_ivr_calls_today" in text
        rows = store._db.execute("SELECT count(*) FROM calls").fetchone()[0]
        size = (Path(tmp) / "events.sqlite3").stat().st_size
    publish("ivr_today_scrape", {
        "calls_stored": rows, "protection_events_stored": DAYS * EVENTS_DAY, "database_mib": round(size / 2**20, 1),
        "fill_seconds": round(fill, 1), "scrapes": SCRAPES,
        "scrape_ms_p50": round(percentile(timings, 50) * 1000, 2),
        "scrape_ms_p99": round(percentile(timings, 99) * 1000, 2), "goal_ms_p99": 50})


if __name__ == "__main__":
    main()
