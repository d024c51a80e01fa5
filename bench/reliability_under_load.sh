#!/usr/bin/env bash
# The slow process-level tests (signals, kills, resumes), N runs in a row, while other
# CPU-heavy processes keep the cores busy: they must pass every time (issue 12, item 6).
# Not a benchmark: it measures nothing but pass/fail.
#
#   bench/reliability_under_load.sh [N] [NOTEBOOK ...]
#
# N (default 5) runs of `nbdev_test --flags slow --path NOTEBOOK` for each notebook
# (default: nbs/09_reliability.ipynb nbs/05c_train.ipynb). HOGS (default 2) busy loops
# run meanwhile; they are killed on exit, also on Ctrl-C. Run it from anywhere, with the
# project's venv active. Exit status: 0 if every run passed.
set -u
cd "$(dirname "$0")/.."
N=${1:-5}; shift $(( $# > 0 ? 1 : 0 ))
NOTEBOOKS=("$@")
[ ${#NOTEBOOKS[@]} -gt 0 ] || NOTEBOOKS=(nbs/09_reliability.ipynb nbs/05c_train.ipynb)
HOGS=${HOGS:-2}
LOGS=$(mktemp -d)

hogs=()
stop_hogs() { for p in "${hogs[@]}"; do kill "$p" 2>/dev/null; done; }
trap stop_hogs EXIT
trap 'exit 130' INT TERM
for _ in $(seq "$HOGS"); do python3 -c 'while True: pass' & hogs+=($!); done
echo "$HOGS CPU hog(s) running (pids ${hogs[*]}) on $(nproc) core(s); logs in $LOGS"

passed=0
for i in $(seq "$N"); do
  ok=1; t0=$SECONDS
  for nb in "${NOTEBOOKS[@]}"; do
    log="$LOGS/run$i-$(basename "$nb" .ipynb).log"
    if ! nbdev_test --flags slow --path "$nb" >"$log" 2>&1; then
      ok=0; echo "run $i: FAILED $nb (log: $log)"; tail -n 20 "$log"
    fi
  done
  if [ $ok = 1 ]; then passed=$((passed + 1)); echo "run $i: passed ($((SECONDS - t0)) s)"; fi
done
echo "reliability under load: $passed/$N runs passed (${NOTEBOOKS[*]}; $HOGS CPU hogs)"
[ "$passed" = "$N" ]
