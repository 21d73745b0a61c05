"""Recorder and Replay: capture a demo's events, save them, play them back."""

from __future__ import annotations

import asyncio
import gzip
import json
import time
from pathlib import Path

import pytest
from fakes import DATA, ScriptedSource, recording

from course_helpers.kube._watch import Watcher
from course_helpers.widgets import (
    CronJobTimeline,
    EventFeed,
    JobProgress,
    PodsPerNode,
    Recorder,
    Replay,
    StatefulSetOrder,
)
from course_helpers.widgets._recording import load_events, save_events


def test_record_a_live_widget_save_and_rebuild_it_offline(tmp_path: Path) -> None:
    source = ScriptedSource.from_file()
    rec = Recorder()
    live = PodsPerNode("course-statefulsets", source=source, recorder=rec)
    try:
        assert source.exhausted.wait(5)
        live.flush()
    finally:
        live.stop()
    assert len(rec) == 13
    path = rec.save(tmp_path / "demo.jsonl.gz")
    with gzip.open(path, "rt") as lines:
        header = json.loads(next(lines))
        first = json.loads(next(lines))
    assert header == {"format": "k8s-workloads-course/watch-recording", "version": 1}
    assert (first["kind"], first["type"], first["fromList"]) == ("Pod", "ADDED", True)

    offline = PodsPerNode.from_recording(path, "course-statefulsets")
    assert offline.offline
    assert offline.to_frame().equals(live.to_frame())
    assert list(offline.to_frame()["pod"]) == ["web-0", "web-3", "web-4"]


def test_recorder_keeps_one_copy_of_events_seen_by_several_widgets() -> None:
    events = recording("statefulset.jsonl")
    rec = Recorder()
    order = StatefulSetOrder("web", "course-statefulsets", source=[])
    pods = PodsPerNode("course-statefulsets", source=[])
    rec.attach(order)
    rec.attach(pods)
    for event in events:
        order._on_watch_event(event)
        pods._on_watch_event(event)
    assert len(rec) == len(events)
    assert [e.timestamp for e in rec.events] == sorted(e.timestamp for e in events)
    rec.detach(pods)
    rec.clear()
    pods._on_watch_event(events[0])
    assert len(rec) == 0


def test_attaching_later_records_what_the_widget_already_shows() -> None:
    pods = PodsPerNode("course-daemonsets", source=DATA / "daemonset.jsonl")
    rec = Recorder(pods)
    assert len(rec) == 10  # 3 nodes and 7 pods, as ADDED
    assert {e.type for e in rec.events} == {"ADDED"}
    again = PodsPerNode("course-daemonsets", source=rec)
    assert again.to_frame().equals(pods.to_frame())


def test_recorder_on_a_watcher() -> None:
    source = ScriptedSource.from_file()
    watcher = Watcher("Pod", "course-statefulsets", source=source, backoff=(0, 0))
    rec = Recorder(watcher)
    watcher.start()
    assert source.exhausted.wait(5)
    watcher.stop()
    assert len(rec) == 13
    rec.detach(watcher)


def test_seek_goes_back_and_forth() -> None:
    replay = Replay(DATA / "statefulset.jsonl")
    assert replay.duration == pytest.approx(23.15)
    order = StatefulSetOrder("web", "course-statefulsets", source=[])
    replay.seek(order, 21.5)
    assert len(order.to_frame()) == 3
    replay.seek(order, 3.0)
    assert list(order.to_frame()["pod"]) == ["web-0", "web-1"]
    assert replay.seek(order, None) == len(replay)


def test_play_instantly_and_at_speed_without_a_loop() -> None:
    replay = Replay(DATA / "daemonset.jsonl")
    pods = PodsPerNode("course-daemonsets", source=[])
    playback = replay.play(pods, speed=float("inf"))
    assert playback.done
    assert pods.pod_counts() == {"worker-1": 2, "worker-3": 3, "worker-4": 1, "not scheduled": 1}

    started = time.monotonic()
    playback = replay.play(pods, speed=50.0, start=10.0, end=21.2)
    elapsed = time.monotonic() - started
    assert playback.done
    assert playback.position == pytest.approx(21.0)
    # 11 s of recording at 50x, drawn in frames at most 0.1 s apart: at least 0.12 s
    assert 0.1 <= elapsed < 2.0
    assert pods.pod_counts()["worker-2"] == 0  # the node has not gone yet at 21.2 s


def test_play_on_the_event_loop_returns_at_once_and_can_be_awaited() -> None:
    replay = Replay(DATA / "jobs.jsonl")
    progress = JobProgress(["render-frames"], "course-jobs", source=[])
    seen_positions: list[float] = []

    async def main() -> None:
        playback = replay.play(progress, speed=100.0, frame=0.02)
        assert not playback.done
        assert len(progress.to_frame()) == 1  # only what happened at the very start
        while not playback.done:
            seen_positions.append(playback.position)
            await asyncio.sleep(0.02)
        await playback

    asyncio.run(main())
    assert progress.to_frame()["succeeded"].tolist()[-1] == 6
    assert len(set(seen_positions)) > 2, "the widget was updated step by step"


def test_cancel_a_playback() -> None:
    replay = Replay(DATA / "jobs.jsonl")
    progress = JobProgress(["broken-task"], "course-jobs", source=[])

    async def main() -> None:
        playback = replay.play(progress, speed=1.0)
        await asyncio.sleep(0.05)
        playback.cancel()
        await asyncio.sleep(0)
        assert playback.done

    asyncio.run(main())
    assert len(progress.to_frame()) <= 1


def test_frames_group_close_events() -> None:
    replay = Replay(DATA / "statefulset.jsonl")
    frames = replay._batches(0, len(replay), 0.0, 1.0, 0.5)
    assert sum(len(f.events) for f in frames) == len(replay)
    assert len(frames) < len(replay)
    assert all(f.delay >= 0.5 for f in frames[1:])
    instant = replay._batches(0, len(replay), 0.0, float("inf"), 0.1)
    assert len(instant) == 1


def test_every_widget_can_be_built_from_a_recording() -> None:
    widgets = [
        PodsPerNode.from_recording(DATA / "daemonset.jsonl", "course-daemonsets"),
        JobProgress.from_recording(DATA / "jobs.jsonl", ["render-frames"], "course-jobs"),
        CronJobTimeline.from_recording(DATA / "cronjob.jsonl", "report", "course-cronjobs"),
        StatefulSetOrder.from_recording(DATA / "statefulset.jsonl", "web", "course-statefulsets"),
        EventFeed.from_recording(DATA / "events.jsonl", "course-statefulsets"),
    ]
    for widget in widgets:
        assert widget.offline
        assert not widget.to_frame().empty
        assert widget.watchers == []
        widget.close()


def test_bad_recordings_are_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.jsonl"
    other.write_text('{"format": "something-else", "version": 1}\n')
    with pytest.raises(ValueError, match="not a recording"):
        load_events(other)
    newer = tmp_path / "newer.jsonl"
    newer.write_text('{"format": "k8s-workloads-course/watch-recording", "version": 99}\n')
    with pytest.raises(ValueError, match="not a recording"):
        load_events(newer)
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"t": 1, "kind": "Pod", "type": "ADDED"}\n')
    with pytest.raises(ValueError, match=r"broken\.jsonl:1"):
        load_events(broken)
    typo = tmp_path / "typo.jsonl"
    typo.write_text('{"t": 1, "kind": "Pod", "type": "CHANGED", "object": {}}\n')
    with pytest.raises(ValueError, match="unknown event type"):
        load_events(typo)


def test_save_and_load_round_trip_plain_text(tmp_path: Path) -> None:
    events = recording("events.jsonl")
    path = save_events(events, tmp_path / "sub" / "events.jsonl")
    assert load_events(path) == events
