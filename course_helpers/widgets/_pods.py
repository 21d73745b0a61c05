"""PodsPerNode: one card per node, one chip per pod, live; a grid of node tiles at scale.

Each node's HTML is kept and rebuilt only when one of its pods or the node
itself changes, so a redraw at 500 nodes costs one join, not 500 cards.
"""

from __future__ import annotations

from typing import Any, Unpack

import ipywidgets as widgets
import pandas as pd

from ..kube._objects import (
    completion_index,
    controller_of,
    labels_of,
    match_selector,
    meta,
    name_of,
    natural_key,
    pod_phase,
    pod_ready,
    statefulset_ordinal,
)
from ..kube._revisions import Revisions
from ..kube._watch import Obj, WatchEvent
from ._base import LiveWidget, WatchSpec, WidgetOptions
from ._palette import CARD_CSS, FONT, INK_CSS, PHASES, escape
from ._pods_html import (
    TILE_CSS,
    UNSCHEDULED,
    node_state,
    pod_chip,
    pod_order,
    revision_counts,
    tile,
)

INK = INK_CSS
#: More shown columns (nodes, and "not scheduled") than this: the compact form, a grid of tiles.
COMPACT_ABOVE = 12
ZONE_LABEL = "topology.kubernetes.io/zone"
DISK_LABEL = "course.dev/disk"

FRAME_COLUMNS = [
    "node",
    "namespace",
    "pod",
    "phase",
    "ready",
    "owner_kind",
    "owner_name",
    "ordinal",
    "completion_index",
    "revision",
    "updated",
]


def _parse_owner(owner: str | None) -> tuple[str | None, str] | None:
    if not owner:
        return None
    kind, _, name = owner.rpartition("/")
    return (kind or None), name


class PodsPerNode(LiveWidget):
    """Which pods run on which node, live: nodes as cards, pods as chips.

    Every chip says the pod's phase in words and with a symbol (Pending ◌,
    Running ▶, Succeeded ✓, Failed ✗, Terminating ⊘) as well as by colour, and
    names its owner, with the StatefulSet ordinal or Job completion index; a
    running pod that is not ready yet gets ▷ and a dashed border.
    Nodes that join or leave appear and disappear; pods the scheduler has not
    placed yet sit in a "not scheduled" column.

    With more than 12 columns (a cluster of hundreds of nodes) the board turns
    compact: one small tile per node with its pod count by phase (▶ 1, ◌ 1,
    ...), a red dashed border for a node that is not Ready or gone, and above
    the grid how many nodes have how many pods. Hover a tile for its pods.

    With ``revisions=True`` every pod of a DaemonSet or StatefulSet also shows
    the revision it runs (the number ``kubectl rollout history`` lists, read
    from its ``controller-revision-hash`` label and the ControllerRevisions), as
    a badge "rev 2 · updated" (solid border) or "rev 1 · old" (dashed); a
    tile lists its nodes' revisions (r1 r2), and the status line counts pods
    per revision, so a rolling update shows node by node as it moves.

    Args:
        namespace: only pods of this namespace (None: all namespaces).
        owner: only pods whose controller is this, as ``"Kind/name"`` or ``"name"``.
        selector: only pods matching this label selector, e.g. ``"app=web"``.
        compact: True or False to force the tiles or the cards; None (default)
            chooses by size.
        revisions: show which revision each pod runs (watches ControllerRevisions too).
        **options: ``source``, ``recorder``, ``api_client``, ``loop``,
            ``max_rate``, ``clock``, as for every widget (see ``LiveWidget``);
            ``source="demo.jsonl.gz"`` builds it offline from a recording.

    Example:
        >>> pods = PodsPerNode("demo", owner="DaemonSet/log-agent")  # doctest: +SKIP
        >>> pods  # displays the live cards  # doctest: +SKIP
        >>> pods.to_frame()[["node", "pod", "phase"]]  # doctest: +SKIP
        >>> ch.PodsPerNode(ns, owner="DaemonSet/log-collector", revisions=True)  # doctest: +SKIP

    """

    def __init__(
        self,
        namespace: str | None = None,
        owner: str | None = None,
        selector: str | None = None,
        *,
        compact: bool | None = None,
        revisions: bool = False,
        **options: Unpack[WidgetOptions],
    ) -> None:
        self.owner = _parse_owner(owner)
        self.selector = selector
        self.compact = compact
        self.show_revisions = revisions
        self._revisions = Revisions()
        match_selector({}, selector)  # fail early on a selector we cannot read
        # Pods by the column they show in (node name or UNSCHEDULED), and each column's HTML
        # as last drawn in each form (cards, tiles); a change drops its columns' HTML.
        self._by_node: dict[str, dict[tuple[str, str], Obj]] = {}
        self._html: dict[tuple[str, bool], str] = {}
        self._names: list[str] | None = None  # the columns in order; None: sort again
        self._phase_of: dict[tuple[str, str], str] = {}  # each pod's phase, and their counts
        self._phases: dict[str, int] = {"": 0}
        super().__init__(namespace=namespace, **options)

    def _build(self) -> list[widgets.Widget]:
        self.board = widgets.HTML(layout=widgets.Layout(width="100%"))
        return [self.board]

    def _sync_targets(self) -> list[Any]:
        return [self.status, self.board]

    def _specs(self) -> list[WatchSpec]:
        specs = [
            WatchSpec("Pod", self.namespace, label_selector=self.selector),
            WatchSpec("Node", None),
        ]
        if self.show_revisions:
            specs.append(WatchSpec("ControllerRevision", self.namespace))
        return specs

    def _accepts(self, event: WatchEvent) -> bool:
        if event.kind == "Node":
            return True
        if event.kind == "ControllerRevision":
            return self.show_revisions and (
                not self.namespace or meta(event.object).get("namespace") == self.namespace
            )
        if event.kind != "Pod":
            return False
        pod = event.object
        if self.namespace and meta(pod).get("namespace") != self.namespace:
            return False
        if not match_selector(labels_of(pod), self.selector):
            return False
        if self.owner is not None:
            found = controller_of(pod)
            kind, name = self.owner
            if found is None or found[1] != name or (kind and found[0] != kind):
                return False
        return True

    def _observe(self, event: WatchEvent, old: Obj | None) -> None:
        if event.kind == "ControllerRevision":
            # Rare (one per rollout): index them again and redraw every card.
            self._revisions = Revisions.of(self.objects.get("ControllerRevision", {}).values())
            self._html.clear()
            return
        if event.kind == "Node":
            self._dirty(event.name)
            if old is None or event.type == "DELETED":
                self._names = None
            return
        key = (str(meta(event.object).get("namespace") or ""), event.name)
        before = _column_of(old) if old is not None else None
        if before is not None:
            column = self._by_node.get(before, {})
            column.pop(key, None)
            self._phases[self._phase_of.pop(key, "")] -= 1
            self._dirty(before)
            if not column and self._unlisted(before):
                self._names = None
        if event.type != "DELETED":
            after = _column_of(event.object)
            column = self._by_node.setdefault(after, {})
            if not column and self._unlisted(after):
                self._names = None
            column[key] = event.object
            phase = self._phase_of[key] = pod_phase(event.object)
            self._phases[phase] = self._phases.get(phase, 0) + 1
            self._dirty(after)

    def _unlisted(self, column: str) -> bool:
        """Tell whether a column shows only while it has pods (not a known node)."""
        return column == UNSCHEDULED or ("", column) not in self.objects.get("Node", {})

    def _dirty(self, column: str) -> None:
        self._html.pop((column, False), None)
        self._html.pop((column, True), None)

    def _reset(self) -> None:
        self._by_node.clear()
        self._html.clear()
        self._names = None
        self._phase_of.clear()
        self._phases = {"": 0}
        self._revisions = Revisions()

    # -- what is shown ---------------------------------------------------------------------

    def _column_names(self) -> list[str]:
        """Return the shown columns' names in order.

        Nodes and gone nodes that still have pods, by name; then "not scheduled"
        if a pod waits for the scheduler.
        """
        if self._names is None:
            names = {name for _, name in self.objects.get("Node", {})}
            names |= {n for n, pods in self._by_node.items() if pods and n != UNSCHEDULED}
            order = sorted(names, key=natural_key)
            self._names = order + ([UNSCHEDULED] if self._by_node.get(UNSCHEDULED) else [])
        return self._names

    def columns(self) -> list[tuple[str, list[Obj]]]:
        """Return the shown columns in order: (node name or "not scheduled", its pods)."""
        return [
            (name, sorted(self._by_node.get(name, {}).values(), key=pod_order))
            for name in self._column_names()
        ]

    def is_compact(self) -> bool:
        """Tell whether the board shows tiles (many nodes) rather than cards."""
        if self.compact is not None:
            return self.compact
        return len(self._column_names()) > COMPACT_ABOVE

    def pod_counts(self) -> dict[str, int]:
        """Return the pod count of every shown column, empty nodes included."""
        return {node: len(pods) for node, pods in self.columns()}

    def to_frame(self) -> pd.DataFrame:
        """Return one row per shown pod, in display order (``node`` is None when unscheduled)."""
        rows = []
        for node, pods in self.columns():
            for pod in pods:
                owner = controller_of(pod) or (None, None)
                rows.append(
                    {
                        "node": None if node == UNSCHEDULED else node,
                        "namespace": meta(pod).get("namespace"),
                        "pod": name_of(pod),
                        "phase": pod_phase(pod),
                        "ready": pod_ready(pod),
                        "owner_kind": owner[0],
                        "owner_name": owner[1],
                        "ordinal": statefulset_ordinal(pod),
                        "completion_index": completion_index(pod),
                        **self._revision_columns(pod),
                    }
                )
        frame = pd.DataFrame(rows, columns=FRAME_COLUMNS)
        for column in ("ordinal", "completion_index", "revision"):
            frame[column] = frame[column].astype("Int64")
        frame["updated"] = frame["updated"].astype("boolean")
        return frame

    def _revision_columns(self, pod: Obj) -> dict[str, Any]:
        """Return a pod's revision and whether it is the newest (None without ``revisions``)."""
        if not self.show_revisions:
            return {"revision": None, "updated": None}
        number = self._revisions.revision_of(pod)
        newest = self._revisions.newest_for(pod)
        return {"revision": number, "updated": None if number is None else number == newest}

    def revision_summary(self) -> str:
        """Say how many shown pods run each revision ("" without ``revisions``)."""
        if not self.show_revisions:
            return ""
        pods = [p for column in self._by_node.values() for p in column.values()]
        return revision_counts(pods, self._revisions)

    def _summary(self) -> str:
        pods = len(self.objects.get("Pod", {}))
        detail = ", ".join(f"{n} {p}" for p, n in sorted(self._phases.items()) if p and n)
        nodes = len(self.objects.get("Node", {}))
        text = f"{nodes} nodes · {pods} pods" + (f" ({detail})" if detail else "")
        revisions = self.revision_summary()
        return text + (f" · {revisions}" if revisions else "")

    # -- drawing -------------------------------------------------------------------------

    def _render(self) -> None:
        self.board.value = self._board_html()

    def _snapshot_html(self) -> str:
        return self._board_html()

    def _board_html(self) -> str:
        names = self._column_names()
        compact = self.is_compact()
        nodes = self.objects.get("Node", {})
        revisions = self._revisions if self.show_revisions else None
        parts = []
        for name in names:
            html = self._html.get((name, compact))
            if html is None:
                node = nodes.get(("", name))
                pods = list(self._by_node.get(name, {}).values())
                if compact:  # a count, and the first few names on hover
                    html = tile(name, node, sorted(pods, key=name_of), revisions)
                else:
                    html = self._card(name, node, sorted(pods, key=pod_order))
                self._html[(name, compact)] = html
            parts.append(html)
        if not parts:
            parts = [f'<div style="color:{INK}">no nodes or pods seen yet</div>']
        gap = "4px" if compact else "8px"
        grid = (
            f'<div style="display:flex;flex-wrap:wrap;gap:{gap};align-items:flex-start;'
            f'font-family:{FONT}">{"".join(parts)}</div>'
        )
        return (TILE_CSS + self._compact_head(names) if compact else "") + grid

    def _compact_head(self, names: list[str]) -> str:
        """Say what the tiles show, and how many nodes have how many pods."""
        spread: dict[int, int] = {}
        for name in names:
            if name != UNSCHEDULED:
                n = len(self._by_node.get(name, {}))
                spread[n] = spread.get(n, 0) + 1
        counts = ", ".join(
            f"{nodes} node{'s' if nodes != 1 else ''} with {pods} pod{'s' if pods != 1 else ''}"
            for pods, nodes in sorted(spread.items())
        )
        key = " ".join(f"{st.symbol} {st.label}" for st in PHASES.values() if st.label != "Unknown")
        revisions = self.revision_summary()
        by_revision = (
            f'<div class="course-revisions">pods by revision: {escape(revisions)} '
            "(r1 r2 on a tile: the revisions its pods run)</div>"
            if revisions
            else ""
        )
        return (
            f'<div style="font-family:{FONT};font-size:13px;margin:2px 0 6px 0">'
            f"<b>{escape(counts or 'no nodes')}</b>{by_revision}"
            f'<div style="color:{INK};font-size:12px">one tile per node, pods by phase: '
            f"{escape(key)} · red dashed border: node not Ready or gone</div></div>"
        )

    def _card(self, name: str, node: Obj | None, pods: list[Obj]) -> str:
        if name == UNSCHEDULED:
            head = f"<b>{escape(UNSCHEDULED)}</b>"
            facts = "waiting for the scheduler"
        else:
            head = f"<b>{escape(name)}</b> {node_state(node)}"
            labels = labels_of(node) if node else {}
            facts = " · ".join(
                escape(v) for v in (labels.get(ZONE_LABEL), labels.get(DISK_LABEL)) if v
            )
        count = f"{len(pods)} pod" + ("" if len(pods) == 1 else "s")
        revisions = self._revisions if self.show_revisions else None
        chips = "".join(f'<div style="margin:3px 0">{pod_chip(p, revisions)}</div>' for p in pods)
        border = "border-style:dashed;" if name == UNSCHEDULED or node is None else ""
        return (
            f'<div class="course-node" data-node="{escape(name)}" style="{CARD_CSS};{border}">'
            f"<div>{head}</div>"
            f'<div style="color:{INK};font-size:12px">{facts}</div>'
            f'<div style="color:{INK};font-size:12px;margin-bottom:4px">{count}</div>'
            f"{chips}</div>"
        )


def _column_of(pod: Obj) -> str:
    """Return the column a pod shows in: its node's name, or UNSCHEDULED."""
    node = (pod.get("spec") or {}).get("nodeName")
    return str(node) if node else UNSCHEDULED
