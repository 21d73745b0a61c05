"""Run every course notebook from the top and report how long each takes.

Each notebook must finish in under three minutes on the embedded cluster. Some
of that time no course code can save: a CronJob fires only at minute boundaries,
the pod garbage collector waits 40-60 s before removing the pods of a deleted
node, a Job's simulated pods run for their set time. Cells that spend such time
are tagged ``unavoidable-wait``; this script sums how long they took, so the
report shows what is waiting on the cluster and what is overhead.

    COURSE_CLUSTER=embedded .venv/bin/python benchmarks/notebooks.py
    COURSE_CLUSTER=embedded .venv/bin/python benchmarks/notebooks.py notebooks/02-jobs.ipynb
    COURSE_CLUSTER=embedded .venv/bin/python benchmarks/notebooks.py --store

``--store`` writes the outputs of the cells marked ``# NBVAL_CHECK_OUTPUT`` back
into the notebooks (the outputs nbval compares against) and clears every other
output, which is how the notebooks are committed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
BUDGET_SECONDS = 180.0
WAIT_TAG = "unavoidable-wait"
CHECK_MARK = "# NBVAL_CHECK_OUTPUT"


def _seconds(cell: Any) -> float:
    timing = cell.get("metadata", {}).get("execution", {})
    start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not (start and end):
        return 0.0
    parse = datetime.fromisoformat
    return (parse(end.replace("Z", "+00:00")) - parse(start.replace("Z", "+00:00"))).total_seconds()


def run(path: Path, timeout: float) -> tuple[Any, float, float]:
    """Execute ``path``; return (executed notebook, wall seconds, seconds in tagged waits)."""
    nb = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]
    client = NotebookClient(
        nb,
        timeout=int(timeout),
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=True,
        store_widget_state=False,
    )
    start = time.monotonic()
    client.execute()
    wall = time.monotonic() - start
    waits = sum(_seconds(c) for c in nb.cells if WAIT_TAG in c.get("metadata", {}).get("tags", []))
    return nb, wall, waits


def _slow_cells(nb: Any, threshold: float | None) -> list[str]:
    """Return a line for every cell that took ``threshold`` seconds or more."""
    if threshold is None:
        return []
    lines = []
    for number, cell in enumerate(nb.cells):
        if _seconds(cell) >= threshold:
            last = cell.source.strip().splitlines()[-1][:70]
            lines.append(f"    cell {number:>2}: {_seconds(cell):5.1f}s  {last}")
    return lines


def store_checked_outputs(executed: Any, path: Path) -> int:
    """Keep the outputs of ``# NBVAL_CHECK_OUTPUT`` cells, clear the rest; return how many kept."""
    kept = 0
    for cell in executed.cells:
        cell.get("metadata", {}).pop("execution", None)
        if cell.cell_type != "code":
            continue
        if CHECK_MARK in cell.source:
            kept += 1
        else:
            cell.outputs, cell.execution_count = [], None
    executed.metadata.pop("widgets", None)
    nbformat.validate(executed)
    nbformat.write(executed, path)  # type: ignore[no-untyped-call]
    return kept


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every notebook")
    parser.add_argument("--store", action="store_true", help="write checked outputs back")
    parser.add_argument("--timeout", type=float, default=600, help="per-cell timeout (s)")
    parser.add_argument("--slow", type=float, default=None, help="also list cells slower than this")
    args = parser.parse_args(argv)
    os.environ.setdefault("COURSE_CLUSTER", "embedded")
    paths = args.notebooks or sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))
    rows = []
    suite = time.monotonic()
    for path in paths:
        executed, wall, waits = run(path, args.timeout)
        slow = _slow_cells(executed, args.slow)
        note = ""
        if args.store:
            note = f"  ({store_checked_outputs(executed, path)} checked outputs stored)"
        verdict = "ok" if wall <= BUDGET_SECONDS else f"OVER {BUDGET_SECONDS:.0f}s"
        print(f"{path.name:<36} {wall:6.1f}s  waits {waits:6.1f}s  {verdict}{note}", flush=True)
        for line in slow:
            print(line, flush=True)
        rows.append((wall, waits, wall <= BUDGET_SECONDS))
    total = time.monotonic() - suite
    waited = sum(w for _, w, _ in rows)
    print(f"{'suite':<36} {total:6.1f}s  waits {waited:6.1f}s  (overhead {total - waited:.1f}s)")
    return 0 if all(ok for *_, ok in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
