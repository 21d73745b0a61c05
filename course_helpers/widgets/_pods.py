"""PodsPerNode: one card per node, one chip per pod, live."""

from __future__ import annotations

from typing import Any, Unpack

import ipywidgets as widgets
import pandas as pd

from ..kube._objects import (
    completion_index,
    condition,
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
from ..kube._watch import Obj, WatchEvent
from ._base import LiveWidget, WatchSpec, WidgetOptions
from ._palette import CARD_CSS, FONT, INK, OKABE_ITO, Style, chip, escape, phase_style

UNSCHEDULED = "not scheduled"
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

    Args:
        namespace: only pods of this namespace (None: all namespaces).
        owner: only pods whose controller is this, as ``"Kind/name"`` or ``"name"``.
        selector: only pods matching this label selector, e.g. ``"app=web"``.
        **options: ``source``, ``recorder``, ``api_client``, ``loop``,
            ``max_rate``, ``clock``, as for every widget (see ``LiveWidget``);
            ``source="demo.jsonl.gz"`` builds it offline from a recording.

    Example:
        >>> pods = PodsPerNode("demo", owner="DaemonSet/log-agent")  # doctest: +SKIP
        >>> pods  # displays the live cards  # doctest: +SKIP
        >>> pods.to_frame()[["node", "pod", "phase"]]  # doctest: +SKIP

    """

    def __init__(
        self,
        namespace: str | None = None,
        owner: str | None = None,
        selector: str | None = None,
        **options: Unpack[WidgetOptions],
    ) -> None:
        self.owner = _parse_owner(owner)
        self.selector = selector
        match_selector({}, selector)  # fail early on a selector we cannot read
        super().__init__(namespace=namespace, **options)

    def _build(self) -> list[widgets.Widget]:
        self.board = widgets.HTML(layout=widgets.Layout(width="100%"))
        return [self.board]

    def _sync_targets(self) -> list[Any]:
        return [self.status, self.board]

    def _specs(self) -> list[WatchSpec]:
        return [
            WatchSpec("Pod", self.namespace, label_selector=self.selector),
            WatchSpec("Node", None),
        ]

    def _accepts(self, event: WatchEvent) -> bool:
        if event.kind == "Node":
            return True
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

    # -- what is shown ---------------------------------------------------------------------

    def columns(self) -> list[tuple[str, list[Obj]]]:
        """Return the shown columns in order: (node name or "not scheduled", its pods)."""
        by_node: dict[str, list[Obj]] = {name_of(n): [] for n in self.items("Node")}
        unscheduled: list[Obj] = []
        for pod in self.items("Pod"):
            node = (pod.get("spec") or {}).get("nodeName")
            if node:
                by_node.setdefault(str(node), []).append(pod)
            else:
                unscheduled.append(pod)
        order = sorted(by_node, key=natural_key)
        shown = [(node, sorted(by_node[node], key=_pod_order)) for node in order]
        if unscheduled:
            shown.append((UNSCHEDULED, sorted(unscheduled, key=_pod_order)))
        return shown

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
                    }
                )
        frame = pd.DataFrame(rows, columns=FRAME_COLUMNS)
        for column in ("ordinal", "completion_index"):
            frame[column] = frame[column].astype("Int64")
        return frame

    def _summary(self) -> str:
        pods = self.items("Pod")
        phases: dict[str, int] = {}
        for pod in pods:
            phase = pod_phase(pod)
            phases[phase] = phases.get(phase, 0) + 1
        detail = ", ".join(f"{n} {p}" for p, n in sorted(phases.items()))
        nodes = len(self.objects.get("Node", {}))
        return f"{nodes} nodes · {len(pods)} pods" + (f" ({detail})" if detail else "")

    # -- drawing -------------------------------------------------------------------------

    def _render(self) -> None:
        self.board.value = self._board_html()

    def _snapshot_html(self) -> str:
        return self._board_html()

    def _board_html(self) -> str:
        nodes = {name_of(n): n for n in self.items("Node")}
        cards = [self._card(name, nodes.get(name), pods) for name, pods in self.columns()]
        if not cards:
            cards = [f'<div style="color:{INK}">no nodes or pods seen yet</div>']
        return (
            f'<div style="display:flex;flex-wrap:wrap;gap:8px;align-items:flex-start;'
            f'font-family:{FONT}">{"".join(cards)}</div>'
        )

    def _card(self, name: str, node: Obj | None, pods: list[Obj]) -> str:
        if name == UNSCHEDULED:
            head = f"<b>{escape(UNSCHEDULED)}</b>"
            facts = "waiting for the scheduler"
        else:
            head = f"<b>{escape(name)}</b> {_node_state(node)}"
            labels = labels_of(node) if node else {}
            facts = " · ".join(
                escape(v) for v in (labels.get(ZONE_LABEL), labels.get(DISK_LABEL)) if v
            )
        count = f"{len(pods)} pod" + ("" if len(pods) == 1 else "s")
        chips = "".join(f'<div style="margin:3px 0">{_pod_chip(p)}</div>' for p in pods)
        border = "border-style:dashed;" if name == UNSCHEDULED or node is None else ""
        return (
            f'<div class="course-node" data-node="{escape(name)}" style="{CARD_CSS};{border}">'
            f"<div>{head}</div>"
            f'<div style="color:{INK};font-size:11px">{facts}</div>'
            f'<div style="color:{INK};font-size:11px;margin-bottom:4px">{count}</div>'
            f"{chips}</div>"
        )


def _pod_order(pod: Obj) -> tuple[Any, ...]:
    owner = controller_of(pod) or ("", "")
    number = statefulset_ordinal(pod)
    if number is None:
        number = completion_index(pod)
    return (owner, -1 if number is None else number, natural_key(name_of(pod)))


def _pod_chip(pod: Obj) -> str:
    phase = pod_phase(pod)
    style = phase_style(phase)
    text = f"{name_of(pod)} · {phase}"
    if phase == "Running" and not pod_ready(pod):
        text += " (not ready)"
        style = Style(
            style.label, style.color, style.text_color, "▷", style.marker, border="dashed"
        )
    owner = controller_of(pod)
    detail = ""
    if owner:
        detail = f"{owner[0]}/{owner[1]}"
        ordinal, index = statefulset_ordinal(pod), completion_index(pod)
        if ordinal is not None:
            detail += f" · ordinal {ordinal}"
        if index is not None:
            detail += f" · index {index}"
    title = f"{meta(pod).get('namespace')}/{name_of(pod)}: {phase}"
    line = f'<div style="color:{INK};font-size:10px;padding-left:4px">{escape(detail)}</div>'
    return chip(text, style, title) + (line if detail else "")


def _node_state(node: Obj | None) -> str:
    if node is None:
        return f'<span style="color:{OKABE_ITO["vermillion"]}">✗ node gone</span>'
    ready = condition(node, "Ready")
    marks = []
    if ready is not None and ready.get("status") == "True":
        marks.append(f'<span style="color:{OKABE_ITO["bluish_green"]}">✓ Ready</span>')
    else:
        marks.append(f'<span style="color:{OKABE_ITO["vermillion"]}">✗ NotReady</span>')
    if (node.get("spec") or {}).get("unschedulable"):
        marks.append(f'<span style="color:{INK}">⊘ cordoned</span>')
    return " ".join(marks)
