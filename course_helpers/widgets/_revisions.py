"""StatefulSetRevisions: which revision of the template each ordinal runs, as a rollout moves."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Unpack

import pandas as pd

from ..kube._objects import (
    condition_true,
    controller_of,
    epoch,
    meta,
    name_of,
    statefulset_ordinal,
    uid_of,
)
from ..kube._revisions import images, pod_revision, revision_numbers
from ..kube._watch import Obj, WatchEvent
from ._base import WatchSpec, WidgetOptions
from ._palette import FONT, INK_CSS, OKABE_ITO, Markup, Style, chip, escape, html_table
from ._table_view import HtmlTableView

FRAME_COLUMNS = ["ordinal", "pod", "state", "revision", "role", "image", "history", "hash"]

#: Revision colours, by revision number at first sight (a template rolled back to keeps its own).
_COLOURS = [
    (OKABE_ITO["grey"], "#000"),
    (OKABE_ITO["blue"], "#fff"),
    (OKABE_ITO["orange"], "#000"),
    (OKABE_ITO["bluish_green"], "#000"),
    (OKABE_ITO["reddish_purple"], "#000"),
    (OKABE_ITO["sky_blue"], "#000"),
    (OKABE_ITO["vermillion"], "#000"),
    (OKABE_ITO["yellow"], "#000"),
]
#: A chip's symbol says its role, so colour is never the only cue.
_SYMBOLS = {"update": "▲", "current": "■", "current, update": "●", "": "·"}
_STATES = {"Ready": "● Ready", "starting": "◐ starting", "terminating": "⊘ terminating"}


@dataclass
class _Life:
    """One pod that held an ordinal, and the revision it was made from."""

    ordinal: int
    pod: str
    uid: str
    hash: str | None
    number: int | None
    image: str
    created: float | None
    seq: int = 0
    ready: bool = False
    terminating: bool = False
    deleted: bool = False

    @property
    def state(self) -> str:
        if self.deleted:
            return "gone"
        if self.terminating:
            return "terminating"
        return "Ready" if self.ready else "starting"


class StatefulSetRevisions(HtmlTableView):
    """One row per ordinal: the revision its pod runs, and every revision it ran before.

    A StatefulSet keeps each pod template it has run as a ControllerRevision
    with a growing ``revision`` number; each pod's ``controller-revision-hash``
    label names the one it was made from. The header shows the update strategy
    (RollingUpdate with its ``partition``, or OnDelete) and the StatefulSet's
    ``status.currentRevision`` (■) and ``status.updateRevision`` (▲); each row
    shows an ordinal's pod, its state, its revision and image, and its history:
    the revision of every pod that held the ordinal, oldest first, so a rolling
    update reads as ``1 → 2`` spreading from the highest ordinal down. The
    numbers are those the revisions had when the pod appeared; a rollback
    renumbers an old revision (3 becomes 5) and keeps its colour.

    Args:
        statefulset: the StatefulSet's name.
        namespace: its namespace.
        **options: as for every widget (``source``, ``recorder``, ...; see ``LiveWidget``).

    Example:
        >>> revs = StatefulSetRevisions("web", "demo")  # doctest: +SKIP
        >>> revs.to_frame()[["pod", "revision", "history"]]  # doctest: +SKIP

    """

    def __init__(
        self, statefulset: str, namespace: str | None = None, **options: Unpack[WidgetOptions]
    ) -> None:
        self.statefulset = statefulset
        self.lives: dict[str, _Life] = {}
        self._colour: dict[str, int] = {}
        self._deleted = False
        super().__init__(namespace=namespace, **options)

    def _specs(self) -> list[WatchSpec]:
        return [
            WatchSpec(
                "StatefulSet", self.namespace, field_selector=f"metadata.name={self.statefulset}"
            ),
            WatchSpec("Pod", self.namespace),
            WatchSpec("ControllerRevision", self.namespace),
        ]

    def _accepts(self, event: WatchEvent) -> bool:
        if self.namespace and meta(event.object).get("namespace") != self.namespace:
            return False
        if event.kind == "StatefulSet":
            return event.name == self.statefulset
        if event.kind in ("Pod", "ControllerRevision"):
            return controller_of(event.object) == ("StatefulSet", self.statefulset)
        return False

    def _observe(self, event: WatchEvent, old: Obj | None) -> None:
        if event.kind == "StatefulSet":
            self._deleted = event.type == "DELETED"
            return
        if event.kind == "ControllerRevision":
            numbers = self._numbers()
            for known in self.lives.values():
                if known.number is None and known.hash in numbers:
                    known.number = numbers[known.hash]
            self._paint(numbers)
            return
        if event.kind != "Pod":
            return
        pod = event.object
        ordinal = statefulset_ordinal(pod)
        if ordinal is None:
            return
        uid = uid_of(pod)
        life = self.lives.get(uid)
        if life is None:
            label = pod_revision(pod)
            number = self._numbers().get(label) if label else None
            created = epoch(meta(pod).get("creationTimestamp"))
            life = _Life(ordinal, name_of(pod), uid, label, number, images(pod), created)
            life.seq = len(self.lives)
            self.lives[uid] = life
            self._paint(self._numbers())
        life.ready = condition_true(pod, "Ready")
        life.terminating = bool(meta(pod).get("deletionTimestamp"))
        life.deleted = life.deleted or event.type == "DELETED"

    def _paint(self, numbers: dict[str, int]) -> None:
        """Give each revision seen with a number the colour of that number (first sight wins)."""
        for hashed, number in numbers.items():
            self._colour.setdefault(hashed, number)

    def _reset(self) -> None:
        self.lives.clear()
        self._colour.clear()
        self._deleted = False

    # -- what is shown ---------------------------------------------------------------------

    def _numbers(self) -> dict[str, int]:
        return revision_numbers(self.items("ControllerRevision"))

    @property
    def statefulset_object(self) -> Obj | None:
        """The StatefulSet as last seen."""
        found = self.items("StatefulSet")
        return found[0] if found else None

    def revisions(self) -> tuple[str | None, str | None]:
        """Return the StatefulSet's (currentRevision, updateRevision) names, as last seen."""
        status = (self.statefulset_object or {}).get("status") or {}
        return status.get("currentRevision"), status.get("updateRevision")

    def _role(self, hashed: str | None) -> str:
        current, update = self.revisions()
        roles = [
            r for r, name in (("current", current), ("update", update)) if name and name == hashed
        ]
        return ", ".join(roles)

    def _history(self, ordinal: int) -> list[_Life]:
        mine = [life for life in self.lives.values() if life.ordinal == ordinal]
        return sorted(mine, key=lambda life: (life.created or 0.0, life.seq))

    def to_frame(self) -> pd.DataFrame:
        """Return one row per ordinal: its newest pod, revision, role, image and history.

        ``revision`` is the ControllerRevision's number now; ``history`` lists
        the revision of every pod that held the ordinal (oldest first), as
        numbered when that pod appeared.
        """
        numbers = self._numbers()
        rows = []
        for ordinal in sorted({life.ordinal for life in self.lives.values()}):
            history = self._history(ordinal)
            last = history[-1]
            rows.append(
                {
                    "ordinal": ordinal,
                    "pod": last.pod,
                    "state": last.state,
                    "revision": numbers.get(last.hash) if last.hash else None,
                    "role": self._role(last.hash),
                    "image": last.image,
                    "history": " → ".join(_number(life.number) for life in history),
                    "hash": last.hash,
                }
            )
        frame = pd.DataFrame(rows, columns=FRAME_COLUMNS)
        frame["revision"] = frame["revision"].astype("Int64")
        return frame

    def header(self) -> str:
        """Return the line above the table: strategy, partition, current and update revisions."""
        sts = self.statefulset_object
        if sts is None and self._deleted:
            return (
                f"StatefulSet {self.statefulset}: deleted (its ControllerRevisions went with it; "
                "the numbers below are those the pods had)"
            )
        if sts is None:
            return f"StatefulSet {self.statefulset}: not seen yet"
        spec, status = sts.get("spec") or {}, sts.get("status") or {}
        strategy = spec.get("updateStrategy") or {}
        kind = strategy.get("type") or "RollingUpdate"
        partition = (strategy.get("rollingUpdate") or {}).get("partition")
        how = f"{kind}, partition {partition}" if partition else kind
        numbers = self._numbers()
        current, update = self.revisions()
        return (
            f"StatefulSet {self.statefulset} · {how} · current revision "
            f"{_number(numbers.get(current or ''))} · update revision "
            f"{_number(numbers.get(update or ''))} · {status.get('updatedReplicas') or 0}/"
            f"{spec.get('replicas', 1)} updated"
        )

    def _summary(self) -> str:
        alive = [life for life in self.lives.values() if not life.deleted]
        return f"{len(alive)} pods, {len(self.items('ControllerRevision'))} revisions"

    # -- drawing -------------------------------------------------------------------------

    def _chip(self, number: int | None, hashed: str | None, image: str = "") -> str:
        colour, ink = _COLOURS[self._colour.get(hashed or "", 0) % len(_COLOURS)]
        role = self._role(hashed)
        style = Style(role or "an older revision", colour, ink, _SYMBOLS[role], "circle")
        text = f"rev {_number(number)}" + (f" · {image}" if image else "")
        title = f"{hashed or 'no revision label'}" + (f" ({role} revision)" if role else "")
        return chip(text, style, title)

    def _render(self) -> None:
        self.table.value = self._table_html()

    def _snapshot_html(self) -> str:
        return self._table_html()

    def _table_html(self) -> str:
        numbers = self._numbers()
        rows = []
        for row in self.to_frame().to_dict("records"):
            history = self._history(int(row["ordinal"]))
            trail = " → ".join(self._chip(life.number, life.hash) for life in history)
            now = self._chip(numbers.get(row["hash"] or ""), row["hash"], row["image"])
            rows.append(
                {
                    "pod": row["pod"],
                    "state": _STATES.get(row["state"], "✗ gone"),
                    "revision": Markup(now if row["state"] != "gone" else ""),
                    "role": row["role"],
                    "history (oldest first)": Markup(trail),
                }
            )
        head = f'<div style="font-family:{FONT};font-size:13px;margin:2px 0 4px">'
        head += f"<b>{escape(self.header())}</b></div>"
        legend = (
            f'<div style="font-family:{FONT};font-size:12px;color:{INK_CSS};margin-top:4px">'
            "▲ update revision (status.updateRevision) · ■ current revision "
            "(status.currentRevision) · ● both · numbers: ControllerRevision.revision</div>"
        )
        if not rows:
            return head + "<i>no pods yet</i>" + legend
        columns = ["pod", "state", "revision", "role", "history (oldest first)"]
        table = html_table(rows, columns, wrap=frozenset({"history (oldest first)"}))
        aria = f'role="region" aria-label="revisions of StatefulSet {escape(self.statefulset)}"'
        return f'<div class="course-revisions" {aria}>{head}{table}{legend}</div>'


def _number(value: int | None) -> str:
    return "?" if value is None else str(value)
