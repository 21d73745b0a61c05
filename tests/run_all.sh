#!/usr/bin/env bash
# Every test the project has, in the order that fails fastest.
# Run through `make test`, which puts the project's virtualenv first on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS

# pytest exits 5 when it collected nothing: that is a failure here, never a pass.
run_pytest() {
  local rc=0
  python -m pytest "$@" || rc=$?
  if [ "$rc" -eq 5 ]; then
    echo "pytest collected no tests for: $*" >&2
    return 1
  fi
  return "$rc"
}

echo "== lint and types"
ruff check course_helpers tests benchmarks
ruff format --check course_helpers tests benchmarks
mypy

echo "== unit tests (no cluster)"
run_pytest tests/unit -q

echo "== cluster binaries (downloaded and verified, or built from pinned Go modules, on first run; cached after)"
course-cluster install

echo "== integration tests (embedded cluster)"
export COURSE_CLUSTER=embedded
course-cluster up
run_pytest tests/integration -m integration -q

echo "== notebooks (nbval): cluster and kernel on one CPU, as on Binder; each notebook twice"
# The cluster restarts confined to CPU 0 (its processes inherit the affinity), and
# pytest runs there too, so every kernel it starts does. Nothing a notebook checks may
# depend on the machine's speed. Each notebook runs twice in a row with no reset in
# between, as a learner re-running it does (--keep-duplicates keeps the second run).
course-cluster down
taskset -c 0 course-cluster up
notebooks=()
for nb in notebooks/*.ipynb; do notebooks+=("$nb" "$nb"); done
nbval_start=$SECONDS
(
  taskset -c -p 0 "$BASHPID" >/dev/null  # this subshell, pytest and its kernels: CPU 0
  run_pytest "${notebooks[@]}" --keep-duplicates --nbval-lax \
    --nbval-sanitize-with tests/nbval-sanitize.cfg \
    -p no:randomly -q -o addopts="" -o testpaths=notebooks
)
echo "nbval stage (one CPU, every notebook twice) took $((SECONDS - nbval_start))s"

echo "== browser end-to-end (JupyterLab in headless Chromium)"
bash tests/e2e/setup.sh
# Every notebook at 1024x768 (test_every_notebook.py), the gallery on a wide screen,
# the layout checks' probe, and 00 as `make course` opens it.
e2e_start=$SECONDS
run_pytest tests/e2e -m e2e -q
echo "browser stage took $((SECONDS - e2e_start))s"

echo "all test stages passed in $((SECONDS - start))s"
