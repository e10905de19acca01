#!/usr/bin/python3
"""Tests of the Python analysis tools (analysis/ruralsim_io.py, plot_run.py, compare_runs.py).

usage: test_analysis.py RURALSIM_BINARY PROJECT_DIR

Plain Python (no pytest). Generates small runs of scenarios/tiny.yaml with the real binary in a
temporary directory (kept if RURALSIM_KEEP_TMP is set), checks the library against the HDF5
datasets and against `ruralsim outputs`, runs the two command-line tools as subprocesses, and
ends with the line "N passed, M failed" (exit status 1 if any check failed).
"""
import contextlib
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import traceback
import warnings

import h5py
import numpy as np

from checks import PNG_MAGIC, check, summary
from checks import run as _run


def run(cmd, **kw):
    return _run(cmd, timeout=120, **kw)


PY = sys.executable or "/usr/bin/python3"


def call(main_func, args):
    """Runs a tool's main(args) in-process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main_func(args) or 0
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
            if isinstance(e.code, str):
                err.write(e.code)
    return code, out.getvalue(), err.getvalue()


class Background:
    """A subprocess started now and collected later (the tool runs overlap the in-process
    checks, which keeps the test short)."""

    def __init__(self, cmd, tmp):
        fd, self.out_path = tempfile.mkstemp(dir=tmp, suffix=".out")
        os.close(fd)
        self.err_path = self.out_path[:-4] + ".err"
        self.out = open(self.out_path, "w")
        self.err = open(self.err_path, "w")
        self.proc = subprocess.Popen(cmd, stdout=self.out, stderr=self.err, text=True)
        self.cmd = cmd

    def result(self):
        try:
            rc = self.proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.out.close()
        self.err.close()
        with open(self.out_path) as o, open(self.err_path) as e:
            return subprocess.CompletedProcess(self.cmd, rc, o.read(), e.read())


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    binary, project = os.path.abspath(argv[1]), os.path.abspath(argv[2])
    analysis = os.path.join(project, "analysis")
    sys.path.insert(0, analysis)
    import ruralsim_io as rio  # noqa: E402

    tmp = tempfile.mkdtemp(prefix="ruralsim_analysis_")
    try:
        body(binary, project, analysis, rio, tmp)
    except Exception:  # noqa: BLE001 - report, count as failure
        traceback.print_exc()
        check("test body ran to the end", False, "exception (see above)")
    finally:
        if os.environ.get("RURALSIM_KEEP_TMP"):
            print(f"(kept {tmp})")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return summary()


def body(binary, project, analysis, rio, tmp):
    tiny = os.path.join(project, "scenarios", "tiny.yaml")
    # A copy of tiny.yaml under another name: --set alone does not make another scenario.
    variant = os.path.join(tmp, "tiny_beta12.yaml")
    with open(tiny) as src:
        text = src.read()
    text, n = re.subn(r"(?m)^name:.*$", "name: tiny_beta12", text, count=1)
    assert n == 1, "tiny.yaml has no top-level 'name:' line"
    with open(variant, "w") as dst:
        dst.write(text)

    def make(out, scenario, *extra):
        path = os.path.join(tmp, out)
        r = run([binary, "run", scenario, "--out", path, "--overwrite", "--quiet", "--threads",
                 "1", *extra])
        if r.returncode != 0:
            raise RuntimeError(f"ruralsim run failed ({r.returncode}): {r.stderr}")
        return path

    t7 = make("t7.h5", tiny, "--seed", "7")
    t8 = make("t8.h5", tiny, "--seed", "8")
    b7 = make("b7.h5", variant, "--seed", "7", "--set", "adoption.beta=12")
    b8 = make("b8.h5", variant, "--seed", "8", "--set", "adoption.beta=12")
    e3 = make("e3.h5", tiny, "--seed", "7", "--set", "output.every=3")
    e5 = make("e5.h5", tiny, "--seed", "7", "--set", "output.every=5")
    mixed = make("mixed.h5", tiny, "--seed", "8", "--set", "adoption.beta=12")
    # lower recognition thresholds so that the tiny run has Taobao Villages (events, map)
    rec = make("rec.h5", tiny, "--seed", "7", "--set", "recognition.village_sales=2e5",
               "--set", "recognition.village_store_share=0.03")

    # ---- start the command-line tools in the background ------------------------------------
    tool = lambda name, *a: Background([PY, os.path.join(analysis, name), *a], tmp)  # noqa: E731
    plot_dirs = {level: os.path.join(tmp, f"plots_{level}") for level in ("national", "county")}
    jobs = {
        "plot_national": tool("plot_run.py", rec, "--out", plot_dirs["national"]),
        "plot_county": tool("plot_run.py", rec, "--out", plot_dirs["county"], "--level",
                            "county", "--ids", "0"),
        "compare": tool("compare_runs.py", t7, t8, b7, b8, "--var", "stores", "--var",
                        "sales_total", "--var", "gini_income", "--out",
                        os.path.join(tmp, "compare")),
        "check_h5": tool("check_h5.py", rec),
    }

    # ---- open_run: dimensions, coordinates, tables ---------------------------------------
    with h5py.File(t7, "r") as f:
        tpy, y0 = int(f.attrs["ticks_per_year"]), int(f.attrs["start_year"])
        n_records = f["national/time"].shape[0]
        n_county = f["geography/counties/county"].shape[0]
        n_province = f["geography/provinces/province"].shape[0]
        n_village = f["geography/villages/village"].shape[0]
        raw_sales = f["national/sales_total"][:]
        raw_stores = f["national/stores"][:]
        raw_tick = f["national/tick"][:]
        raw_time = f["national/time"][:]
        raw_county_sales = f["county/sales_total"][:]
    with rio.open_run(t7) as r:
        check("national dims", dict(r.national.sizes) == {"time": n_records},
              dict(r.national.sizes))
        check("province dims", dict(r.province.sizes) == {"time": n_records,
                                                         "province": n_province},
              dict(r.province.sizes))
        check("county dims", dict(r.county.sizes) == {"time": n_records, "county": n_county},
              dict(r.county.sizes))
        check("village_annual dims", r.village_annual is not None
              and set(r.village_annual.sizes) == {"year", "village"}
              and r.village_annual.sizes["village"] == n_village)
        check("time is a float coordinate",
              "time" in r.national.coords and r.national["time"].dtype.kind == "f")
        check("tick and year coordinates",
              np.array_equal(r.national["year"].values, y0 + raw_tick // tpy))
        check("scenario, seed, replicate", (r.scenario, r.seed, r.replicate) == ("tiny", 7, 0),
              (r.scenario, r.seed, r.replicate))
        prov = r.provenance
        check("provenance has attributes and scenario texts",
              prov.get("content_hash") and "name: tiny" in (prov.get("scenario_resolved") or "")
              and "name: tiny" in (prov.get("scenario_input") or ""))
        geo_v = r.geography("villages")
        check("geography(villages)", len(geo_v) == n_village and {"x", "y", "county"}
              <= set(geo_v.columns) and geo_v.index.name == "village")
        check("geography(county) alias", len(r.geography("county")) == n_county)
        ev = r.events
        check("events DataFrame columns",
              {"event", "year", "tick", "time", "kind", "kind_name", "entity", "value"}
              <= set(ev.columns))

        # ---- variables() equals `ruralsim outputs` ------------------------------------------
        out = run([binary, "outputs"])
        names = [ln.split()[0] for ln in out.stdout.splitlines() if ln.strip()]
        info = r.variables()
        check("variables() equals `ruralsim outputs` (names and order)",
              list(info) == names, f"{list(info)} vs {names}")
        md = run([binary, "outputs", "--markdown"]).stdout
        table = {}
        for ln in md.splitlines():
            cells = [c.strip() for c in ln.strip().strip("|").split("|")]
            if len(cells) == 5 and cells[0].startswith("`"):
                # unit, description, aggregation, in village snapshots
                table[cells[0].strip("`")] = cells[1:]
        check("units and descriptions match `ruralsim outputs --markdown`",
              all(table.get(n, [None, None])[:2] == [v.units, v.description]
                  for n, v in info.items()),
              [n for n, v in info.items() if table.get(n, [None, None])[:2]
               != [v.units, v.description]])
        check("in_village_snapshots matches the markdown column",
              all((table[n][3] == "yes") == v.in_village_snapshots for n, v in info.items()))
        check("flow flag equals the aggregation column of `ruralsim outputs --markdown`",
              all(table[n][2].startswith("flow") == v.flow for n, v in info.items()))
        # the flow rule applied to the text of `ruralsim outputs` gives the same split
        text_flows = {n for n, (u, d, _a, _s) in table.items() if rio.is_flow(u, d)}
        check("flow rule from file attributes == flow rule from `ruralsim outputs`",
              text_flows == set(r.flows()), sorted(text_flows ^ set(r.flows())))
        flows = set(r.flows())
        check("flow rule: sales/parcels/new stores are flows, stores/incomes are stocks",
              {"sales_total", "parcels_out", "new_stores", "sessions"} <= flows
              and not {"stores", "mean_household_income", "gini_income",
                       "mean_shipping_cost"} & flows, sorted(flows))

        # ---- annual(): manual sums over the raw HDF5 datasets --------------------------------
        ann = r.annual()
        year = y0 + 2
        in_year = (raw_tick // tpy) == 2
        manual = raw_sales[in_year].sum()
        got = float(ann["sales_total"].sel(year=year))
        check(f"annual flow sales_total {year} == manual sum of {in_year.sum()} records",
              np.isclose(got, manual, rtol=1e-12, atol=0), f"{got} vs {manual}")
        end_idx = int(np.flatnonzero(raw_tick == 3 * tpy - 1)[0])
        check(f"annual stock stores {year} == value at tick {3 * tpy - 1} (year end)",
              float(ann["stores"].sel(year=year)) == raw_stores[end_idx])
        check("the year-end record has time == next year (why year comes from tick)",
              raw_time[end_idx] == year + 1.0, raw_time[end_idx])
        check("annual years", ann["year"].values.tolist() == list(range(y0, y0 + n_records
                                                                            // tpy)))
        check("annual units", ann["sales_total"].attrs.get("annual_units") == "RMB per year"
              and ann["stores"].attrs.get("annual_units") == "stores")
        cann = r.annual("county")
        manual_c = raw_county_sales[in_year].sum(axis=0)
        check("annual county dims and flow sum",
              cann["sales_total"].dims == ("year", "county")
              and np.allclose(cann["sales_total"].sel(year=year).values, manual_c, rtol=1e-12))

        # ---- annual() agrees with the simulator's own /village_annual -----------------------
        va = r.village_annual
        nat = r.national
        bad_flow, bad_stock, n_flow, n_stock = [], [], 0, 0
        for n, v in info.items():
            if not v.in_village_snapshots:
                continue
            additive = np.allclose(r.county[n].sum("county").values, nat[n].values,
                                   rtol=1e-9, atol=1e-6)
            if not additive:
                continue  # means, ratios, Gini: villages do not add up to the nation
            vsum = va[n].sum("village").values
            if v.flow:
                n_flow += 1
                if not np.allclose(ann[n].values, vsum, rtol=1e-9, atol=1e-6):
                    bad_flow.append(n)
            else:
                n_stock += 1
                if not np.allclose(ann[n].values, vsum, rtol=1e-9, atol=1e-6):
                    bad_stock.append(n)
        check(f"annual flows == sum of /village_annual ({n_flow} additive flows)",
              n_flow >= 5 and not bad_flow, bad_flow)
        check(f"annual stocks == sum of /village_annual ({n_stock} additive stocks)",
              n_stock >= 3 and not bad_stock, bad_stock)

        # ---- annual() does not depend on output.every ---------------------------------------
        with rio.open_run(e3) as r3:
            ann3 = r3.annual()
            check("output.every=3 has a third of the records",
                  r3.national.sizes["time"] * 3 == n_records)
            diff = [n for n in info if not np.allclose(ann[n].values, ann3[n].values,
                                                       rtol=1e-9, equal_nan=True)]
            # ratios of flows per parcel are interval means: they change with the interval
            per_interval = {n for n, v in info.items() if "parcel" in v.units and not v.flow}
            check("annual values equal for output.every=1 and 3 (except per-parcel ratios)",
                  set(diff) <= per_interval, diff)
            w = {n: "parcels_out" for n in per_interval}
            a1, a3 = r.annual(weights=w), r3.annual(weights=w)
            check("parcel-weighted annual means equal for output.every=1 and 3",
                  all(np.allclose(a1[n].values, a3[n].values, rtol=1e-9, equal_nan=True)
                      for n in per_interval) and len(per_interval) >= 1)
        with rio.open_run(e5) as r5, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            r5.annual()
            check("output.every=5 (does not divide 12) warns",
                  any("straddle" in str(c.message) for c in caught))

        for how in ("end", "sum", "mean"):
            a = r.annual(how=how, variables=["stores", "sales_total"])
            check(f"annual(how={how})", set(a.data_vars) == {"stores", "sales_total"}
                  and a.sizes["year"] == n_records // tpy)

    # ---- snapshots: every store and livestreamer at chosen year ends -------------------------
    snap = make("snap.h5", tiny, "--seed", "7", "--set", "output.snapshot_years=[2011,last]")
    with rio.open_run(snap) as r, h5py.File(snap, "r") as f:
        ann = r.annual()
        check("snapshot_years lists the chosen years", r.snapshot_years == [2011, 2014],
              r.snapshot_years)
        for year in r.snapshot_years:
            st = r.snapshot("stores", year)
            ls = r.snapshot("livestreamers", year)
            check(f"{year}: one row per store alive at the end of the year",
                  len(st) == int(ann["stores"].sel(year=year)) == f[f"snapshots/{year}/stores/"
                                                                 "village"].shape[0],
                  (len(st), float(ann["stores"].sel(year=year))))
            check(f"{year}: store columns, index and units",
                  {"village", "category", "full_time", "sales", "sales_livestream", "age",
                   "county", "province"} <= set(st.columns) and st.index.name == "store"
                  and st.attrs["units"]["sales"] == "RMB" and st.attrs["year"] == year)
            geo = r.geography("villages")
            check(f"{year}: county and province joined from the village table",
                  np.array_equal(st["county"].to_numpy(),
                                 geo["county"].to_numpy()[st["village"].to_numpy()]))
            total = st["sales"].astype(float).sum() + r.closed_store_sales(year)
            want = float(ann["sales_total"].sel(year=year))
            check(f"{year}: store sales + closed stores' sales == annual sales_total "
                  "(float rounding)", abs(total - want) <= 1e-5 * want, (total, want))
            check(f"{year}: one row per livestreamer, followers add up",
                  len(ls) == int(ann["livestreamers"].sel(year=year))
                  and np.isclose(ls["followers"].sum(), float(ann["followers"].sel(year=year)),
                                 rtol=1e-9, atol=1e-9), (len(ls), ls["followers"].sum()))
        for args, exc in ((("stores", 2012), KeyError), (("shops",), ValueError)):
            try:
                r.snapshot(*args)
                check(f"snapshot{args} raises {exc.__name__}", False)
            except exc:
                check(f"snapshot{args} raises {exc.__name__}", True)
    with rio.open_run(t7) as r:
        check("default output.snapshot_years: the last year", r.snapshot_years == [2014],
              r.snapshot_years)
    none = make("none.h5", tiny, "--seed", "7", "--set", "output.snapshot_years=[]")
    with rio.open_run(none) as r:
        check("snapshot_years: [] writes no /snapshots", r.snapshot_years == [])
        try:
            r.snapshot("stores")
            check("snapshot() of a file without snapshots raises KeyError", False)
        except KeyError as e:
            check("snapshot() of a file without snapshots raises KeyError",
                  "no store or livestreamer snapshots" in str(e), e)

    # ---- open_runs ---------------------------------------------------------------------------
    stack = rio.open_runs([t7, t8, b7, b8], annual=True)
    check("open_runs annual dims", dict(stack["stores"].sizes) == {"run": 4,
                                                                    "year": n_records // tpy},
          dict(stack["stores"].sizes))
    check("open_runs coordinates",
          stack["scenario"].values.tolist() == ["tiny", "tiny", "tiny_beta12", "tiny_beta12"]
          and stack["seed"].values.tolist() == [7, 8, 7, 8]
          and stack["replicate"].values.tolist() == [0, 0, 0, 0])
    with rio.open_run(b8) as rb8:
        check("open_runs values are each run's annual()",
              np.array_equal(stack["sales_total"].isel(run=3).values,
                             rb8.annual()["sales_total"].values))
    check("open_runs groupby scenario",
          sorted(stack.groupby("scenario").mean("run")["scenario"].values.tolist())
          == ["tiny", "tiny_beta12"])
    raw = rio.open_runs([t7, b7])
    check("open_runs raw series dims", dict(raw["stores"].sizes) == {"run": 2,
                                                                      "time": n_records})
    check("different seeds give different runs",
          not np.array_equal(stack["stores"].isel(run=0).values,
                             stack["stores"].isel(run=1).values))

    # ---- plot_run.py ---------------------------------------------------------------------------
    with rio.open_run(rec) as rr:
        has_events = len(rr.events) > 0
        n_tv = int((rr.events["kind_name"] == "taobao_village_recognised").sum())
    check("recognition run has Taobao Village events (for the map)", has_events and n_tv > 0,
          f"{n_tv} recognitions")
    for level in ("national", "county"):
        outdir = plot_dirs[level]
        p = jobs[f"plot_{level}"].result()
        listed = [ln.strip() for ln in p.stdout.splitlines() if ln.strip()]
        ok = p.returncode == 0 and listed and all(
            os.path.isfile(x) and os.path.getsize(x) > 1000 and open(x, "rb").read(8)
            == PNG_MAGIC for x in listed)
        check(f"plot_run.py --level {level} writes non-empty PNGs ({len(listed)})", ok,
              p.stderr[-2000:])
        stems = {os.path.basename(x)[len(level) + 1:-4] for x in listed}
        want = {"stores", "taobao", "sales", "logistics", "livestream", "income",
                "inequality"} | ({"map"} if has_events else set())
        check(f"plot_run.py --level {level} figures", want <= stems, sorted(stems))
        check(f"plot_run.py --level {level} lists exactly the files written",
              sorted(os.path.join(outdir, x) for x in os.listdir(outdir)) == sorted(listed))
    # the smaller checks call the tools in-process (saves the interpreter start-up)
    import plot_run  # noqa: E402
    with rio.open_run(t7) as r:
        t7_events = len(r.events)
        pl = plot_run.Plotter(r, "national", [], 8, tmp)
        pl.map()
    check("plot_run: map only when the file has events",
          bool(pl.written) == (t7_events > 0), f"{t7_events} events, wrote {pl.written}")
    code, out, err = call(plot_run.main, [t7, "--level", "county", "--ids", "99", "--out",
                                          os.path.join(tmp, "plots_bad")])
    check("plot_run.py rejects an unknown --ids", code != 0 and "99" in out + err,
          (code, out, err))

    # ---- compare_runs.py ---------------------------------------------------------------------
    outdir = os.path.join(tmp, "compare")
    p = jobs["compare"].result()
    out = p.stdout
    check("compare_runs.py exit 0", p.returncode == 0, p.stderr[-2000:])
    check("compare_runs.py groups and paired difference",
          "tiny: 2 run(s)" in out and "tiny_beta12: 2 run(s)" in out
          and "tiny_beta12 - tiny" in out and "paired" in out, out[:1500])
    pngs = [os.path.join(outdir, f"compare_{v}.png")
            for v in ("stores", "sales_total", "gini_income")]
    check("compare_runs.py writes one non-empty PNG per variable",
          all(os.path.isfile(x) and os.path.getsize(x) > 1000
              and open(x, "rb").read(8) == PNG_MAGIC for x in pngs))
    # the printed interval is the t interval of the replicates
    from scipy import stats
    with rio.open_run(t7) as ra, rio.open_run(t8) as rb:
        last = ra.annual()["stores"].values[-1], rb.annual()["stores"].values[-1]
    m = np.mean(last)
    half = stats.t.ppf(0.975, 1) * np.std(last, ddof=1) / np.sqrt(2)
    line = [ln for ln in out.splitlines() if ln.startswith(str(y0 + n_records // tpy - 1))][0]
    sys.path.insert(0, analysis)
    import compare_runs  # noqa: E402
    expect = compare_runs.cell(m, m - half, m + half)
    check("compare_runs.py mean and 95% interval of the last year", expect in line,
          f"{expect!r} not in {line!r}")
    code, out, err = call(compare_runs.main, [t7, mixed, "--var", "stores", "--no-plots"])
    check("compare_runs.py warns when one name hides different scenarios",
          code == 0 and "mixes runs of different resolved scenarios" in out, out[:800])
    code, out, err = call(compare_runs.main, [t7, t8, "--var", "no_such_var", "--no-plots"])
    check("compare_runs.py rejects an unknown variable", code != 0
          and "no_such_var" in out + err, (code, out, err))

    # ---- check_h5.py still works ------------------------------------------------------------
    p = jobs["check_h5"].result()
    check("check_h5.py OK on a generated file", p.returncode == 0 and p.stdout.startswith("OK"),
          p.stdout + p.stderr)

    # ---- damaged, foreign and data-corrupted files: one line, exit 2, no traceback ----------
    corrupt = os.path.join(tmp, "corrupt.h5")
    shutil.copy(t7, corrupt)
    with h5py.File(corrupt, "r+") as f:
        f["/national/stores"][3] = f["/national/stores"][3] + 1
    with open(t7, "rb") as fh:
        data = fh.read()
    truncated = os.path.join(tmp, "truncated.h5")
    with open(truncated, "wb") as fh:
        fh.write(data[:len(data) // 3])
    foreign = os.path.join(tmp, "foreign.h5")
    with h5py.File(foreign, "w") as f:
        f["x"] = np.arange(3)
    text = os.path.join(tmp, "text.h5")
    with open(text, "w") as fh:
        fh.write("not HDF5\n")
    bad_files = [(corrupt, "content hash mismatch"),
                 (truncated, "damaged or truncated HDF5 file"),
                 (foreign, "not a ruralsim result file"),
                 (text, "not an HDF5 file")]
    for path, frag in bad_files:
        name = os.path.basename(path)
        for script, args in (("plot_run.py", [path, "--out", os.path.join(tmp, "p_" + name)]),
                             ("compare_runs.py", [t7, path, "--no-plots"])):
            p = run([PY, os.path.join(analysis, script), *args])
            lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
            check(f"{script} refuses {name}: exit 2, one line naming the file",
                  p.returncode == 2 and len(lines) == 1 and name in p.stderr and frag in p.stderr
                  and "Traceback" not in p.stderr, (p.returncode, p.stderr[-600:]))
    try:
        rio.open_run(corrupt)
        check("open_run refuses a data-corrupted file", False, "no RunFileError")
    except rio.RunFileError as e:
        check("open_run refuses a data-corrupted file", "content hash mismatch" in str(e), str(e))
    with rio.open_run(corrupt, verify=False) as r:
        check("open_run(verify=False) reads a data-corrupted file anyway",
              int(r.national["stores"][3]) == int(rio.open_run(t7).national["stores"][3]) + 1)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
