#!/usr/bin/env bash
# Seed corpora of the fuzz targets (./run.sh fuzz): scenarios and bad scenarios, --set lines,
# village tables good and bad, and HDF5 files real and damaged.
#   tests/fuzz/make_seeds.sh RURALSIM_BINARY OUT_DIR
set -euo pipefail
bin=$(realpath "$1")
out=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
rm -rf "$out"
mkdir -p "$out"/{scenario,set_overrides,village_table,h5_reader,h5_reader_isolated,sweep}
cp "$root"/scenarios/*.yaml "$root"/bench/*.yaml "$root"/tests/data/bad/*.yaml "$out/scenario/"
cp "$root"/tests/fuzz/seeds/set_overrides/* "$out/set_overrides/"
cp "$root"/tests/fuzz/seeds/sweep/* "$root"/scenarios/sweeps/*.yaml "$root"/tests/data/sweeps/*.yaml "$out/sweep/"
cp "$root"/tests/data/geo/*.csv "$root"/tests/data/bad/*.csv "$out/village_table/"
for t in scenario set_overrides village_table sweep; do
  if compgen -G "$root/tests/fuzz/regressions/$t/*" >/dev/null; then
    cp "$root"/tests/fuzz/regressions/$t/* "$out/$t/"
  fi
done
# The h5_reader regressions crash or hang the HDF5 library itself: they seed only the isolated
# target (the in-process one would stop on them at once).
cp "$root"/tests/fuzz/regressions/h5_reader/* "$out/h5_reader_isolated/"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/small.yaml" <<'YAML'
name: fuzz_seed
simulation: {seed: 1, years: 1, ticks_per_year: 12}
geography: {counties_per_province: 1, towns_per_county: 1, villages_per_town: 2}
output: {every: 12}
YAML
cat >"$tmp/csv.yaml" <<'YAML'
name: fuzz_csv
simulation: {seed: 1, years: 1, ticks_per_year: 12}
geography: {source: csv, csv: villages.csv}
output: {every: 12}
YAML
printf 'id,town,county,province,x,y,households\n1,1,1,1,0,0,100\n2,1,1,1,1,1,120\n' >"$tmp/villages.csv"
"$bin" run "$tmp/small.yaml" --out "$tmp/real.h5" --quiet >/dev/null
"$bin" run "$tmp/csv.yaml" --out "$tmp/real_csv.h5" --quiet >/dev/null
/usr/bin/python3 - "$tmp" "$out/h5_reader" <<'PY'
import os, shutil, sys
import h5py
import numpy as np
tmp, out = sys.argv[1], sys.argv[2]
for name in ("real.h5", "real_csv.h5"):
    shutil.copy(os.path.join(tmp, name), out)
    data = open(os.path.join(tmp, name), "rb").read()
    for frac in (2, 5, 50):  # truncated copies
        open(os.path.join(out, f"{name}.cut{frac}"), "wb").write(data[:len(data) // frac])
resolved = open(os.path.join(tmp, "small.yaml")).read()
def small(name, fn):
    with h5py.File(os.path.join(out, name), "w", libver="earliest") as f:
        fn(f)
def good_vlen(f):
    f.create_dataset("provenance/scenario_resolved", data=resolved, dtype=h5py.string_dtype())
    for k in ("content_hash", "scenario_dir", "ruralsim_version", "git_commit"):
        f.attrs[k] = "x" * 8
small("min_vlen.h5", good_vlen)
def good_fixed(f):
    f.create_dataset("provenance/scenario_resolved", data=np.bytes_(resolved))
    f.create_dataset("provenance/geography_csv", data=np.bytes_("id,town\n1,2\n"))
    for k in ("content_hash", "scenario_dir", "ruralsim_version", "git_commit"):
        f.attrs[k] = np.bytes_("y" * 12)
small("min_fixed.h5", good_fixed)
def arrays(f):
    f.create_dataset("provenance/scenario_resolved", data=[b"a" * 50, b"b" * 50])
    f.attrs["content_hash"] = np.array([b"z" * 20] * 4)
small("arrays.h5", arrays)
def ints(f):
    f.create_dataset("provenance/scenario_resolved", data=np.arange(10))
    f.attrs["content_hash"] = np.int32(3)
small("ints.h5", ints)
def group(f):
    f.create_group("provenance/scenario_resolved")
small("group.h5", group)
PY
cp "$out"/h5_reader/* "$out/h5_reader_isolated/"
