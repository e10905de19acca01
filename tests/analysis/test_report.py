#!/usr/bin/python3
"""Tests of `ruralsim report` (analysis/report.py) and of the root group of result files.

usage: test_report.py RURALSIM_BINARY PROJECT_DIR

Runs scenarios/tiny.yaml with a station_programme (so that the timeline has an intervention)
in a temporary directory (kept if RURALSIM_KEEP_TMP is set), then checks that
  * ccdf.png is drawn from the store and livestreamer snapshot of the last year (summary.json
    and the caption say so, with every store and livestreamer counted), and from village and
    county aggregates for a file without snapshots (output.snapshot_years: []);
  * `ruralsim report RUN.h5 --out DIR` writes index.html and every figure of
    report.FIGURES, the figures are non-empty PNGs, the HTML parses (html.parser), references
    only files that exist in DIR and nothing on the network, and shows the provenance;
  * a missing file, a text file, a truncated file, a foreign HDF5 file, a file whose data no
    longer match its content hash, a directory, years outside the run and an --out that is a
    file each give exit status 2 and one line on stderr, never a traceback;
  * xarray.open_dataset(FILE, engine="h5netcdf") without group= returns the national series
    with `year` and `tick` as coordinates, equal to group="national", and the content hash
    recomputed by analysis/check_h5.py still matches.
Ends with "N passed, M failed" (exit status 1 if any check failed).
"""
import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile

import h5py
import numpy as np

from checks import Refs, check, png_size, remove_tmp, run, summary

def expect_exit_2(name, cmd, in_process=None):
    """cmd through the binary, or with in_process (report.main_or_exit_2) the same arguments
    in this process (saves starting Python and matplotlib again)."""
    if in_process is not None:
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = in_process(cmd[2:])
        p = subprocess.CompletedProcess(cmd, code, "", err.getvalue())
    else:
        p = run(cmd)
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    check(f"{name}: exit status 2", p.returncode == 2, f"got {p.returncode}: {p.stderr[-400:]}")
    check(f"{name}: one line on stderr, no traceback",
          len(lines) == 1 and "Traceback" not in p.stderr, repr(p.stderr[-400:]))
    if in_process is None:
        check(f"{name}: the message names `ruralsim report`",
              p.stderr.startswith("ruralsim report: error: "), repr(p.stderr[:200]))


def main(argv):
    if len(argv) != 3:
        print("usage: test_report.py RURALSIM_BINARY PROJECT_DIR", file=sys.stderr)
        return 2
    binary, src = os.path.abspath(argv[1]), os.path.abspath(argv[2])
    sys.path.insert(0, os.path.join(src, "analysis"))
    import report  # noqa: E402
    import xarray as xr  # noqa: E402
    from check_h5 import content_hash  # noqa: E402

    tmp = tempfile.mkdtemp(prefix="ruralsim_report_test_")
    try:
        with open(os.path.join(src, "scenarios", "tiny.yaml"), encoding="utf-8") as fh:
            text = fh.read()
        scen = os.path.join(tmp, "tiny_stations.yaml")
        with open(scen, "w", encoding="utf-8") as fh:
            fh.write(text.replace("name: tiny", "name: tiny_stations", 1))
            fh.write("interventions:\n  - {type: station_programme, counties: [1], "
                     "start_year: 2011, years: 2, per_year: 2}\n")
        h5 = os.path.join(tmp, "run.h5")
        p = run([binary, "run", scen, "--out", h5, "--quiet"])
        if not check("tiny scenario with a station programme runs", p.returncode == 0,
                     p.stderr[-500:]):
            return 1

        # ---- the report
        out = os.path.join(tmp, "rep")
        p = run([binary, "report", h5, "--out", out, "--years", "2010", "2014"])
        check("ruralsim report exits 0", p.returncode == 0, p.stderr[-800:])
        index = os.path.join(out, "index.html")
        check("prints the path of index.html", p.stdout.strip() == index, p.stdout)
        check("index.html written", os.path.isfile(index))
        for name in report.FIGURES:
            path = os.path.join(out, name)
            size = png_size(path) if os.path.isfile(path) else None
            check(f"{name} is a non-empty PNG", size is not None and size[0] > 200
                  and size[1] > 200 and os.path.getsize(path) > 5000,
                  f"size {size}, bytes {os.path.getsize(path) if os.path.isfile(path) else 0}")
        if os.path.isfile(index):
            with open(index, encoding="utf-8") as fh:
                page = fh.read()
            parser = Refs()
            parser.feed(page)
            parser.close()
            check("HTML parses with balanced block elements", not parser.errors and
                  not parser.stack, f"{parser.errors} open {parser.stack}")
            missing, remote = [], []
            for ref in parser.refs:
                if ref.startswith("#"):
                    if ref[1:] not in parser.ids:
                        missing.append(ref)
                elif "://" in ref or ref.startswith("//"):
                    remote.append(ref)
                elif not os.path.isfile(os.path.join(out, ref)):
                    missing.append(ref)
            check("HTML references only files (and anchors) that exist", not missing, missing)
            check("HTML references nothing on the network", not remote, remote)
            check("every figure is shown on the page",
                  all(f'src="{n}"' in page for n in report.FIGURES))
            with h5py.File(h5, "r") as f:
                stored = f.attrs["content_hash"]
                stored = stored.decode() if isinstance(stored, bytes) else str(stored)
                commit = f.attrs["git_commit"]
                commit = commit.decode() if isinstance(commit, bytes) else str(commit)
            check("provenance on the page (content hash, commit, scenario, seed)",
                  stored in page and commit in page and "tiny_stations" in page
                  and "<th>seed</th><td><code>7</code>" in page)
            check("intervention with its target county on the page",
                  "station_programme" in page and "<td>1</td>" in page)
            check("--years chooses the years of the village map",
                  "end of 2010, 2014;" in page, "caption of map_villages")
            check("the ccdf caption names the snapshot", "/snapshots/2014" in page)
        summary_path = os.path.join(out, report.SUMMARY)
        with open(summary_path, encoding="utf-8") as fh, h5py.File(h5, "r") as f:
            ccdf = json.load(fh).get("ccdf", {})
            stores_end = float(f["national/stores"][-1])
            streamers_end = float(f["national/livestreamers"][-1])
            sales = f["snapshots/2014/stores/sales"][:].astype(float)
        check("summary.json: ccdf drawn from the snapshot of the last year",
              ccdf.get("source") == "snapshots" and ccdf.get("year") == 2014, ccdf)
        check("summary.json: every store and livestreamer of the last year drawn",
              ccdf.get("stores") == stores_end and ccdf.get("livestreamers") == streamers_end
              and ccdf.get("stores_with_sales") == int((sales > 0).sum()) > 0
              and np.isclose(ccdf.get("store_sales_total", -1), sales.sum(), rtol=1e-12),
              (ccdf, stores_end, streamers_end))
        extra = set(os.listdir(out)) - set(report.FIGURES) - {"index.html", report.SUMMARY}
        check("no unexpected files in the report directory", not extra, extra)

        p = run([binary, "help", "report"])
        check("ruralsim help report", p.returncode == 0 and "--out DIR" in p.stdout)

        # ---- a file without village snapshots, recorded every 6 ticks (maps from /events)
        ns = os.path.join(tmp, "no_snapshots.h5")
        p = run([binary, "run", scen, "--out", ns, "--quiet", "--set",
                 "output.village_snapshots=false", "--set", "output.every=6"])
        if check("run without village snapshots", p.returncode == 0, p.stderr[-300:]):
            out_ns = os.path.join(tmp, "rep_ns")
            index_ns = report.make_report(ns, out_ns)
            check("report of a file without village snapshots writes every figure",
                  all(png_size(os.path.join(out_ns, n)) for n in report.FIGURES))
            with open(index_ns, encoding="utf-8") as fh:
                check("... and says that only Taobao status is known",
                      "no village snapshots" in fh.read())

        # ---- a file without store and livestreamer snapshots (as written by older builds)
        old = os.path.join(tmp, "no_entity_snapshots.h5")
        p = run([binary, "run", scen, "--out", old, "--quiet", "--set",
                 "output.snapshot_years=[]"])
        if check("run without store snapshots", p.returncode == 0, p.stderr[-300:]):
            with h5py.File(old, "r") as f:
                check("... has no /snapshots group", "snapshots" not in f)
            out_old = os.path.join(tmp, "rep_old")
            index_old = report.make_report(old, out_old)
            check("report of a file without snapshots writes ccdf.png",
                  png_size(os.path.join(out_old, "ccdf.png")) is not None)
            with open(os.path.join(out_old, report.SUMMARY), encoding="utf-8") as fh:
                ccdf = json.load(fh).get("ccdf", {})
            with open(index_old, encoding="utf-8") as fh:
                page_old = fh.read()
            check("... from village and county aggregates, and says so",
                  ccdf.get("source") == "aggregates"
                  and "no store or livestreamer snapshots" in page_old
                  and "no store or livestreamer snapshots" in ccdf.get("caption", ""), ccdf)

        # ---- files and arguments that cannot be used
        inproc = report.main_or_exit_2  # the binary path is tested with the first two cases
        expect_exit_2("missing file", [binary, "report", os.path.join(tmp, "nope.h5")])
        txt = os.path.join(tmp, "text.h5")
        with open(txt, "w") as fh:
            fh.write("not hdf5\n")
        expect_exit_2("text file", [binary, "report", txt], inproc)
        trunc = os.path.join(tmp, "truncated.h5")
        with open(h5, "rb") as fh:
            data = fh.read()
        with open(trunc, "wb") as fh:
            fh.write(data[: len(data) // 2])
        expect_exit_2("truncated file", [binary, "report", trunc], inproc)
        foreign = os.path.join(tmp, "foreign.h5")
        with h5py.File(foreign, "w") as f:
            f["x"] = np.arange(10.0)
            f.attrs["title"] = "not a ruralsim result"
        expect_exit_2("foreign HDF5 file", [binary, "report", foreign])
        changed = os.path.join(tmp, "changed.h5")
        shutil.copy(h5, changed)
        with h5py.File(changed, "r+") as f:
            f["national/stores"][0] = 12345.0
        expect_exit_2("file whose data no longer match the content hash",
                      [binary, "report", changed], inproc)
        expect_exit_2("--years outside the run",
                      [binary, "report", h5, "--out", os.path.join(tmp, "rep3"), "--years",
                       "1990"], inproc)
        expect_exit_2("--out is a file", [binary, "report", h5, "--out", txt], inproc)
        expect_exit_2("a directory (sweeps are not supported yet)", [binary, "report", tmp],
                      inproc)

        # ---- the root group opens the obvious way
        root = xr.open_dataset(h5, engine="h5netcdf")
        nat = xr.open_dataset(h5, engine="h5netcdf", group="national")
        with root, nat:
            check("open_dataset without group= has the national variables",
                  "stores" in root.data_vars and set(root.data_vars) == set(nat.data_vars),
                  sorted(root.data_vars))
            check("dimension time; year and tick are coordinates",
                  dict(root.sizes) == {"time": nat.sizes["time"]}
                  and {"time", "year", "tick"} <= set(root.coords), dict(root.coords))
            check("root values equal /national", all(
                np.array_equal(root[v].values, nat[v].values, equal_nan=True)
                for v in list(root.data_vars) + ["year", "tick"]))
            check("/national has year and tick as coordinates too",
                  {"year", "tick"} <= set(nat.coords))
            check("root attributes carry the provenance",
                  str(root.attrs.get("content_hash")) == stored)
        with h5py.File(h5, "r") as f:
            check("content hash recomputed by check_h5.py still matches",
                  content_hash(f) == stored)
            links = [k for k in f.keys() if isinstance(f.get(k, getlink=True), h5py.SoftLink)]
            check("the root series are soft links into /national",
                  "stores" in links and all(
                      f.get(k, getlink=True).path == f"/national/{k}" for k in links), links)
    finally:
        remove_tmp(tmp)
    return summary()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
