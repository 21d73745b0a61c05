"""EventFeed: newest first, repeats folded into one row with a count."""

from __future__ import annotations

import dataclasses
import re

from fakes import DATA, recording

from course_helpers.kube._watch import WatchEvent
from course_helpers.widgets import EventFeed, Replay

NS = "course-statefulsets"
FIXTURE = DATA / "events.jsonl"


def test_newest_first_with_counts() -> None:
    feed = EventFeed(NS, source=FIXTURE)
    frame = feed.to_frame()
    assert frame[["object", "reason", "count", "type"]].values.tolist() == [
        ["StatefulSet/web", "SuccessfulDelete", 1, "Normal"],
        ["Pod/web-2", "FailedScheduling", 3, "Warning"],
        ["Pod/web-0", "Scheduled", 1, "Normal"],
        ["StatefulSet/web", "SuccessfulCreate", 1, "Normal"],
        ["StatefulSet/web", "SuccessfulCreate", 1, "Normal"],
    ]
    warning = frame.iloc[1]
    # two Event objects: one seen twice (series.count 2), one more: 3 in all
    assert warning["message"] == "0/3 nodes are available: 3 Insufficient cpu."
    assert f"{warning['first_seen']:%H:%M:%S.%f}" == "09:00:05.200000"
    assert f"{warning['last_seen']:%H:%M:%S.%f}" == "09:00:07.300000"
    assert warning["source"] == "default-scheduler"
    assert frame.iloc[0]["source"] == "statefulset-controller"
    # the Killing event expired (DELETED) and the other namespace's one is not ours
    assert "Killing" not in set(frame["reason"])
    assert str(feed) == "EventFeed in course-statefulsets: 5 distinct events, 1 warnings"


def test_modified_event_replaces_its_count_instead_of_adding() -> None:
    replay = Replay(FIXTURE)
    feed = EventFeed(NS, source=[])
    replay.seek(feed, 6.3)
    counts = dict(zip(feed.to_frame()["reason"], feed.to_frame()["count"], strict=False))
    assert counts["FailedScheduling"] == 2
    replay.seek(feed, 25.0)
    assert "Killing" in set(feed.to_frame()["reason"])


def test_html_marks_warnings_with_a_symbol() -> None:
    feed = EventFeed(NS, source=FIXTURE)
    html = feed.table.value
    assert "⚠ FailedScheduling</b>" in html
    assert html.count('data-type="Warning"') == 1 and html.count('data-type="Normal"') == 4
    assert html.index("SuccessfulDelete") < html.index("FailedScheduling")
    assert feed.snapshot().html == html


def test_each_message_has_a_line_of_its_own_across_the_table() -> None:
    """Beside four other columns at 1024 pixels, the message column was a word wide."""
    feed = EventFeed(NS, source=FIXTURE)
    html = feed.table.value
    head = html.split("</thead>")[0]
    assert re.findall(r"<th[^>]*>([^<]*)</th>", head) == ["last seen", "reason", "object", "count"]
    assert "width:100%" in html.split("<thead>")[0]
    events = re.findall(r'<tbody class="course-event"[^>]*>(.*?)</tbody>', html)
    assert len(events) == 5
    first, second = events[1].split("</tr>")[:2]
    assert "FailedScheduling" in first and "Pod/web-2" in first and ">3</td>" in first
    message = re.search(r'<td colspan="3" style="([^"]*)">([^<]*)</td>', second)
    assert message is not None
    assert message.group(2) == "0/3 nodes are available: 3 Insufficient cpu."
    assert "nowrap" not in message.group(1), "a message wraps where it must"


def test_filter_by_involved_object_and_row_limit() -> None:
    about_web2 = EventFeed(NS, involved="Pod/web-2", source=FIXTURE)
    assert about_web2.to_frame()["reason"].tolist() == ["FailedScheduling"]
    about_sts = EventFeed(NS, involved="web", source=FIXTURE)
    assert set(about_sts.to_frame()["object"]) == {"StatefulSet/web"}
    short = EventFeed(NS, max_rows=2, source=FIXTURE)
    assert short.to_frame()["reason"].tolist() == ["SuccessfulDelete", "FailedScheduling"]


def test_every_namespace_when_none() -> None:
    feed = EventFeed(None, source=FIXTURE)
    assert "Job/pi" in set(feed.to_frame()["object"])


def test_event_moved_to_another_key_is_counted_once() -> None:
    events = recording("events.jsonl")
    scheduled = next(e for e in events if e.object.get("reason") == "Scheduled")
    moved = {**scheduled.object, "message": "Successfully assigned it elsewhere"}
    feed = EventFeed(NS, source=events)
    feed.feed([dataclasses.replace(scheduled, type="MODIFIED", object=moved)])
    messages = feed.to_frame()["message"].tolist()
    assert "Successfully assigned it elsewhere" in messages
    assert "Successfully assigned course-statefulsets/web-0 to worker-1" not in messages
    assert len(messages) == 5


def _many_events(n: int) -> list[WatchEvent]:
    events = []
    for i in range(n):
        stamp = f"2026-03-02T09:{i // 60:02d}:{i % 60:02d}Z"
        event = {
            "metadata": {"name": f"pod-{i}.1", "namespace": NS, "uid": f"uid-{i}"},
            "involvedObject": {"kind": "Pod", "name": f"pod-{i}"},
            "reason": "Scheduled",
            "message": f"Successfully assigned {NS}/pod-{i} to worker-1",
            "firstTimestamp": stamp,
            "lastTimestamp": stamp,
            "type": "Normal",
        }
        events.append(WatchEvent("Event", "ADDED", event, 1772442000.0 + i))
    return events


def test_a_long_feed_shows_the_newest_rows_whole_and_folds_the_older() -> None:
    """No box of limited height: it cut its last row in half. Older rows fold instead."""
    feed = EventFeed(NS, source=_many_events(45))
    html = feed.table.value
    assert "max-height" not in html and "overflow-y" not in html, "no box that cuts rows"
    shown, _, older = html.partition("<details")
    assert shown.count("<tr>") == 1 + 2 * 12, "the header and the 12 newest events, two lines each"
    assert "<summary" in older and "33 older events</summary>" in older
    assert older.count("<tr>") == 1 + 2 * 33
    times = re.findall(r">(09:\d\d:\d\d)<", html)
    assert times == sorted(times, reverse=True) and times[0] == "09:00:44"
    head = shown.split("</thead>")[0]
    assert head.count("white-space:nowrap") == 4, "no column name wraps"
    message_cells = re.findall(r'<td colspan="3" style="([^"]*)">Successfully', shown)
    assert message_cells and all("nowrap" not in css for css in message_cells), "messages wrap"
    snap = feed.snapshot()
    assert snap.html == html, "the static snapshot is the same"
    assert (
        EventFeed(NS, source=_many_events(45), visible_rows=50).table.value.count("<details") == 0
    )


def test_an_empty_feed_is_not_boxed() -> None:
    assert EventFeed(NS, source=[]).table.value == "<i>no events yet</i>"
