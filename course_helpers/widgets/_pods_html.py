"""How PodsPerNode draws: a node's card and chips, a node's compact tile, revision badges."""

from __future__ import annotations

from typing import Any

from ..kube._objects import (
    completion_index,
    condition,
    controller_of,
    meta,
    name_of,
    natural_key,
    pod_phase,
    pod_ready,
    statefulset_ordinal,
)
from ..kube._revisions import Revisions
from ..kube._watch import Obj
from ._palette import INK_CSS, OKABE_ITO, Style, chip, escape, marked, phase_style

INK = INK_CSS
UNSCHEDULED = "not scheduled"
#: A tile's width (pixels): about nine tiles a row in a notebook at 1024 pixels.
TILE_PX = 92
#: At most this many pods named in a tile's hover text.
TILE_LISTED = 12
#: Revision badges cycle through these (vermillion and grey stay for failures and deletion).
REVISION_COLOURS = (
    OKABE_ITO["sky_blue"],
    OKABE_ITO["reddish_purple"],
    OKABE_ITO["bluish_green"],
    OKABE_ITO["orange"],
    OKABE_ITO["blue"],
    OKABE_ITO["yellow"],
)

#: The tiles' look, once per board rather than on each of hundreds of tiles.
TILE_CSS = (
    "<style>.course-tile{box-sizing:border-box;"
    f"width:{TILE_PX}px;border:1px solid var(--jp-border-color1, #c0c0c0);border-radius:4px;"
    "padding:2px 4px;background:var(--jp-layout-color1, transparent);"
    "color:var(--jp-ui-font-color1, inherit);font-size:12px;line-height:16px}"
    ".course-tile>div:first-child{white-space:nowrap;overflow:hidden;text-overflow:ellipsis}"
    f".course-tile.course-bad{{border:2px dashed {OKABE_ITO['vermillion']}}}"
    f".course-tile i{{font-style:normal;color:{OKABE_ITO['vermillion']}}}</style>"
)


def revision_colour(number: int) -> str:
    """Return the colour of revision ``number`` (1, 2, 3... cycle through six colours)."""
    return REVISION_COLOURS[(number - 1) % len(REVISION_COLOURS)]


def revision_words(number: int | None, newest: int | None) -> str:
    """Say which revision a pod runs: ``rev 2 · updated``, ``rev 1 · old`` or ``rev ?``."""
    if number is None:
        return "rev ?"
    return f"rev {number} · {'updated' if number == newest else 'old'}"


def revision_badge(number: int | None, newest: int | None) -> str:
    """Return a pod's revision badge: its number and updated/old in words, solid or dashed.

    The colour tells revisions apart at a glance; the words and the border
    (solid: the revision being rolled out, dashed: an older one) say it too.
    """
    colour = revision_colour(number) if number is not None else INK
    border = "solid" if number is not None and number == newest else "dashed"
    data = "" if number is None else f' data-revision="{number}"'
    return (
        f'<span class="course-rev"{data} style="display:inline-block;border:2px {border} '
        f"{colour};border-left-width:8px;border-radius:4px;padding:0 5px;margin-left:2px;"
        f'font-size:11px;color:var(--jp-ui-font-color1, inherit);white-space:nowrap">'
        f"{escape(revision_words(number, newest))}</span>"
    )


def pod_order(pod: Obj) -> tuple[Any, ...]:
    """Sort pods within a card: by owner, then ordinal or completion index, then name."""
    owner = controller_of(pod) or ("", "")
    number = statefulset_ordinal(pod)
    if number is None:
        number = completion_index(pod)
    return (owner, -1 if number is None else number, natural_key(name_of(pod)))


def pod_chip(pod: Obj, revisions: Revisions | None = None) -> str:
    """Return a pod's chip (phase in words, symbol and colour) and its owner line."""
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
    badge = ""
    if revisions is not None and owner:
        badge = " " + revision_badge(revisions.revision_of(pod), revisions.newest_for(pod))
    line = f'<div style="color:{INK};font-size:11px;padding-left:4px">{escape(detail)}{badge}</div>'
    return chip(text, style, title) + (line if detail else "")


def node_state(node: Obj | None) -> str:
    """Return a card's node state: ✓ Ready or ✗ NotReady, ⊘ cordoned, or ✗ node gone."""
    if node is None:
        return marked("✗ node gone", OKABE_ITO["vermillion"])
    ready = condition(node, "Ready")
    marks = []
    if ready is not None and ready.get("status") == "True":
        marks.append(marked("✓ Ready", OKABE_ITO["bluish_green"]))
    else:
        marks.append(marked("✗ NotReady", OKABE_ITO["vermillion"]))
    if (node.get("spec") or {}).get("unschedulable"):
        marks.append(f'<span style="color:{INK}">⊘ cordoned</span>')
    return " ".join(marks)


def tile(name: str, node: Obj | None, pods: list[Obj], revisions: Revisions | None = None) -> str:
    """Return a node's compact tile: its name, its pods counted by phase (and revisions)."""
    phases: dict[str, int] = {}
    for pod in pods:
        phase = pod_phase(pod)
        phases[phase] = phases.get(phase, 0) + 1
    counts = " ".join(
        marked(f"{phase_style(p).symbol}&#8239;{n}", phase_style(p).color, bold=True)
        for p, n in sorted(phases.items())
    )
    if name == UNSCHEDULED:
        state, bad = "waiting for the scheduler", True
    elif node is None:
        state, bad = "node gone", True
    else:
        ready = condition(node, "Ready")
        bad = ready is None or ready.get("status") != "True"
        state = "NotReady" if bad else "Ready"
        if (node.get("spec") or {}).get("unschedulable"):
            state += ", cordoned"

    def described(pod: Obj) -> str:
        if revisions is None:
            return f"{name_of(pod)} ({pod_phase(pod)})"
        words = revision_words(revisions.revision_of(pod), revisions.newest_for(pod))
        return f"{name_of(pod)} ({pod_phase(pod)}, {words})"

    listing = ", ".join(described(p) for p in pods[:TILE_LISTED]) or "no pods"
    if len(pods) > TILE_LISTED:
        listing += f", and {len(pods) - TILE_LISTED} more"
    title = f"{name}: {state}; {len(pods)} pod{'s' if len(pods) != 1 else ''}: {listing}"
    mark, bad_class = ("<i>✗ </i>", " course-bad") if bad else ("", "")
    extra, line = "", ""
    if revisions is not None:
        numbers = sorted({n for p in pods if (n := revisions.revision_of(p)) is not None})
        extra = f' data-revisions="{",".join(map(str, numbers))}"'
        line = "<div>" + (
            " ".join(marked(f"r{n}", revision_colour(n), bold=True) for n in numbers) or "&#8211;"
        )
        line += "</div>"
    return (
        f'<div class="course-node course-tile{bad_class}" data-node="{escape(name)}" '
        f'data-pods="{len(pods)}"{extra} title="{escape(title)}"><div>{mark}{escape(name)}</div>'
        f"<div>{counts or '&#8211;'}</div>{line}</div>"
    )


def revision_counts(pods: list[Obj], revisions: Revisions) -> str:
    """Say how many pods run each revision: ``rev 1 (old): 2 · rev 2 (updated): 98``."""
    counts: dict[tuple[int | None, int | None], int] = {}
    for pod in pods:
        key = (revisions.revision_of(pod), revisions.newest_for(pod))
        counts[key] = counts.get(key, 0) + 1
    parts = []
    for (number, newest), n in sorted(counts.items(), key=lambda kv: (kv[0][0] or 0, kv[1])):
        state = "" if number is None else f" ({'updated' if number == newest else 'old'})"
        parts.append(f"rev {'?' if number is None else number}{state}: {n}")
    return " · ".join(parts)
