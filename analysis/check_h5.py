#!/usr/bin/python3
"""Check that a ruralsim output file is complete and opens with h5py and xarray (h5netcdf).

usage: check_h5.py [--no-hash] FILE.h5

Checks
  * the file opens with h5py;
  * the groups national, province and county (and village_annual if present) open with
    xarray.open_dataset(FILE, group=..., engine="h5netcdf") with the expected dimensions
    (time), (time, province), (time, county), (year, village) and their coordinates;
  * every dataset in those groups has `units` and `description` attributes;
  * each store and livestreamer snapshot /snapshots/<year>/{stores,livestreamers} opens with
    xarray with the one dimension store / livestreamer, its datasets have `units` and
    `description`, and the year holds closed_store_sales;
  * the root attributes content_hash, git_commit, seed and ruralsim_version exist;
  * unless --no-hash: the content hash recomputed from the datasets equals the stored one
    (SHA-256 over every dataset outside /provenance in path order: path, NUL, data in C order,
    numbers little-endian, strings each followed by NUL; see sim/io/recorder.cpp).

Prints one OK line and exits 0, or lists the problems and exits 1.
"""
import hashlib
import sys

import h5py
import numpy as np
import xarray as xr

GROUP_DIMS = {
    "national": ("time",),
    "province": ("time", "province"),
    "county": ("time", "county"),
    "village_annual": ("year", "village"),
}
REQUIRED_ROOT_ATTRS = ("content_hash", "git_commit", "seed", "ruralsim_version")
READ_BLOCK_BYTES = 8 << 20


def _text(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray) and value.shape == ():
        return _text(value[()])
    return str(value)


def content_hash(f):
    """Recomputes the recorder's content hash from the stored datasets."""
    paths = []

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            paths.append("/" + name)

    f.visititems(visit)
    paths = sorted((p for p in paths if not p.startswith("/provenance/")), key=lambda p: p.encode())
    sha = hashlib.sha256()
    for path in paths:
        sha.update(path.encode() + b"\0")
        ds = f[path]
        if ds.size == 0:
            continue
        is_str = h5py.check_string_dtype(ds.dtype) is not None
        if ds.ndim == 0:
            blocks = [np.asarray(ds[()])]
        else:
            row_bytes = max(1, ds.dtype.itemsize * int(np.prod(ds.shape[1:], dtype=np.int64)))
            step = max(1, READ_BLOCK_BYTES // row_bytes)
            blocks = (ds[r:r + step] for r in range(0, ds.shape[0], step))
        for block in blocks:
            if is_str:
                for s in np.asarray(block, dtype=object).ravel():
                    sha.update((s if isinstance(s, bytes) else str(s).encode()) + b"\0")
            else:
                arr = np.ascontiguousarray(block)
                arr = arr.astype(arr.dtype.newbyteorder("<"), copy=False)
                sha.update(arr.tobytes())
    return sha.hexdigest()


def check(path, verify_hash=True):
    problems = []
    summary = []
    try:
        f = h5py.File(path, "r")
    except Exception as e:  # noqa: BLE001 - report anything h5py raises
        return [f"cannot open with h5py: {e}"], summary

    with f:
        for name in REQUIRED_ROOT_ATTRS:
            if name not in f.attrs:
                problems.append(f"root attribute '{name}' missing")
        fmt = _text(f.attrs.get("format", ""))
        if fmt and not fmt.startswith("ruralsim-hdf5"):
            problems.append(f"unexpected format attribute '{fmt}'")

        groups = [g for g in GROUP_DIMS if g != "village_annual" or g in f]
        record_len = {}
        variables = {}
        for g in groups:
            if g not in f or not isinstance(f[g], h5py.Group):
                problems.append(f"group /{g} missing")
                continue
            # attributes, via h5py
            for dname, obj in f[g].items():
                if not isinstance(obj, h5py.Dataset):
                    continue
                for attr in ("units", "description"):
                    if attr not in obj.attrs:
                        problems.append(f"/{g}/{dname} has no '{attr}' attribute")
            # structure, via xarray + h5netcdf
            try:
                ds = xr.open_dataset(path, group=g, engine="h5netcdf")
            except Exception as e:  # noqa: BLE001
                problems.append(f"xarray/h5netcdf cannot open group {g}: {e!r}")
                continue
            with ds:
                dims = GROUP_DIMS[g]
                for d in dims:
                    if d not in ds.dims:
                        problems.append(f"group {g}: dimension '{d}' missing")
                    elif d not in ds.coords:
                        problems.append(f"group {g}: no coordinate for dimension '{d}'")
                extra = set(ds.dims) - set(dims)
                if extra:
                    problems.append(f"group {g}: unexpected dimensions {sorted(extra)}")
                names = []
                for vname, var in ds.data_vars.items():
                    if vname in ("tick", "year"):
                        if var.dims != dims[:1]:
                            problems.append(f"group {g}: tick has dims {var.dims}")
                        continue
                    names.append(vname)
                    if var.dims != dims:
                        problems.append(f"group {g}: {vname} has dims {var.dims}, expected {dims}")
                if not names:
                    problems.append(f"group {g}: no output variables")
                variables[g] = names
                record_len[g] = ds.sizes.get(dims[0], 0)
                entity = f", {ds.sizes.get(dims[1], 0)} {dims[1]}" if len(dims) > 1 else ""
                summary.append(f"{g}: {record_len[g]} {dims[0]} x {len(names)} vars{entity}")

        series = [g for g in ("national", "province", "county") if g in record_len]
        if len({record_len[g] for g in series}) > 1:
            problems.append(f"time lengths differ between groups: {record_len}")
        if len({tuple(variables[g]) for g in series}) > 1:
            problems.append("national, province and county hold different variables")

        # store and livestreamer snapshots (output.snapshot_years): 1-D groups of one length
        years = sorted(f["snapshots"].keys()) if "snapshots" in f else []
        for y in years:
            if not y.isdigit() or "closed_store_sales" not in f[f"snapshots/{y}"]:
                problems.append(f"/snapshots/{y}: not a year with closed_store_sales")
                continue
            for g, dim in (("stores", "store"), ("livestreamers", "livestreamer")):
                gp = f"snapshots/{y}/{g}"
                if gp not in f:
                    problems.append(f"/{gp} missing")
                    continue
                try:
                    with xr.open_dataset(path, group=gp, engine="h5netcdf") as ds:
                        bad = [v for v, var in ds.data_vars.items() if var.dims != (dim,)]
                        if dim not in ds.coords or bad:
                            problems.append(f"group {gp}: no coordinate '{dim}' or other "
                                            f"dimensions {bad}")
                except Exception as e:  # noqa: BLE001
                    problems.append(f"xarray/h5netcdf cannot open group {gp}: {e!r}")
                for dname, obj in f[gp].items():
                    for attr in ("units", "description"):
                        if attr not in obj.attrs:
                            problems.append(f"/{gp}/{dname} has no '{attr}' attribute")
        if years:
            n = f"snapshots/{years[-1]}/stores/store"
            summary.append(f"snapshots: {', '.join(years)}"
                           + (f" ({f[n].shape[0]} stores in {years[-1]})" if n in f else ""))

        if "events" in f:
            summary.append(f"events: {f['events/event'].shape[0] if 'events/event' in f else '?'}")
        else:
            problems.append("group /events missing")
        for name in ("provenance/scenario_input", "provenance/scenario_resolved"):
            if name not in f:
                problems.append(f"/{name} missing")

        if verify_hash and "content_hash" in f.attrs:
            stored = _text(f.attrs["content_hash"])
            computed = content_hash(f)
            if computed != stored:
                problems.append(f"content hash mismatch: stored {stored}, recomputed {computed}")
            else:
                summary.append(f"content_hash verified {stored[:12]}")
    return problems, summary


def main(argv):
    args = [a for a in argv[1:] if a != "--no-hash"]
    if len(args) != 1 or args[0].startswith("-"):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 1
    path = args[0]
    problems, summary = check(path, verify_hash="--no-hash" not in argv)
    if problems:
        print(f"FAIL {path}: {len(problems)} problem(s)")
        for p in problems:
            print(f"  - {p}")
        return 1
    print(f"OK {path}: " + "; ".join(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
