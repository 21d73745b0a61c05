"""StatefulSet updates on the embedded cluster: reverse order, partition, OnDelete, undo, deletion.

What 04's update sections show, held against the real controller: the order
comes from the API server's own timestamps (each new pod's creationTimestamp and
its predecessor's Ready time), never from when a test noticed.
"""

from __future__ import annotations

import itertools
from typing import Any

import pandas as pd
import pytest
from kubectl_support import kubectl_run
from test_widgets_live import _converge

import course_helpers as ch

pytestmark = pytest.mark.integration
Obj = dict[str, Any]


def _web(namespace: str, strategy: Obj | None = None) -> None:
    ch.apply("statefulset-web", namespace)
    if strategy is not None:
        ch.patch("StatefulSet", "web", namespace, {"spec": {"updateStrategy": strategy}})
    # kubectl rollout status refuses OnDelete: wait for the three pods instead
    ch.blocking.wait_for("Pod", None, namespace, selector="app=web", count=3, timeout=90)


def _image(namespace: str, image: str) -> None:
    change = {"spec": {"template": {"spec": {"containers": [{"name": "nginx", "image": image}]}}}}
    # a strategic merge would match containers by name; a merge patch replaces the list
    container = ch.get("StatefulSet", "web", namespace)["spec"]["template"]["spec"]["containers"][0]
    change["spec"]["template"]["spec"]["containers"][0] = {**container, "image": image}
    ch.patch("StatefulSet", "web", namespace, change)


def _observed(namespace: str) -> None:
    """Wait until the controller has seen the StatefulSet's latest generation."""
    generation = ch.get("StatefulSet", "web", namespace)["metadata"]["generation"]
    ch.blocking.wait_for(
        "StatefulSet", "web", namespace, f"jsonpath={{.status.observedGeneration}}={generation}"
    )


def _by_pod(frame: pd.DataFrame) -> dict[str, int]:
    return {row.pod: int(row.revision) for row in frame.itertuples()}


def test_rolling_update_replaces_the_highest_ordinal_first_each_after_the_next_is_ready(
    namespace: str,
) -> None:
    _web(namespace)
    _image(namespace, "nginx:1.28")
    ch.blocking.rollout_status("StatefulSet", "web", namespace, timeout=90)
    table = ch.revisions("StatefulSet", "web", namespace)
    assert _by_pod(table) == {"web-0": 2, "web-1": 2, "web-2": 2}
    assert set(table["image"]) == {"nginx:1.28"}
    assert table.attrs == {"current": 2, "update": 2}
    rows = list(table.sort_values("created").itertuples())
    assert [r.pod for r in rows] == ["web-2", "web-1", "web-0"]
    # strictly: a pod goes (>= 0.8 s on kwok) only after the one above is Ready (>= 1 s)
    assert rows[0].created < rows[1].created < rows[2].created
    for earlier, later in itertools.pairwise(rows):
        assert later.created >= earlier.ready_at


def test_partition_updates_only_ordinals_at_or_above_it(namespace: str) -> None:
    _web(namespace)
    ch.patch(
        "StatefulSet",
        "web",
        namespace,
        {"spec": {"updateStrategy": {"rollingUpdate": {"partition": 2}}}},
    )
    _image(namespace, "nginx:1.29")
    ch.blocking.rollout_status("StatefulSet", "web", namespace, timeout=90)
    canary = ch.revisions("StatefulSet", "web", namespace)
    assert _by_pod(canary) == {"web-0": 1, "web-1": 1, "web-2": 2}
    assert canary.attrs == {"current": 1, "update": 2}
    # below the partition a deleted pod comes back on the current revision, not the update one
    ch.blocking.replace_pod("web-0", namespace)
    assert _by_pod(ch.revisions("StatefulSet", "web", namespace))["web-0"] == 1
    ch.patch(
        "StatefulSet",
        "web",
        namespace,
        {"spec": {"updateStrategy": {"rollingUpdate": {"partition": 0}}}},
    )
    ch.blocking.rollout_status("StatefulSet", "web", namespace, timeout=90)
    done = ch.revisions("StatefulSet", "web", namespace)
    assert _by_pod(done) == {"web-0": 2, "web-1": 2, "web-2": 2}
    rest = done[done.pod != "web-2"].sort_values("created")
    assert list(rest.pod) == ["web-1", "web-0"]


def test_on_delete_changes_nothing_until_a_pod_is_deleted(namespace: str) -> None:
    _web(namespace, {"type": "OnDelete", "rollingUpdate": None})
    _image(namespace, "nginx:1.30")
    _observed(namespace)
    held = ch.revisions("StatefulSet", "web", namespace)
    assert _by_pod(held) == {"web-0": 1, "web-1": 1, "web-2": 1}
    assert held["ready"].all(), "OnDelete: the controller must not delete any pod"
    assert held.attrs == {"current": 1, "update": 2}
    with pytest.raises(ch.WaitFailed, match="RollingUpdate"):
        ch.blocking.rollout_status("StatefulSet", "web", namespace, timeout=10)
    ch.blocking.replace_pod("web-1", namespace)
    after = ch.revisions("StatefulSet", "web", namespace)
    assert _by_pod(after) == {"web-0": 1, "web-1": 2, "web-2": 1}
    assert list(after.image) == ["nginx:1.27", "nginx:1.30", "nginx:1.27"]


def test_rollout_undo_gives_the_old_revision_the_next_number(namespace: str) -> None:
    _web(namespace)
    _image(namespace, "nginx:1.28")
    ch.blocking.rollout_status("StatefulSet", "web", namespace, timeout=90)
    before = ch.revision_history("StatefulSet", "web", namespace)
    assert list(before.revision) == [1, 2]
    kubectl_run("rollout", "undo", "statefulset/web", "-n", namespace)
    ch.blocking.rollout_status("StatefulSet", "web", namespace, timeout=90)
    after = ch.revision_history("StatefulSet", "web", namespace)
    assert list(after.revision) == [2, 3]
    assert list(after.name[after.revision == 3]) == list(before.name[before.revision == 1])
    assert list(after.image) == ["nginx:1.28", "nginx:1.27"]
    assert _by_pod(ch.revisions("StatefulSet", "web", namespace)) == {
        "web-0": 3,
        "web-1": 3,
        "web-2": 3,
    }
    history = kubectl_run("rollout", "history", "statefulset/web", "-n", namespace)
    assert [line.split()[0] for line in history.splitlines()[2:] if line.strip()] == ["2", "3"]


def test_scaled_pods_are_deleted_by_the_controller_the_rest_by_the_garbage_collector(
    namespace: str,
) -> None:
    _web(namespace)
    down = ch.blocking.scale("StatefulSet", "web", namespace, 1)
    assert down.gone == ["web-2", "web-1"]
    ch.delete("StatefulSet", "web", namespace)
    ch.blocking.wait_for("Pod", "web-0", namespace, "delete", timeout=60)
    events = ch.list_objects("Event", namespace, field_selector="reason=SuccessfulDelete")
    messages = {e["message"] for e in events}
    said = {
        p
        for p in ("web-0", "web-1", "web-2")
        if f"Delete Pod {p} in StatefulSet web successful" in messages
    }
    # the StatefulSet controller records each pod it deletes; the garbage collector records none
    assert said == {"web-1", "web-2"}
    claims = [c["metadata"]["name"] for c in ch.list_objects("pvc", namespace)]
    assert claims == ["data-web-0", "data-web-1", "data-web-2"]


def test_the_revisions_view_follows_a_rolling_update_live(namespace: str) -> None:
    _web(namespace)
    revs = ch.StatefulSetRevisions("web", namespace)
    try:
        assert revs.wait_synced(15)
        assert list(revs.to_frame()["history"]) == ["1", "1", "1"]
        _image(namespace, "nginx:1.28")
        ch.blocking.rollout_status("StatefulSet", "web", namespace, timeout=90)

        def shown() -> bool:
            frame = revs.to_frame()
            return list(frame["history"]) == ["1 → 2"] * 3 and set(frame["state"]) == {"Ready"}

        _converge(revs, shown, "every ordinal on revision 2 after revision 1")
        frame = revs.to_frame()
        assert list(frame["role"]) == ["current, update"] * 3
        assert list(frame["image"]) == ["nginx:1.28"] * 3
        assert revs.header().endswith("current revision 2 · update revision 2 · 3/3 updated")
    finally:
        revs.close()
