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

export COURSE_CLUSTER=embedded
notebooks=()
for nb in notebooks/*.ipynb; do notebooks+=("$nb" "$nb"); done

# The integration tests on an embedded cluster of their own (its own state directory,
# outside the checkout, brought down afterwards), one namespace per test. A subshell, so
# that state directory never becomes the notebooks' (one after the other, on one CPU).
integration() (
  COURSE_STATE_DIR="$(python -c 'from course_helpers.cluster._paths import cache_dir; print(cache_dir())')/state-integration"
  export COURSE_STATE_DIR
  rc=0
  course-cluster up
  run_pytest tests/integration -m integration -q || rc=$?
  course-cluster down || true
  exit "$rc"
)

# The notebooks under nbval, with the course's own cluster and every kernel confined to
# CPU 0, as on Binder: the cluster restarts there (its processes inherit the affinity),
# and pytest runs there too, so every kernel it starts does. Nothing a notebook checks
# may depend on the machine's speed. Each notebook runs twice in a row with no reset in
# between, as a learner re-running it does (--keep-duplicates keeps the second run).
notebooks_on_one_cpu() {
  course-cluster down || return 1
  taskset -c 0 course-cluster up || return 1
  local began=$SECONDS rc=0
  (
    taskset -c -p 0 "$BASHPID" >/dev/null  # this subshell, pytest and its kernels: CPU 0
    run_pytest "${notebooks[@]}" --keep-duplicates --nbval-lax \
      --nbval-sanitize-with tests/nbval-sanitize.cfg \
      -p no:randomly -q -o addopts="" -o testpaths=notebooks
  ) || rc=$?
  echo "nbval stage (one CPU, every notebook twice) took $((SECONDS - began))s"
  return "$rc"
}

if [ "$(nproc)" -ge 2 ]; then
  # Side by side, a CPU each: the integration tests (and the clusters some of them
  # start) on CPU 1, the notebooks on CPU 0. Their output is printed when both end.
  echo "== integration tests (own cluster, CPU 1) beside the notebooks under nbval (CPU 0)"
  integration_log=$(mktemp)
  integration_start=$SECONDS
  (
    taskset -c -p 1 "$BASHPID" >/dev/null
    integration
  ) >"$integration_log" 2>&1 &
  integration_pid=$!
  echo "== notebooks (nbval): cluster and kernel on one CPU, as on Binder; each notebook twice"
  notebooks_rc=0
  notebooks_on_one_cpu || notebooks_rc=$?
  integration_rc=0
  wait "$integration_pid" || integration_rc=$?
  echo "== integration tests (embedded cluster of their own, CPU 1)"
  cat "$integration_log"
  rm -f "$integration_log"
  echo "integration stage took $((SECONDS - integration_start))s (beside the notebooks)"
  if [ "$notebooks_rc" -ne 0 ] || [ "$integration_rc" -ne 0 ]; then
    echo "failed: notebooks (nbval) exit $notebooks_rc, integration tests exit $integration_rc" >&2
    exit 1
  fi
else
  echo "== integration tests (embedded cluster)"
  integration
  echo "== notebooks (nbval): cluster and kernel on one CPU, as on Binder; each notebook twice"
  notebooks_on_one_cpu
fi

echo "== browser end-to-end (JupyterLab in headless Chromium)"
bash tests/e2e/setup.sh
# Every notebook at 1024x768 (test_every_notebook.py), the gallery on a wide screen,
# the layout checks' probe, and 00 as `make course` opens it.
e2e_start=$SECONDS
run_pytest tests/e2e -m e2e -q
echo "browser stage took $((SECONDS - e2e_start))s"

echo "all test stages passed in $((SECONDS - start))s"
