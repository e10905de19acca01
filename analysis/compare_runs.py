#!/usr/bin/python3
"""Compare ruralsim runs: replicates of one scenario and scenarios (policies) against each other.

usage: compare_runs.py A.h5 B.h5 [more.h5 ...] [--var NAME ...] [--year Y ...]
                       [--reference SCENARIO] [--out DIR] [--no-plots]

Runs are grouped by scenario name (root attribute scenario_name); runs of one group are
replicates (different seed and/or replicate). Overrides given with --set do NOT make another
group: give the policy scenario its own `name:` (a warning is printed when one group mixes
different resolved scenarios).

For each variable (--var, repeatable; default stores, taobao_villages, taobao_towns,
sales_total, mean_household_income, gini_income) it prints, per calendar year, the national
value of each group -- stocks at year end, flows summed over the year (ruralsim_io.Run.annual) --
as the mean over replicates with a 95% t interval (scipy.stats.t) when the group has at least two
runs, then the difference of each group to the reference group (the first group, or
--reference). The difference interval is paired over (seed, replicate) when both groups hold the
same seeds and replicates -- the common-random-numbers design of docs/reproducibility.md --
otherwise Welch's interval; with one run per group only the point difference is shown.

It writes one PNG per variable to DIR (default ./compare_plots): replicates as thin lines, group
means with 95% bands and, when there are two or more groups, the difference to the reference with
its interval. The files written are listed at the end.
"""
import argparse
import os
import re
import sys
import warnings

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402
from scipy import stats  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ruralsim_io import RunFileError, exit_status, open_run, open_runs  # noqa: E402

DEFAULT_VARS = ["stores", "taobao_villages", "taobao_towns", "sales_total",
                "mean_household_income", "gini_income"]
CONF = 0.95


def mean_ci(values):
    """Mean and 95% t interval over axis 0, ignoring NaN; interval is NaN when n < 2."""
    values = np.asarray(values, dtype=float)
    n = np.sum(np.isfinite(values), axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(values, axis=0)
        sd = np.nanstd(values, axis=0, ddof=1)
        half = stats.t.ppf(0.5 + CONF / 2, np.maximum(n - 1, 1)) * sd / np.sqrt(n)
    half = np.where(n >= 2, half, np.nan)
    return mean, mean - half, mean + half, n


def welch_ci(a, b):
    """Difference mean(b) - mean(a) with Welch's 95% interval (per column)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    na, nb = np.sum(np.isfinite(a), 0), np.sum(np.isfinite(b), 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        va, vb = np.nanvar(a, 0, ddof=1) / na, np.nanvar(b, 0, ddof=1) / nb
        diff = np.nanmean(b, 0) - np.nanmean(a, 0)
        se = np.sqrt(va + vb)
        df = (va + vb) ** 2 / (va ** 2 / (na - 1) + vb ** 2 / (nb - 1))
        df = np.where(np.isfinite(df) & (df > 0), df, np.maximum(np.minimum(na, nb) - 1, 1))
        half = stats.t.ppf(0.5 + CONF / 2, df) * se
    half = np.where((na >= 2) & (nb >= 2), np.where(se > 0, half, 0.0), np.nan)
    return diff, diff - half, diff + half


def fmt(x):
    """4 significant digits; thousands separators for large numbers below 1e6."""
    if not np.isfinite(x):
        return "nan"
    if x == 0:
        return "0"
    if abs(x) >= 1e6 or abs(x) < 1e-3:
        return f"{x:.4g}"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.4g}"


def cell(m, lo, hi, signed=False):
    s = ("+" if signed and np.isfinite(m) and m > 0 else "") + fmt(m)
    if np.isfinite(lo) and np.isfinite(hi) and not lo == hi == m:
        s += f" [{fmt(lo)}, {fmt(hi)}]"
    return s


def wants_log(*arrays):
    vals = np.concatenate([np.asarray(a, dtype=float).ravel() for a in arrays])
    pos = vals[np.isfinite(vals) & (vals > 0)]
    return pos.size >= 2 and pos.max() / pos.min() > 100


def strip_seed(overrides):
    """The --set overrides without simulation.seed / simulation.replicate (--seed, --replicate
    are recorded as overrides too)."""
    return " ".join(t for t in overrides.split()
                    if not re.match(r"^simulation\.(seed|replicate)=", t))


def scenario_without_seed(text):
    """Resolved scenario text without simulation.seed and simulation.replicate, to detect
    a group that mixes different scenarios (e.g. --set overrides) under one name."""
    if not text:
        return ""
    keep, section = [], None
    for line in text.splitlines():
        if line and not line[0].isspace():
            section = line.split(":", 1)[0].strip()
        elif section == "simulation" and re.match(r"^  (seed|replicate)\s*:", line):
            continue
        keep.append(line)
    return "\n".join(keep)


def geography_hash(path):
    """SHA-256 of a file's /geography tables (the content-hash rule of check_h5.py restricted to
    /geography): equal for runs on the same geography."""
    import hashlib
    sha = hashlib.sha256()
    with h5py.File(path, "r") as f:
        names = []
        if "geography" in f:
            f["geography"].visititems(
                lambda n, o: names.append("/geography/" + n) if isinstance(o, h5py.Dataset)
                else None)
        for name in sorted(names, key=lambda x: x.encode()):
            ds = f[name]
            sha.update(name.encode() + b"\0")
            data = ds[()]
            if h5py.check_string_dtype(ds.dtype) is not None:
                for v in np.asarray(data, dtype=object).ravel():
                    sha.update((v if isinstance(v, bytes) else str(v).encode()) + b"\0")
            else:
                arr = np.ascontiguousarray(data)
                sha.update(arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes())
    return sha.hexdigest()


class Comparison:
    def __init__(self, paths, variables, reference=None, years=None):
        self.paths = paths
        # metadata and consistency checks
        self.resolved = []
        with open_run(paths[0]) as r0:
            info = r0.variables()
        unknown = [v for v in variables if v not in info]
        if unknown:
            raise SystemExit(f"compare_runs.py: unknown variable(s) {unknown}; the file has: "
                             + ", ".join(info))
        self.info = {v: info[v] for v in variables}
        self.variables = variables
        for p in paths:
            with open_run(p) as r:
                self.resolved.append(scenario_without_seed(r.provenance.get("scenario_resolved")))
        self.ds = open_runs(paths, annual=True, variables=variables)
        if years:
            missing = sorted(set(years) - set(self.ds["year"].values.tolist()))
            if missing:
                raise SystemExit(f"compare_runs.py: year(s) {missing} not in the runs")
            self.table_years = sorted(set(years))
        else:
            self.table_years = self.ds["year"].values.tolist()
        scen = self.ds["scenario"].values.tolist()
        self.groups = list(dict.fromkeys(scen))
        self.members = {g: [i for i, s in enumerate(scen) if s == g] for g in self.groups}
        if reference is not None:
            if reference not in self.groups:
                raise SystemExit(f"compare_runs.py: --reference {reference!r} is not one of "
                                 f"{self.groups}")
            self.groups.remove(reference)
            self.groups.insert(0, reference)
        self.reference = self.groups[0]
        self.keys = {g: [(int(self.ds["seed"].values[i]), int(self.ds["replicate"].values[i]))
                         for i in self.members[g]] for g in self.groups}
        self.notes = []
        self._check()

    def _check_geographies(self):
        """Refuses to compare runs on different geographies: their difference would mix the
        policy with another province. Pairs (same seed and replicate) must share a geography;
        unpaired groups must all be on the reference's one."""
        geo = [geography_hash(p) for p in self.paths]
        ref = self.reference
        for g in self.groups[1:]:
            if self.paired(g):
                for (key, i) in zip(self.keys[g], self.members[g]):
                    j = self.members[ref][self.keys[ref].index(key)]
                    if geo[i] != geo[j]:
                        raise SystemExit(
                            f"compare_runs.py: refusing to pair {self.paths[j]} ({ref}) with "
                            f"{self.paths[i]} ({g}), seed {key[0]} replicate {key[1]}: their "
                            "geographies differ (different /geography tables); the difference "
                            "would not be a policy effect. Run both on the same geography "
                            "(geography.* parameters and seed).")
            else:
                for i in self.members[g] + self.members[ref]:
                    if geo[i] != geo[self.members[ref][0]]:
                        raise SystemExit(
                            f"compare_runs.py: refusing to compare {self.paths[i]} with "
                            f"{self.paths[self.members[ref][0]]}: their geographies differ "
                            "(different /geography tables); the difference would not be a "
                            "policy effect. Run both on the same geography.")

    def _check(self):
        self._check_geographies()
        hashes = self.ds["content_hash"].values.tolist()
        for g in self.groups:
            idx = self.members[g]
            if len({self.resolved[i] for i in idx}) > 1:
                ov = sorted({strip_seed(str(self.ds['overrides'].values[i])) or '(none)'
                             for i in idx})
                self.notes.append(f"WARNING: group '{g}' mixes runs of different resolved "
                                  f"scenarios (overrides: {', '.join(ov)}); give each variant "
                                  "its own name: to compare them")
            if len(set(self.keys[g])) < len(idx):
                self.notes.append(f"WARNING: group '{g}' has runs with the same seed and "
                                  "replicate; they are not independent replicates")
            if len({hashes[i] for i in idx}) < len(idx):
                self.notes.append(f"WARNING: group '{g}' contains identical results (same "
                                  "content hash)")
        years = self.ds["year"].values
        lens = {int(np.isfinite(self.ds[self.variables[0]].values[i]).sum())
                for i in range(self.ds.sizes["run"])}
        if len(lens) > 1:
            self.notes.append(f"WARNING: runs cover different years ({years[0]}-{years[-1]} "
                              "overall); missing years are left out of the statistics")

    def paired(self, g):
        a, b = self.keys[self.reference], self.keys[g]
        return len(a) >= 2 and sorted(a) == sorted(b) and len(set(a)) == len(a)

    def values(self, g, var):
        """(n_runs, n_years) in a fixed (seed, replicate) order for pairing."""
        idx = [i for _, i in sorted(zip(self.keys[g], self.members[g]))]
        return self.ds[var].values[idx]

    def diff(self, g, var):
        a, b = self.values(self.reference, var), self.values(g, var)
        if self.paired(g):
            m, lo, hi, _ = mean_ci(b - a)
            return m, lo, hi, "paired"
        m, lo, hi = welch_ci(a, b)
        return m, lo, hi, "Welch" if (len(a) >= 2 and len(b) >= 2) else "point"

    # ---- table ----------------------------------------------------------------------------
    def print_tables(self, out=None):
        out = out or sys.stdout
        years = self.ds["year"].values.tolist()
        rows_idx = [years.index(y) for y in self.table_years]
        p = lambda *a: print(*a, file=out)  # noqa: E731
        p("Groups (by scenario name):")
        for g in self.groups:
            idx = self.members[g]
            ks = ", ".join(f"seed {s}" + (f" rep {r}" if r else "") for s, r in self.keys[g])
            ov = {strip_seed(str(self.ds["overrides"].values[i])) for i in idx} - {""}
            ovs = f"; overrides: {' | '.join(sorted(ov))}" if ov else ""
            ref = "  (reference)" if g == self.reference else ""
            p(f"  {g}: {len(idx)} run(s): {ks}{ovs}{ref}")
        for n in self.notes:
            p(n)
        p("Values: national, calendar year; mean over replicates [95% t interval] when n >= 2.")
        for var in self.variables:
            v = self.info[var]
            unit = self.ds[var].attrs.get("annual_units", v.units) or "-"
            agg = self.ds[var].attrs.get("annual_aggregation", "")
            p("")
            p(f"{var} [{unit}] -- {agg}")
            header = ["year"] + [f"{g} (n={len(self.members[g])})" for g in self.groups]
            methods = []
            cols = [[str(y) for y in self.table_years]]
            for g in self.groups:
                m, lo, hi, _ = mean_ci(self.values(g, var))
                cols.append([cell(m[i], lo[i], hi[i]) for i in rows_idx])
            for g in self.groups[1:]:
                m, lo, hi, how = self.diff(g, var)
                methods.append(f"{g} - {self.reference}: {how}")
                header.append(f"{g} - {self.reference}")
                cols.append([cell(m[i], lo[i], hi[i], signed=True) for i in rows_idx])
            widths = [max(len(h), *(len(c) for c in col)) for h, col in zip(header, cols)]
            p("  ".join(h.rjust(w) if k == 0 else h.ljust(w)
                        for k, (h, w) in enumerate(zip(header, widths))))
            for r in range(len(rows_idx)):
                p("  ".join(col[r].rjust(w) if k == 0 else col[r].ljust(w)
                            for k, (col, w) in enumerate(zip(cols, widths))))
            if methods:
                p("  difference interval: " + "; ".join(methods))

    # ---- plots ----------------------------------------------------------------------------
    def plot(self, outdir):
        os.makedirs(outdir, exist_ok=True)
        years = self.ds["year"].values
        written = []
        two = len(self.groups) > 1
        for var in self.variables:
            v = self.info[var]
            unit = self.ds[var].attrs.get("annual_units", v.units) or "-"
            fig, axes = plt.subplots(2 if two else 1, 1, figsize=(9, 7.4 if two else 4.6),
                                     sharex=True, squeeze=False)
            ax = axes[0, 0]
            allvals = []
            for k, g in enumerate(self.groups):
                vals = self.values(g, var)
                allvals.append(vals)
                color = f"C{k % 10}"
                for row in vals:
                    ax.plot(years, row, color=color, lw=0.7, alpha=0.35)
                m, lo, hi, n = mean_ci(vals)
                ax.plot(years, m, color=color, lw=2, marker="o", ms=3,
                        label=f"{g} (n={len(vals)})" + (" mean, 95% band" if len(vals) > 1
                                                      else ""))
                if len(vals) > 1:
                    ax.fill_between(years, lo, hi, color=color, alpha=0.2, lw=0)
            log = v.flow and wants_log(*allvals)
            if log:
                # limits from the runs, not the bands (a band's lower end can be <= 0)
                data = np.concatenate([a.ravel() for a in allvals])
                data = data[np.isfinite(data) & (data > 0)]
                ax.set_yscale("log")
                ax.set_ylim(data.min() / 2, data.max() * 2)
            else:
                finite = np.concatenate([a.ravel() for a in allvals])
                finite = finite[np.isfinite(finite)]
                if finite.size and finite.min() >= 0 and var not in ("gini_income",) \
                        and (finite.max() <= 0 or finite.min() / finite.max() < 0.5):
                    ax.set_ylim(bottom=0)
                ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 5), useMathText=True)
            ax.set_ylabel(f"{var} [{unit}]", fontsize=9)
            if any(len(a) > 1 for a in allvals):
                ax.plot([], [], color="0.5", lw=0.7, alpha=0.6, label="single runs (replicates)")
            ax.legend(fontsize=8, loc="best")
            if two:
                ax2 = axes[1, 0]
                ax2.axhline(0, color="0.3", lw=0.8)
                for k, g in enumerate(self.groups[1:], start=1):
                    m, lo, hi, how = self.diff(g, var)
                    color = f"C{k % 10}"
                    ax2.plot(years, m, color=color, lw=2, marker="o", ms=3,
                             label=f"{g} - {self.reference}"
                                   + ("" if how == "point" else f" ({how} 95% interval)"))
                    if how != "point":
                        ax2.fill_between(years, lo, hi, color=color, alpha=0.2, lw=0)
                ax2.set_ylabel(f"difference [{unit}]", fontsize=9)
                ax2.legend(fontsize=8, loc="best")
                ax2.ticklabel_format(axis="y", style="sci", scilimits=(-3, 5), useMathText=True)
            for a in axes.ravel():
                a.grid(True, alpha=0.3)
                a.xaxis.set_major_locator(MaxNLocator(integer=True))
            agg = self.ds[var].attrs.get("annual_aggregation", "")
            axes[-1, 0].set_xlabel(f"calendar year (values: {agg})", fontsize=8)
            groups = ", ".join(f"{g} (n={len(self.members[g])})" for g in self.groups)
            fig.suptitle(f"{var} — national, by scenario\n{groups}", fontsize=11)
            fig.tight_layout()
            path = os.path.join(outdir, f"compare_{var}.png")
            fig.savefig(path, dpi=120)
            plt.close(fig)
            written.append(path)
        return written


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n".join(__doc__.split("\n")[4:]))
    ap.add_argument("files", nargs="+", help="ruralsim result files (.h5)")
    ap.add_argument("--var", action="append", dest="vars", metavar="NAME",
                    help="output variable (repeatable; default: " + ", ".join(DEFAULT_VARS) + ")")
    ap.add_argument("--year", action="append", type=int, dest="years", metavar="Y",
                    help="only these years in the printed table (repeatable; default all)")
    ap.add_argument("--reference", metavar="SCENARIO",
                    help="scenario name the others are compared with (default: the first)")
    ap.add_argument("--out", default="compare_plots", help="directory for the PNGs "
                    "(default ./compare_plots)")
    ap.add_argument("--no-plots", action="store_true", help="print the tables only")
    args = ap.parse_args(argv)
    if len(args.files) < 2:
        ap.error("give at least two result files")
    for f in args.files:
        if not os.path.isfile(f):
            ap.error(f"no such file: {f}")
    variables = list(dict.fromkeys(args.vars or DEFAULT_VARS))
    comp = Comparison(args.files, variables, args.reference, args.years)
    comp.print_tables()
    if not args.no_plots:
        written = comp.plot(args.out)
        print("")
        print("wrote:")
        for p in written:
            print(p)
    return 0


if __name__ == "__main__":
    sys.exit(exit_status(main, None, "compare_runs.py", (RunFileError,), "file(s)"))
