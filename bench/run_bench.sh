#!/usr/bin/env bash
# Benchmarks: wall time and peak memory of whole runs at 1 and 2 threads.
#   bench/run_bench.sh [quick|full]     (default quick: tiny, baseline; full adds the region)
# Prints a Markdown table for docs/performance.md. Times are for this machine only; no test
# asserts a wall-clock time.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-quick}
./run.sh build >/dev/null
bin=build/ruralsim
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
runs=("tiny scenarios/tiny.yaml 1" "tiny scenarios/tiny.yaml 2"
      "baseline scenarios/baseline.yaml 1" "baseline scenarios/baseline.yaml 2")
if [[ $mode == full ]]; then
  runs+=("region bench/region.yaml 1" "region bench/region.yaml 2"
         "region(every=52) bench/region.yaml 2 --set output.every=52")
fi
echo "| run | threads | wall s | peak MiB | villages | stores at end | ticks/s |"
echo "|---|---|---|---|---|---|---|"
for r in "${runs[@]}"; do
  read -r label file threads extra <<<"$r"
  # shellcheck disable=SC2086
  /usr/bin/time -f "%e %M" -o "$out/time" "$bin" run "$file" --threads "$threads" --out "$out/r.h5" \
    --overwrite --quiet $extra >/dev/null
  read -r wall kb <"$out/time"
  read -r villages stores ticks < <(/usr/bin/python3 - "$out/r.h5" <<'PY'
import sys, h5py
f = h5py.File(sys.argv[1], "r")
print(f["geography/villages/village"].shape[0], int(f["national/stores"][-1]), f["national/time"].shape[0])
PY
)
  ticks_total=$(/usr/bin/python3 -c "print(int($ticks))")
  if [[ $extra == *every=52* ]]; then ticks_total=$((ticks_total * 52)); fi
  tps=$(/usr/bin/python3 -c "print(round($ticks_total / max($wall, 1e-3)))")
  printf '| %s | %s | %s | %d | %s | %s | %s |\n' "$label" "$threads" "$wall" $((kb / 1024)) "$villages" "$stores" "$tps"
done
