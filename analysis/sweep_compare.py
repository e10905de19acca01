#!/usr/bin/python3
"""Compare the arms of a collected sweep (sweep.h5 from `ruralsim sweep collect`).

usage: sweep_compare.py SWEEP.h5 [--baseline ARM] [--metric M]... [--year Y]... [--out DIR]
       (normally called as `ruralsim sweep compare DIR ...`)

For every metric (default: stores, sales_total, taobao_villages, mean_household_income) and year
(default: the last year) it computes each run's national value in that year -- the year-end
value for stocks, the sum over the year for flows (units RMB, parcels, sessions or "during the
interval", as ruralsim_io.is_flow) -- then per arm the mean over replicates with a 95% t
interval, and for every other arm the paired difference to the baseline arm (replicate r
against replicate r: common random numbers) with its 95% t interval.

Pairs are checked first: both runs must have the same seed, the same geography (hash of the
/geography tables of their files) and the same parameters apart from those the two arms set
(manifest column `values`). A pair that fails is refused with exit status 2, naming the runs and
what differs -- a difference between runs on different geographies is not a policy effect.

Writes DIR/effects.csv, DIR/effects.md (the Markdown table, also printed) and DIR/forest.png
(one panel per metric and year: paired differences with intervals). DIR defaults to ./compare.
"""
import argparse
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import h5py  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ruralsim_io import is_flow  # noqa: E402

DEFAULT_METRICS = ["stores", "sales_total", "taobao_villages", "mean_household_income"]
CONF = 0.95


class Refused(Exception):
    pass


def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def mean_ci(x):
    """Mean and 95% t interval of a 1-d array (NaN interval when n < 2)."""
    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    n = len(x)
    if n == 0:
        return np.nan, np.nan, np.nan, 0
    m = float(np.mean(x))
    if n < 2:
        return m, np.nan, np.nan, n
    half = stats.t.ppf(0.5 + CONF / 2, n - 1) * float(np.std(x, ddof=1)) / np.sqrt(n)
    return m, m - half, m + half, n


def params(s):
    out = {}
    for line in text(s).splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            out[k] = v
    return out


def set_keys(values):
    return {kv.split("=", 1)[0].strip() for kv in text(values).split(";") if "=" in kv}


class Sweep:
    def __init__(self, path):
        with h5py.File(path, "r") as f:
            m = f["manifest"]
            self.runs = pd.DataFrame({
                "run_id": [text(x) for x in m["run_id"][:]],
                "arm": [text(x) for x in m["arm"][:]],
                "replicate": m["replicate"][:].astype(int),
                "seed": m["seed"][:].astype(np.int64),
                "values": [text(x) for x in m["values"][:]],
                "geography": [text(x) for x in m["geography_data_hash"][:]],
                "parameters": [text(x) for x in m["parameters"][:]],
            })
            self.baseline = text(f.attrs.get("baseline_arm", self.runs["arm"].iloc[0]))
            self.year = f["national/year"][:].astype(int)
            self.vars = {}
            for name, ds in f["national"].items():
                if name in ("time", "year"):
                    continue
                self.vars[name] = (ds[:], is_flow(ds.attrs.get("units", ""),
                                                  ds.attrs.get("description", "")),
                                   text(ds.attrs.get("units", "")))
        self.arms = list(dict.fromkeys(self.runs["arm"]))

    def value(self, metric, year):
        """Per-run value of `metric` in calendar `year` (year-end stock or annual flow)."""
        if metric not in self.vars:
            raise Refused(f"unknown metric {metric!r}; valid: {', '.join(sorted(self.vars))}")
        data, flow, _ = self.vars[metric]
        cols = np.nonzero(self.year == year)[0]
        if len(cols) == 0:
            raise Refused(f"year {year} is not in the sweep (years {self.year.min()}-"
                          f"{self.year.max()})")
        block = data[:, cols]
        if flow:
            return np.where(np.all(np.isfinite(block), axis=1), np.nansum(block, axis=1), np.nan)
        return block[:, -1]

    def check_pair(self, i, j):
        a, b = self.runs.iloc[i], self.runs.iloc[j]
        who = f"runs {a.run_id} (arm {a.arm}) and {b.run_id} (arm {b.arm}), replicate {a.replicate}"
        if a.seed != b.seed:
            raise Refused(f"refusing to pair {who}: seeds differ ({a.seed} vs {b.seed})")
        if a.geography != b.geography:
            raise Refused(f"refusing to pair {who}: their geographies differ (geography data "
                          f"hashes {a.geography[:12]} vs {b.geography[:12]}); differences "
                          "between them would not be policy effects")
        pa, pb = params(a.parameters), params(b.parameters)
        allowed = set_keys(a["values"]) | set_keys(b["values"])
        differ = sorted(k for k in set(pa) | set(pb)
                        if pa.get(k) != pb.get(k) and k not in allowed)
        if differ:
            shown = ", ".join(f"{k} ({pa.get(k)} vs {pb.get(k)})" for k in differ[:8])
            raise Refused(f"refusing to pair {who}: non-policy parameters differ: {shown}")

    def compare(self, metrics, years, baseline):
        if baseline not in self.arms:
            raise Refused(f"--baseline {baseline!r} is not an arm; arms: {', '.join(self.arms)}")
        base_idx = {int(r.replicate): i for i, r in self.runs[self.runs.arm == baseline].iterrows()}
        # check every pair before computing anything
        for arm in self.arms:
            if arm == baseline:
                continue
            for i, r in self.runs[self.runs.arm == arm].iterrows():
                if int(r.replicate) in base_idx:
                    self.check_pair(base_idx[int(r.replicate)], i)
        rows = []
        for metric in metrics:
            for year in years:
                v = self.value(metric, year)
                for arm in self.arms:
                    idx = self.runs.index[self.runs.arm == arm]
                    m, lo, hi, n = mean_ci(v[idx])
                    row = dict(metric=metric, year=year, arm=arm, n=n, mean=m, lo=lo, hi=hi,
                               diff=np.nan, diff_lo=np.nan, diff_hi=np.nan, pairs=0)
                    if arm != baseline:
                        d = [v[i] - v[base_idx[int(self.runs.replicate[i])]]
                             for i in idx if int(self.runs.replicate[i]) in base_idx]
                        dm, dlo, dhi, npairs = mean_ci(d)
                        row.update(diff=dm, diff_lo=dlo, diff_hi=dhi, pairs=npairs)
                    rows.append(row)
        return pd.DataFrame(rows)


def fmt(x):
    if not np.isfinite(x):
        return "–"
    if abs(x) >= 1e6:
        return f"{x:.4g}"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:.4g}"


def markdown(df, baseline, units):
    lines = [f"| metric | year | arm | n | mean [95% CI] | effect vs {baseline} [95% CI] |",
             "|---|---|---|---|---|---|"]
    for r in df.itertuples():
        eff = "(baseline)" if r.arm == baseline else \
            f"{'+' if r.diff >= 0 else ''}{fmt(r.diff)} [{fmt(r.diff_lo)}, {fmt(r.diff_hi)}]"
        lines.append(f"| {r.metric} ({units[r.metric]}) | {r.year} | {r.arm} | {r.n} | "
                     f"{fmt(r.mean)} [{fmt(r.lo)}, {fmt(r.hi)}] | {eff} |")
    return "\n".join(lines) + "\n"


def forest(df, baseline, path):
    panels = list(dict.fromkeys(zip(df.metric, df.year)))
    fig, axes = plt.subplots(len(panels), 1, figsize=(7, 1.2 + 0.45 * len(df.arm.unique()) *
                                                      len(panels)), squeeze=False)
    for ax, (metric, year) in zip(axes[:, 0], panels):
        d = df[(df.metric == metric) & (df.year == year) & (df.arm != baseline)]
        y = np.arange(len(d))[::-1]
        err = np.vstack([d["diff"] - d["diff_lo"], d["diff_hi"] - d["diff"]])
        ax.errorbar(d["diff"], y, xerr=np.nan_to_num(err), fmt="o", color="C0", capsize=3)
        ax.axvline(0, color="grey", lw=0.8)
        ax.set_yticks(y)
        ax.set_yticklabels(d.arm)
        ax.set_title(f"{metric}, {year}: effect vs {baseline} (mean, 95% CI)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sweep_h5")
    ap.add_argument("--baseline")
    ap.add_argument("--metric", action="append")
    ap.add_argument("--year", action="append", type=int)
    ap.add_argument("--out", default="compare")
    a = ap.parse_args(argv)
    try:
        sw = Sweep(a.sweep_h5)
        metrics = a.metric or DEFAULT_METRICS
        years = a.year or [int(sw.year.max())]
        baseline = a.baseline or sw.baseline
        df = sw.compare(metrics, years, baseline)
    except (Refused, OSError, KeyError) as e:
        print(f"error: {a.sweep_h5}: {e}", file=sys.stderr)
        return 2
    os.makedirs(a.out, exist_ok=True)
    units = {m: sw.vars[m][2] for m in metrics}
    df.to_csv(os.path.join(a.out, "effects.csv"), index=False)
    md = markdown(df, baseline, units)
    with open(os.path.join(a.out, "effects.md"), "w") as f:
        f.write(md)
    forest(df, baseline, os.path.join(a.out, "forest.png"))
    print(md)
    for name in ("effects.csv", "effects.md", "forest.png"):
        print("wrote", os.path.join(a.out, name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
