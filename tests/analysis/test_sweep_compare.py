#!/usr/bin/python3
"""Tests of analysis/sweep_compare.py on synthetic sweep files with known answers, and of the
geography check of analysis/compare_runs.py.

usage: test_sweep_compare.py RURALSIM_BINARY PROJECT_DIR
"""
import os
import shutil
import subprocess
import sys
import tempfile

import h5py
import numpy as np
from scipy import stats

BIN, SRC = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
TOOL = os.path.join(SRC, "analysis", "sweep_compare.py")
fails = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        fails.append(what)


PARAMS = "simulation.years=2\nadoption.beta=6\nadoption.alpha=0.1\n"


def make(path, arms, reps, stores_end, sales, geo=None, params=None, values=None):
    """A sweep.h5 with 2 years x 2 ticks. stores_end[run] is the stock at the end of 2021;
    sales[run] = (tick values of 2021)."""
    n = len(arms)
    year = np.array([2020, 2020, 2021, 2021], float)
    stores = np.zeros((n, 4))
    stores[:, 3] = stores_end
    stores[:, 2] = -1.0  # mid-year value: must not be used
    sal = np.zeros((n, 4))
    sal[:, 0:2] = 1e9  # 2020: must not be counted in 2021
    sal[:, 2:4] = sales
    with h5py.File(path, "w") as f:
        f.attrs["baseline_arm"] = arms[0]
        m = f.create_group("manifest")
        s = h5py.string_dtype()
        m["run_id"] = np.array([f"r{i:04d}" for i in range(n)], dtype=s)
        m["arm"] = np.array(arms, dtype=s)
        m["replicate"] = np.array(reps, dtype=np.int64)
        m["seed"] = np.full(n, 5, dtype=np.int64)
        m["values"] = np.array(values or [""] * n, dtype=s)
        m["geography_data_hash"] = np.array(geo or ["g0"] * n, dtype=s)
        m["parameters"] = np.array(params or [PARAMS] * n, dtype=s)
        g = f.create_group("national")
        g["year"] = year
        g["time"] = year + np.array([0.5, 1, 0.5, 1])
        g["stores"] = stores
        g["stores"].attrs["units"] = "stores"
        g["stores"].attrs["description"] = "Live stores"
        g["sales_total"] = sal
        g["sales_total"].attrs["units"] = "RMB"
        g["sales_total"].attrs["description"] = "Sales during the interval"


def tool(*args):
    return subprocess.run(["/usr/bin/python3", TOOL, *map(str, args)], capture_output=True,
                          text=True)


def ci(x):
    x = np.asarray(x, float)
    h = stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))
    return x.mean(), x.mean() - h, x.mean() + h


def main():
    tmp = tempfile.mkdtemp(prefix="ruralsim-sweepcmp-")
    try:
        arms = ["base"] * 4 + ["a"] * 4 + ["b"] * 4
        reps = [0, 1, 2, 3] * 3
        base = np.array([10.0, 12, 14, 16])
        da = np.array([3.0, 5, 3, 5])
        db = np.array([-1.0, -2, 0, -1])
        stores = np.concatenate([base, base + da, base + db])
        sales = np.array([[1, 2], [2, 2], [3, 1], [1, 1]] * 3, float)
        sales[4:8] += [[0.5, 0.5], [1, 0], [0, 0], [2, 1]]
        p = os.path.join(tmp, "ok.h5")
        make(p, arms, reps, stores, sales)
        out = os.path.join(tmp, "out")
        r = tool(p, "--metric", "stores", "--metric", "sales_total", "--year", "2021", "--out", out)
        check(r.returncode == 0, f"compare runs: {r.stderr}")
        import pandas as pd
        df = pd.read_csv(os.path.join(out, "effects.csv"))
        row = df[(df.metric == "stores") & (df.arm == "a")].iloc[0]
        m, lo, hi = ci(da)
        check(np.isclose(row["diff"], 4.0) and np.isclose(row.diff_lo, lo) and
              np.isclose(row.diff_hi, hi), f"paired stores effect of a: {row.to_dict()}")
        mb, lob, hib = ci(base)
        rb = df[(df.metric == "stores") & (df.arm == "base")].iloc[0]
        check(np.isclose(rb["mean"], 13.0) and np.isclose(rb.lo, lob) and np.isclose(rb.hi, hib),
              "baseline mean and interval use year-end stocks")
        rs = df[(df.metric == "sales_total") & (df.arm == "a")].iloc[0]
        d = sales[4:8].sum(1) - sales[0:4].sum(1)
        check(np.isclose(rs["diff"], d.mean()) and np.isclose(rs.diff_lo, ci(d)[1]),
              f"flows are summed over the year: {rs['diff']} vs {d.mean()}")
        rbb = df[(df.metric == "stores") & (df.arm == "b")].iloc[0]
        check(np.isclose(rbb["diff"], -1.0) and rbb.pairs == 4, "effect of b")
        for name in ("effects.csv", "effects.md", "forest.png"):
            check(os.path.getsize(os.path.join(out, name)) > 0, f"wrote {name}")
        with open(os.path.join(out, "forest.png"), "rb") as f:
            check(f.read(8) == b"\x89PNG\r\n\x1a\n", "forest plot is a PNG")

        geo = ["g0"] * 12
        geo[6] = "g1"
        p2 = os.path.join(tmp, "geo.h5")
        make(p2, arms, reps, stores, sales, geo=geo)
        r = tool(p2, "--out", os.path.join(tmp, "o2"))
        check(r.returncode == 2 and "r0002" in r.stderr and "r0006" in r.stderr and
              "geographies differ" in r.stderr, f"refuses a pair on different geographies: "
              f"{r.returncode} {r.stderr}")
        check(not os.path.exists(os.path.join(tmp, "o2", "effects.csv")), "nothing written")

        params = [PARAMS] * 12
        params[9] = PARAMS.replace("alpha=0.1", "alpha=0.3")
        p3 = os.path.join(tmp, "par.h5")
        make(p3, arms, reps, stores, sales, params=params)
        r = tool(p3, "--out", os.path.join(tmp, "o3"))
        check(r.returncode == 2 and "adoption.alpha (0.1 vs 0.3)" in r.stderr,
              f"refuses a pair whose non-policy parameters differ: {r.stderr}")
        values = [""] * 4 + ["adoption.beta=8"] * 4 + [""] * 4
        params = [PARAMS] * 4 + [PARAMS.replace("beta=6", "beta=8")] * 4 + [PARAMS] * 4
        p4 = os.path.join(tmp, "pol.h5")
        make(p4, arms, reps, stores, sales, params=params, values=values)
        r = tool(p4, "--metric", "stores", "--out", os.path.join(tmp, "o4"))
        check(r.returncode == 0, f"a parameter the arm sets is a policy difference: {r.stderr}")

        # compare_runs.py: two runs of different geographies are not paired silently
        a, b = os.path.join(tmp, "a.h5"), os.path.join(tmp, "b.h5")
        tiny = os.path.join(SRC, "scenarios", "tiny.yaml")
        subprocess.run([BIN, "run", tiny, "--out", a, "--quiet"], check=True, capture_output=True)
        subprocess.run([BIN, "run", tiny, "--out", b, "--quiet", "--set", "geography.seed=5",
                        "--set", "adoption.beta=8"], check=True, capture_output=True)
        with h5py.File(b, "r+") as f:
            f.attrs["scenario_name"] = "other"
        r = subprocess.run(["/usr/bin/python3", os.path.join(SRC, "analysis", "compare_runs.py"),
                            a, b, "--no-plots"], capture_output=True, text=True)
        check(r.returncode != 0 and "geograph" in (r.stderr + r.stdout) and
              os.path.basename(b) in (r.stderr + r.stdout),
              f"compare_runs.py refuses runs on different geographies: {r.returncode} "
              f"{r.stdout[-300:]} {r.stderr[-300:]}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{len(fails)} failed")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
