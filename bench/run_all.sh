#!/usr/bin/env bash
# Run the four vgc benchmarks in sequence. Each prints a table and PASS/MISS against its target;
# the script fails only if a benchmark errors (a missed target is not an error).
# Usage: bench/run_all.sh [python]     (default: python on PATH; extra args are not forwarded)
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${1:-python}"
status=0
for b in compile_throughput check_startup svi_step fit_loop; do
    echo "=================================================================== bench/$b.py"
    rc=0
    "$PY" "bench/$b.py" || rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "bench/$b.py: ERROR (exit $rc)" >&2
        status=1
    fi
    echo
done
echo "date: $(date -u +%Y-%m-%dT%H:%MZ); nproc: $(nproc); $("$PY" --version 2>&1); load: $(cut -d' ' -f1-3 /proc/loadavg)"
exit $status
