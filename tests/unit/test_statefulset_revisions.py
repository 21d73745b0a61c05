"""StatefulSetRevisions and ch.revisions: which revision each ordinal runs, fed event by event."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from fakes import DATA

from course_helpers.kube._revisions import revision_frame, revision_numbers, revisions
from course_helpers.kube._watch import WatchEvent
from course_helpers.widgets import Replay, StatefulSetRevisions

NS = "course-statefulsets"
T0 = 1_772_442_000.0  # 2026-03-02T09:00:00Z
Obj = dict[str, Any]


def _owner(kind: str = "StatefulSet", name: str = "web") -> list[Obj]:
    return [{"kind": kind, "name": name, "controller": True, "apiVersion": "apps/v1"}]


def _stamp(seconds: float) -> str:
    return pd.Timestamp(T0 + seconds, unit="s", tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


def sts(
    current: str,
    update: str,
    *,
    updated: int = 0,
    strategy: Obj | None = None,
    replicas: int = 3,
) -> Obj:
    return {
        "metadata": {"name": "web", "namespace": NS, "uid": "sts-web"},
        "spec": {
            "replicas": replicas,
            "updateStrategy": strategy
            or {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
        },
        "status": {
            "currentRevision": f"web-{current}",
            "updateRevision": f"web-{update}",
            "updatedReplicas": updated,
        },
    }


def revision(hashed: str, number: int, owner: str = "web") -> Obj:
    return {
        "metadata": {
            "name": f"{owner}-{hashed}",
            "namespace": NS,
            "uid": f"cr-{owner}-{hashed}",
            "labels": {"app": owner, "controller.kubernetes.io/hash": hashed},
            "ownerReferences": _owner(name=owner),
        },
        "revision": number,
        "data": {"spec": {"template": {"spec": {"containers": [{"image": f"nginx:{hashed}"}]}}}},
    }


def pod(
    ordinal: int,
    hashed: str,
    uid: str,
    created: float,
    *,
    ready: float | None = None,
    deleting: bool = False,
    owner: str = "web",
) -> Obj:
    obj: Obj = {
        "metadata": {
            "name": f"{owner}-{ordinal}",
            "namespace": NS,
            "uid": uid,
            "creationTimestamp": _stamp(created),
            "labels": {
                "app": owner,
                "controller-revision-hash": f"{owner}-{hashed}",
                "apps.kubernetes.io/pod-index": str(ordinal),
            },
            "ownerReferences": _owner(name=owner),
        },
        "spec": {"containers": [{"name": "nginx", "image": f"nginx:{hashed}"}]},
        "status": {"phase": "Running", "conditions": []},
    }
    if ready is not None:
        obj["status"]["conditions"] = [
            {"type": "Ready", "status": "True", "lastTransitionTime": _stamp(ready)}
        ]
    if deleting:
        obj["metadata"]["deletionTimestamp"] = _stamp(created + 100)
    return obj


def ev(kind: str, obj: Obj, at: float, type_: str = "ADDED") -> WatchEvent:
    return WatchEvent(kind, type_, obj, T0 + at)


def three_at_v1() -> list[WatchEvent]:
    return [
        ev("ControllerRevision", revision("aaa", 1), 0),
        ev("StatefulSet", sts("aaa", "aaa", updated=3), 0),
        *(ev("Pod", pod(i, "aaa", f"v1-{i}", 2 * i, ready=2 * i + 1), 2 * i + 1) for i in range(3)),
    ]


def web2_replaced() -> list[WatchEvent]:
    """A template change: revision 2 appears, web-2 is deleted and made again from it."""
    return [
        ev("ControllerRevision", revision("bbb", 2), 10),
        ev("StatefulSet", sts("aaa", "bbb", updated=0), 10, "MODIFIED"),
        ev("Pod", pod(2, "aaa", "v1-2", 4, ready=5, deleting=True), 10, "MODIFIED"),
        ev("Pod", pod(2, "aaa", "v1-2", 4, ready=5, deleting=True), 11, "DELETED"),
        ev("Pod", pod(2, "bbb", "v2-2", 11), 11),
        ev("Pod", pod(2, "bbb", "v2-2", 11, ready=13), 13, "MODIFIED"),
        ev("StatefulSet", sts("aaa", "bbb", updated=1), 13, "MODIFIED"),
    ]


def test_a_rolling_update_shows_the_highest_ordinal_on_the_new_revision_first() -> None:
    revs = StatefulSetRevisions("web", NS, source=three_at_v1() + web2_replaced())
    frame = revs.to_frame()
    assert list(frame["pod"]) == ["web-0", "web-1", "web-2"]
    assert list(frame["revision"]) == [1, 1, 2]
    assert list(frame["role"]) == ["current", "current", "update"]
    assert list(frame["history"]) == ["1", "1", "1 → 2"]
    assert list(frame["state"]) == ["Ready", "Ready", "Ready"]
    assert list(frame["image"]) == ["nginx:aaa", "nginx:aaa", "nginx:bbb"]
    assert revs.header() == (
        "StatefulSet web · RollingUpdate · current revision 1 · update revision 2 · 1/3 updated"
    )


def test_while_the_old_pod_terminates_its_row_says_so() -> None:
    events = three_at_v1() + web2_replaced()[:3]
    frame = StatefulSetRevisions("web", NS, source=events).to_frame()
    assert frame.loc[2, "state"] == "terminating"
    assert frame.loc[2, "revision"] == 1
    assert frame.loc[2, "history"] == "1"


def test_a_new_pod_is_starting_until_ready() -> None:
    events = three_at_v1() + web2_replaced()[:5]
    revs = StatefulSetRevisions("web", NS, source=events)
    assert revs.to_frame().loc[2, ["state", "revision", "history"]].tolist() == [
        "starting",
        2,
        "1 → 2",
    ]
    assert "◐ starting" in revs.table.value


def test_partition_and_on_delete_in_the_header() -> None:
    canary = {"type": "RollingUpdate", "rollingUpdate": {"partition": 2}}
    events = [*three_at_v1(), ev("StatefulSet", sts("aaa", "aaa", strategy=canary), 1, "MODIFIED")]
    assert "RollingUpdate, partition 2 ·" in StatefulSetRevisions("web", NS, source=events).header()
    on_delete = {"type": "OnDelete"}
    events = [*three_at_v1(), ev("StatefulSet", sts("aaa", "aaa", strategy=on_delete), 1)]
    assert "· OnDelete ·" in StatefulSetRevisions("web", NS, source=events).header()


def test_a_pod_seen_before_its_revision_gets_the_number_later() -> None:
    events = [
        ev("StatefulSet", sts("aaa", "aaa"), 0),
        ev("Pod", pod(0, "aaa", "p0", 0, ready=1), 1),
    ]
    revs = StatefulSetRevisions("web", NS, source=events)
    assert revs.to_frame().loc[0, "history"] == "?"
    revs.feed([ev("ControllerRevision", revision("aaa", 1), 2)])
    assert revs.to_frame().loc[0, ["revision", "history"]].tolist() == [1, "1"]


def test_undo_renumbers_the_old_revision_and_keeps_its_colour() -> None:
    events = [
        *three_at_v1(),
        ev("ControllerRevision", revision("bbb", 2), 10),
        ev("StatefulSet", sts("bbb", "bbb", updated=3), 20, "MODIFIED"),
        ev("Pod", pod(2, "aaa", "v1-2", 4, ready=5), 20, "DELETED"),
        ev("Pod", pod(2, "bbb", "v2-2", 21, ready=22), 22),
        # kubectl rollout undo: the revision holding "aaa" gets the next number, 3
        ev("ControllerRevision", revision("aaa", 3), 30, "MODIFIED"),
        ev("StatefulSet", sts("bbb", "aaa"), 30, "MODIFIED"),
        ev("Pod", pod(2, "bbb", "v2-2", 21, ready=22), 31, "DELETED"),
        ev("Pod", pod(2, "aaa", "v3-2", 32, ready=33), 33),
    ]
    revs = StatefulSetRevisions("web", NS, source=events)
    frame = revs.to_frame()
    assert frame.loc[2, ["revision", "role", "history"]].tolist() == [3, "update", "1 → 2 → 3"]
    # web-0 still runs the pod made from "aaa" back when that revision was number 1
    assert frame.loc[0, ["revision", "history"]].tolist() == [3, "1"]
    assert revs._colour["web-aaa"] == 1 and revs._colour["web-bbb"] == 2
    assert "rev 3 · nginx:aaa" in revs.table.value


def test_scaled_to_zero_the_rows_stay_with_their_history() -> None:
    events = three_at_v1() + [
        ev("Pod", pod(i, "aaa", f"v1-{i}", 2 * i, ready=2 * i + 1), 20 + i, "DELETED")
        for i in (2, 1, 0)
    ]
    revs = StatefulSetRevisions("web", NS, source=events)
    frame = revs.to_frame()
    assert list(frame["state"]) == ["gone", "gone", "gone"]
    assert list(frame["history"]) == ["1", "1", "1"]
    assert "✗ gone" in revs.table.value
    assert revs._summary() == "0 pods, 1 revisions"


def test_other_statefulsets_are_left_out() -> None:
    events = [
        *three_at_v1(),
        ev("ControllerRevision", revision("zzz", 1, owner="db"), 0),
        ev("Pod", pod(0, "zzz", "db-0", 0, ready=1, owner="db"), 1),
    ]
    revs = StatefulSetRevisions("web", NS, source=events)
    assert list(revs.to_frame()["pod"]) == ["web-0", "web-1", "web-2"]
    assert revs._summary() == "3 pods, 1 revisions"


def test_the_table_and_its_snapshot() -> None:
    revs = StatefulSetRevisions("web", NS, source=three_at_v1() + web2_replaced())
    html = revs.table.value
    assert "history (oldest first)" in html
    assert "● Ready" in html and "▲ rev 2 · nginx:bbb" in html and "■ rev 1 · nginx:aaa" in html
    assert 'aria-label="revisions of StatefulSet web"' in html
    assert revs.snapshot().html == html
    empty = StatefulSetRevisions("web", NS, source=[])
    assert "StatefulSet web: not seen yet" in empty.table.value
    assert "no pods yet" in empty.table.value


# -- ch.revisions: the same facts read from the cluster's objects -----------------------------


def test_revision_numbers_by_name_and_by_hash() -> None:
    assert revision_numbers([revision("aaa", 1), revision("bbb", 4)]) == {
        "web-aaa": 1,
        "aaa": 1,
        "web-bbb": 4,
        "bbb": 4,
    }


def test_revision_frame_one_row_per_pod_by_ordinal() -> None:
    pods = [
        pod(10, "bbb", "a", 20, ready=22),
        pod(2, "bbb", "b", 11, ready=13),
        pod(0, "aaa", "c", 0),
    ]
    frame = revision_frame(pods, [revision("aaa", 1), revision("bbb", 2)])
    assert list(frame["pod"]) == ["web-0", "web-2", "web-10"]
    assert list(frame["revision"]) == [1, 2, 2]
    assert list(frame["ready"]) == [False, True, True]
    assert frame.loc[1, "created"] == pd.Timestamp(T0 + 11, unit="s", tz="UTC")
    assert frame.loc[1, "ready_at"] == pd.Timestamp(T0 + 13, unit="s", tz="UTC")
    assert pd.isna(frame.loc[0, "ready_at"])
    assert list(frame.sort_values("created")["pod"]) == ["web-0", "web-2", "web-10"]


def test_a_terminating_pod_is_not_ready_and_an_unknown_revision_is_na() -> None:
    frame = revision_frame([pod(0, "zzz", "a", 0, ready=1, deleting=True)], [])
    assert not frame.loc[0, "ready"]
    assert pd.isna(frame.loc[0, "revision"])


def test_revisions_refuses_a_kind_without_revisions() -> None:
    with pytest.raises(ValueError, match="only StatefulSet and DaemonSet keep revisions"):
        revisions("Job", "pi", NS)


# -- a recording of the real controller (kwok, v1.36.1) -----------------------------------------

#: ``kwok-statefulset-updates.jsonl.gz``: ``statefulset-web`` applied; image 1.28 (rolling);
#: partition 2 and image 1.29, then partition 0; OnDelete and image 1.30, web-1 deleted; back
#: to RollingUpdate; the 1.29 template again (what ``rollout undo`` does); scaled to 0; deleted.
RECORDED = DATA / "kwok-statefulset-updates.jsonl.gz"


def test_recorded_updates_replace_pods_highest_ordinal_first_at_each_step() -> None:
    revs = StatefulSetRevisions("web", "course-statefulsets", source=RECORDED)
    made = [
        (life.ordinal, life.number) for life in sorted(revs.lives.values(), key=lambda x: x.seq)
    ]
    assert made == [
        (0, 1), (1, 1), (2, 1),  # created in order
        (2, 2), (1, 2), (0, 2),  # RollingUpdate: highest ordinal first
        (2, 3),  # partition 2: only web-2
        (1, 3), (0, 3),  # partition 0: the rest, highest first
        (1, 4),  # OnDelete: only the pod deleted by hand
        (2, 4), (0, 4),  # back to RollingUpdate: the two left, highest first
        (2, 5), (1, 5), (0, 5),  # the 1.29 template again: revision 3 renumbered 5
    ]  # fmt: skip
    assert list(revs.to_frame()["history"]) == ["1 → 2 → 3 → 4 → 5"] * 3
    assert list(revs.to_frame()["state"]) == ["gone"] * 3
    assert revs.header().startswith("StatefulSet web: deleted")
    # the template rolled back to keeps revision 3's colour
    hashes = {life.number: life.hash for life in revs.lives.values()}
    assert hashes[5] == hashes[3] and revs._colour[hashes[5] or ""] == 3


def test_recorded_canary_shows_the_partition_and_one_updated_pod() -> None:
    revs = StatefulSetRevisions("web", "course-statefulsets", source=[])
    for event in Replay(RECORDED).events:
        revs.feed([event])
        frame = revs.to_frame()
        if list(frame["revision"]) == [2, 2, 3] and set(frame["state"]) == {"Ready"}:
            break
    else:
        pytest.fail("the recording never showed web-2 alone on revision 3")
    assert list(frame["role"]) == ["current", "current", "update"]
    assert "RollingUpdate, partition 2 · current revision 2 · update revision 3" in revs.header()
