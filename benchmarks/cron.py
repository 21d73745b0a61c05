"""CronJob schedules: what computing ticks costs CronJobTimeline on every redraw.

Prints, for a few schedules, the cost of one redraw's ticks (the fired ones in the
3-hour history window, and the next three) in ``CronJobTimeline.ticks``:

* baseline: the whole window computed afresh (``CronSchedule.ticks`` over 3 hours);
* the widget: one second later, extending the ticks it computed at the previous redraw.

A live timeline redraws every second (``tick_seconds``) and on every batch of events, so
the widget's figure is the CPU one open timeline takes per redraw. Offline (no cluster).

Run: ``.venv/bin/python benchmarks/cron.py``. Target: < 5 ms per redraw for every schedule.
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta

from course_helpers.kube._cron import CronSchedule
from course_helpers.kube._watch import WatchEvent
from course_helpers.widgets import CronJobTimeline
from course_helpers.widgets._cronjobs import HISTORY_WINDOW

SCHEDULES = ["* * * * *", "*/2 * * * *", "30 2 * * *", "0 9-17 * * MON-FRI", "@every 90s"]
NOW = datetime(2026, 3, 2, 12, 0, 0, 500000, tzinfo=UTC)
ROUNDS = 20


def _event(schedule: str, at: datetime) -> WatchEvent:
    created = (NOW - HISTORY_WINDOW).strftime("%Y-%m-%dT%H:%M:%SZ")
    obj = {
        "metadata": {"name": "bench", "namespace": "b", "uid": "u", "creationTimestamp": created},
        "spec": {"schedule": schedule, "jobTemplate": {"spec": {}}},
        "status": {},
    }
    return WatchEvent("CronJob", "MODIFIED", obj, at.timestamp())


def _ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:7.2f} ms"


def main() -> None:
    """Print the baseline and the widget's cost per redraw for each schedule."""
    print(f"{'schedule':<22} {'fired':>5}  {'baseline (afresh)':>17}  {'widget (extended)':>17}")
    for schedule in SCHEDULES:
        parsed = CronSchedule.parse(schedule)
        begin = NOW - HISTORY_WINDOW
        fresh = []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            fired = parsed.ticks(begin, NOW, tz=UTC, anchor=begin)
            parsed.ticks(NOW, count=3, tz=UTC, anchor=begin)
            fresh.append(time.perf_counter() - started)
        timeline = CronJobTimeline("bench", "b", source=[_event(schedule, NOW)], cluster_zone="UTC")
        extended = []
        for second in range(1, ROUNDS + 1):
            timeline.now = (NOW + timedelta(seconds=second)).timestamp()
            started = time.perf_counter()
            timeline.ticks()
            extended.append(time.perf_counter() - started)
        print(f"{schedule:<22} {len(fired):>5}  {_ms(fresh):>17}  {_ms(extended):>17}")
        timeline.close()


if __name__ == "__main__":
    main()
