#!/usr/bin/python3
"""One HTML page for a collected sweep, with its figures beside it.

usage: sweep_report.py SWEEP_DIR [--out DIR] [--baseline ARM] [--metric M]... [--quiet]
       (normally called as `ruralsim report SWEEP_DIR`, which collects the sweep first when
       DIR/sweep.h5 is missing or older than a run's output)

Reads SWEEP_DIR/sweep.h5 (`ruralsim sweep collect`), plan.yaml and sweep.yaml and writes
DIR/index.html (default DIR: SWEEP_DIR/report) with, beside it:

  time_paths.png   per arm and calendar year, the mean over replicates (line) and the
                   min-max over replicates (band) of stores, Taobao Villages, mean household
                   income, and the income of store households (solid) against their
                   counterfactual base income (dashed)
  forest.png       the paired effects of every arm against the baseline arm in the last year,
                   with 95% t intervals (sweep_compare.forest); also effects.csv
  tornado.png      design sweeps (Latin hypercube or Sobol) only: standardised regression
                   coefficients (SRC) and partial rank correlation coefficients (PRCC) of every
                   varied parameter on each outcome in the last year; also sensitivity.csv

Calendar-year values are those of `sweep compare` (sweep_compare.Sweep.value: year-end value of
a stock, sum over the year of a flow). A directory that is not a planned sweep, a sweep that is
not collected, collected with --partial or collected before its last run gives one line on
stderr and exit status 2.
"""
import argparse
import html
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import sweep_compare as sc  # noqa: E402
from ruralsim_io import exit_status  # noqa: E402

PROG = os.environ.get("RURALSIM_REPORT_PROG", "sweep_report.py")
DPI = 110
#: (title, variables) of the panels of time_paths.png
PATHS = [("Stores", ["stores"]),
         ("Taobao Villages", ["taobao_villages"]),
         ("Mean household income", ["mean_household_income"]),
         ("Store households: income (solid) vs base (dashed)",
          ["store_household_income", "store_household_base"])]
SENS_OUTCOMES = ["stores", "taobao_villages", "sales_total", "mean_household_income"]


class SweepReportError(Exception):
    """An unusable sweep directory or bad arguments (exit status 2)."""


# ---- sensitivity ---------------------------------------------------------------------------
def _z(a):
    a = np.asarray(a, float)
    s = a.std(axis=0, ddof=1)
    return (a - a.mean(axis=0)) / np.where(s > 0, s, np.nan)


def src(X, y):
    """Standardised regression coefficients of y (n) on the columns of X (n, k) and the R² of
    the linear fit; NaN when y is constant or there are too few points (n <= k + 1)."""
    X, y = np.asarray(X, float), np.asarray(y, float)
    n, k = X.shape
    if n <= k + 1 or not np.all(np.isfinite(y)) or np.std(y) == 0:
        return np.full(k, np.nan), np.nan
    Xz, yz = _z(X), _z(y)
    ok = np.all(np.isfinite(Xz), axis=0)
    beta = np.full(k, np.nan)
    coef, *_ = np.linalg.lstsq(Xz[:, ok], yz, rcond=None)
    beta[ok] = coef
    resid = yz - Xz[:, ok] @ coef
    return beta, float(1 - resid @ resid / (yz @ yz))


def prcc(X, y):
    """Partial rank correlation of y with each column of X, controlling for the other columns
    (correlation of the residuals of the ranks regressed on the other ranks)."""
    X, y = np.asarray(X, float), np.asarray(y, float)
    n, k = X.shape
    out = np.full(k, np.nan)
    if n <= k + 1 or not np.all(np.isfinite(y)) or np.std(y) == 0:
        return out
    R = np.column_stack([stats.rankdata(X[:, j]) for j in range(k)])
    ry = stats.rankdata(y)
    for j in range(k):
        if np.std(R[:, j]) == 0:
            continue
        others = np.column_stack([np.ones(n)] + [R[:, i] for i in range(k) if i != j])
        rx = R[:, j] - others @ np.linalg.lstsq(others, R[:, j], rcond=None)[0]
        rr = ry - others @ np.linalg.lstsq(others, ry, rcond=None)[0]
        d = np.sqrt((rx @ rx) * (rr @ rr))
        out[j] = rx @ rr / d if d > 0 else np.nan
    return out


def design_matrix(values):
    """Parameters that vary across runs, from the manifest's `values` strings
    ("a.b=1; c.d=2"): returns (names, X (run, parameter))."""
    rows = []
    for v in values:
        d = {}
        for kv in sc.text(v).split(";"):
            if "=" in kv:
                k, x = kv.split("=", 1)
                try:
                    d[k.strip()] = float(x)
                except ValueError:
                    d[k.strip()] = np.nan
        rows.append(d)
    df = pd.DataFrame(rows)
    names = [c for c in df.columns
             if df[c].notna().all() and df[c].nunique() > 1]
    return names, df[names].to_numpy(float)


def sensitivity(names, X, outcomes):
    """outcomes: {name: y (run)} -> DataFrame outcome, parameter, src, prcc, r2."""
    rows = []
    for o, y in outcomes.items():
        b, r2 = src(X, y)
        p = prcc(X, y)
        for j, name in enumerate(names):
            rows.append(dict(outcome=o, parameter=name, src=b[j], prcc=p[j], r2=r2))
    return pd.DataFrame(rows)


# ---- loading -------------------------------------------------------------------------------
def read_plan(d):
    plan = {}
    with open(os.path.join(d, "plan.yaml"), encoding="utf-8") as f:
        for line in f:
            if ":" in line and not line.startswith((" ", "#")):
                k, v = line.split(":", 1)
                plan[k.strip()] = v.strip()
    return plan


def check_sweep_dir(d):
    """Raises SweepReportError unless `d` is a planned sweep collected after all its runs."""
    if not os.path.isdir(d):
        raise SweepReportError(f"{d}: not a directory")
    if not os.path.isfile(os.path.join(d, "plan.yaml")):
        raise SweepReportError(f"{d}: not a sweep directory (no plan.yaml; plan one with "
                               "`ruralsim sweep plan SWEEP.yaml --out DIR`)")
    h5 = os.path.join(d, "sweep.h5")
    man = pd.read_csv(os.path.join(d, "manifest.tsv"), sep="\t", dtype=str)
    missing = [r for r in man.output if not os.path.isfile(os.path.join(d, r))]
    if missing:
        raise SweepReportError(f"{d}: {len(missing)} of {len(man)} runs are not finished; run "
                               f"`ruralsim sweep run {d}` first (see `ruralsim sweep status {d}`)")
    if not os.path.isfile(h5):
        raise SweepReportError(f"{d}: the sweep is not collected (no sweep.h5); run `ruralsim "
                               f"sweep collect {d}` (or `ruralsim report {d}`, which collects)")
    if any(os.path.getmtime(os.path.join(d, r)) > os.path.getmtime(h5) for r in man.output):
        raise SweepReportError(f"{d}: sweep.h5 is older than a run's output; collect again with "
                               f"`ruralsim sweep collect {d}`")
    return h5, man


# ---- figures -------------------------------------------------------------------------------
def annual(sw, name):
    years = sorted(set(int(y) for y in sw.year))
    return years, np.column_stack([sw.value(name, y) for y in years])


def time_paths(sw, path):
    fig, axes = plt.subplots(2, 2, figsize=(11, 7.5), squeeze=False)
    many = len(sw.arms) > 10
    cmap = plt.get_cmap("viridis" if many else "tab10")
    for ax, (title, names) in zip(axes.ravel(), PATHS):
        present = [n for n in names if n in sw.vars]
        if not present:
            ax.text(0.5, 0.5, "not in the sweep file", ha="center", transform=ax.transAxes)
            ax.set_title(title, fontsize=10)
            continue
        for i, arm in enumerate(sw.arms):
            c = cmap(i / max(len(sw.arms) - 1, 1)) if many else cmap(i % 10)
            idx = sw.runs.index[sw.runs.arm == arm]
            for n, ls in zip(present, ["-", "--"]):
                years, v = annual(sw, n)
                v = v[idx]
                with np.errstate(all="ignore"):
                    m = np.nanmean(v, axis=0)
                ax.plot(years, m, ls, color=c, lw=1.4,
                        label=arm if n == present[0] else None)
                if len(idx) > 1:
                    ax.fill_between(years, np.nanmin(v, axis=0), np.nanmax(v, axis=0),
                                    color=c, alpha=0.15, lw=0)
        unit = sw.vars[present[0]][2]
        ax.set_title(title, fontsize=10)
        ax.set_ylabel(unit)
        ax.set_xlabel("year")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(alpha=0.3)
    h, lab = axes[0, 0].get_legend_handles_labels()
    if h and not many:
        fig.legend(h, lab, loc="lower center", ncol=min(len(lab), 5), fontsize=8,
                   title="arm: mean over replicates, band min–max")
        fig.tight_layout(rect=(0, 0.08, 1, 1))
    else:
        fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def tornado(sens, path):
    outcomes = list(dict.fromkeys(sens.outcome))
    k = sens.parameter.nunique()
    fig, axes = plt.subplots(1, len(outcomes), figsize=(3.2 * len(outcomes) + 1.5, 1.2 + 0.5 * k),
                             squeeze=False)
    for ax, o in zip(axes[0], outcomes):
        d = sens[sens.outcome == o].copy()
        d["order"] = -np.nan_to_num(d.src.abs(), nan=-1)
        d = d.sort_values("order", ascending=False)
        y = np.arange(len(d))
        ax.barh(y + 0.2, np.nan_to_num(d.src), height=0.4, color="C0", label="SRC")
        ax.barh(y - 0.2, np.nan_to_num(d.prcc), height=0.4, color="C1", label="PRCC")
        ax.axvline(0, color="grey", lw=0.8)
        ax.set_xlim(-1.05, 1.05)
        ax.invert_yaxis()  # largest |SRC| on top
        ax.set_xlabel("coefficient")
        ax.set_yticks(y)
        ax.set_yticklabels(d.parameter, fontsize=8)
        r2 = d.r2.iloc[0] if len(d) else np.nan
        ax.set_title(f"{o}\n(R² of linear fit {sc.fmt(r2)})" if np.isfinite(r2)
                     else f"{o}\n(constant or too few points)", fontsize=9)
    h, lab = axes[0, 0].get_legend_handles_labels()
    fig.legend(h, lab, loc="upper right", fontsize=8)
    fig.tight_layout(rect=(0, 0, 0.93, 1))
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def message_png(path, msg):
    fig, ax = plt.subplots(figsize=(6, 1.5))
    ax.axis("off")
    ax.text(0.5, 0.5, msg, ha="center", va="center", wrap=True, fontsize=9)
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


# ---- the page ------------------------------------------------------------------------------
def table_html(df, cols, fmts=None):
    e = html.escape
    fmts = fmts or {}
    head = "".join(f"<th>{e(c)}</th>" for c in cols)
    body = []
    for r in df[cols].itertuples(index=False):
        cells = []
        for c, v in zip(cols, r):
            f = fmts.get(c)
            cells.append(f"<td>{e(f(v) if f else str(v))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>\n" + "\n".join(body) + "\n</table>"


def make_report(sweep_dir, outdir=None, baseline=None, metrics=None):
    h5, manifest = check_sweep_dir(sweep_dir)
    plan = read_plan(sweep_dir)
    sw = sc.Sweep(h5)
    import h5py
    with h5py.File(h5, "r") as f:
        attrs = {k: sc.text(v) for k, v in f.attrs.items()}
    if attrs.get("partial") == "true" and attrs.get("runs_collected") != attrs.get("runs_planned"):
        raise SweepReportError(
            f"{sweep_dir}: sweep.h5 was collected with --partial ({attrs.get('runs_collected')} of "
            f"{attrs.get('runs_planned')} runs); finish the sweep and collect it again")
    outdir = outdir or os.path.join(sweep_dir, "report")
    if os.path.exists(outdir) and not os.path.isdir(outdir):
        raise SweepReportError(f"--out {outdir}: exists and is not a directory")
    os.makedirs(outdir, exist_ok=True)
    last = int(sw.year.max())
    baseline = baseline or sw.baseline
    metrics = metrics or sc.DEFAULT_METRICS
    for m in metrics:
        if m not in sw.vars:
            raise SweepReportError(f"unknown metric {m!r}; valid: {', '.join(sorted(sw.vars))}")
    files = ["time_paths.png", "forest.png", "effects.csv"]

    time_paths(sw, os.path.join(outdir, "time_paths.png"))

    e = html.escape
    try:
        eff = sw.compare(metrics, [last], baseline)
        eff.to_csv(os.path.join(outdir, "effects.csv"), index=False)
        sc.forest(eff, baseline, os.path.join(outdir, "forest.png"))
        units = {m: sw.vars[m][2] for m in metrics}
        eff_t = eff.assign(
            metric=[f"{m} ({units[m]})" for m in eff.metric],
            mean_ci=[f"{sc.fmt(a)} [{sc.fmt(b)}, {sc.fmt(c)}]"
                     for a, b, c in zip(eff["mean"], eff.lo, eff.hi)],
            effect=["(baseline)" if a == baseline else
                    f"{'+' if d >= 0 else ''}{sc.fmt(d)} [{sc.fmt(lo)}, {sc.fmt(hi)}]"
                    for a, d, lo, hi in zip(eff.arm, eff["diff"], eff.diff_lo, eff.diff_hi)])
        eff_html = table_html(eff_t.rename(columns={"mean_ci": "mean [95% CI]",
                                                    "effect": f"effect vs {baseline} [95% CI]"}),
                              ["metric", "year", "arm", "n", "mean [95% CI]",
                               f"effect vs {baseline} [95% CI]"])
    except sc.Refused as ex:
        if baseline not in sw.arms:
            raise SweepReportError(str(ex)) from None
        pd.DataFrame().to_csv(os.path.join(outdir, "effects.csv"), index=False)
        message_png(os.path.join(outdir, "forest.png"), f"no effects: {ex}")
        eff_html = f"<p><b>No effects:</b> {e(str(ex))}</p>"

    design = plan.get("kind") == "design"
    sens_html = ("<p>Not a design sweep (kind: " + e(plan.get("kind", "?")) +
                 "): no sensitivity analysis.</p>")
    if design:
        names, X = design_matrix(sw.runs["values"])
        outs = {o: sw.value(o, last) for o in SENS_OUTCOMES if o in sw.vars}
        files += ["tornado.png", "sensitivity.csv"]
        if names:
            sens = sensitivity(names, X, outs)
            sens.to_csv(os.path.join(outdir, "sensitivity.csv"), index=False)
            tornado(sens, os.path.join(outdir, "tornado.png"))
            f3 = lambda v: sc.fmt(v) if not np.isfinite(v) else f"{v:+.3f}"  # noqa: E731
            sens_html = table_html(sens, ["outcome", "parameter", "src", "prcc", "r2"],
                                   {"src": f3, "prcc": f3, "r2": f3})
        else:
            pd.DataFrame().to_csv(os.path.join(outdir, "sensitivity.csv"), index=False)
            message_png(os.path.join(outdir, "tornado.png"), "no parameter varies across runs")
            sens_html = "<p>No parameter varies across the runs.</p>"

    # provenance
    arms = manifest.groupby("arm", sort=False).agg(
        replicates=("replicate", "count"), seeds=("seed", lambda s: ", ".join(sorted(set(s)))),
        values=("values", "first")).reset_index()
    sweep_yaml = ""
    p = os.path.join(sweep_dir, "sweep.yaml")
    if os.path.isfile(p):
        with open(p, encoding="utf-8") as f:
            sweep_yaml = f.read()
    prov_rows = [("sweep", attrs.get("sweep_name", plan.get("name", "?"))),
                 ("sweep file", plan.get("sweep_file", "?")),
                 ("kind", plan.get("kind", "?")),
                 ("base scenario", plan.get("base_scenario", "?")),
                 ("baseline arm", baseline),
                 ("arms × replicates", f"{plan.get('arms', '?')} × {plan.get('replicates', '?')}"),
                 ("master seed", plan.get("master_seed", "?")),
                 ("runs planned / collected", f"{attrs.get('runs_planned')} / "
                                              f"{attrs.get('runs_collected')}"),
                 ("years", f"{int(sw.year.min())}–{last}"),
                 ("sum of run times", f"{np.nansum(pd.to_numeric(sw_wall(h5))):.1f} s"),
                 ("ruralsim version (plan / collect)",
                  f"{plan.get('ruralsim_version', '?')} / {attrs.get('ruralsim_version', '?')}"),
                 ("commit (plan / collect)",
                  f"{plan.get('git_commit', '?')} / {attrs.get('git_commit', '?')}"),
                 ("geographies", str(sw.runs.geography.nunique()))]
    prov = "\n".join(f"<tr><th>{e(k)}</th><td>{e(str(v))}</td></tr>" for k, v in prov_rows)
    tor = ('<figure><img src="tornado.png" alt="tornado plot of SRC and PRCC"><figcaption>'
           "Standardised regression coefficients (SRC, blue) and partial rank correlations "
           f"(PRCC, orange) of each varied parameter on each outcome in {last}, parameters "
           "sorted by |SRC|. <a href=\"sensitivity.csv\">sensitivity.csv</a></figcaption>"
           "</figure>") if design else ""
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>ruralsim sweep report: {e(attrs.get('sweep_name', ''))}</title>
<style>
body {{ font-family: sans-serif; max-width: 1100px; margin: 1em auto; padding: 0 1em; }}
img {{ max-width: 100%; border: 1px solid #eee; }}
table {{ border-collapse: collapse; font-size: 0.8em; margin: 0.5em 0; }}
th, td {{ border: 1px solid #ddd; padding: 2px 6px; text-align: right; }}
table.prov th, table.prov td {{ text-align: left; }}
pre {{ background: #f6f6f6; padding: 0.5em; font-size: 0.8em; }}
</style>
</head>
<body>
<h1>ruralsim sweep report: {e(attrs.get('sweep_name', ''))}</h1>
<p>{e(plan.get('kind', ''))} sweep of {e(plan.get('base_scenario', ''))}: {len(sw.arms)} arms,
{len(sw.runs)} runs, {int(sw.year.min())}–{last}. Calendar-year values: stocks at the end of the
year, flows summed over the year.</p>
<nav><p><a href="#paths">Time paths</a> · <a href="#effects">Effects</a> ·
<a href="#sensitivity">Sensitivity</a> · <a href="#provenance">Provenance</a></p></nav>
<section id="paths"><h2>Time paths per arm</h2>
<figure><img src="time_paths.png" alt="time paths per arm"><figcaption>Mean over replicates
(line) and min–max over replicates (band) per arm.</figcaption></figure></section>
<section id="effects"><h2>Effects against {e(baseline)} in {last}</h2>
<p>Paired differences (replicate r of an arm minus replicate r of {e(baseline)}: common random
numbers) with 95% t intervals, as <code>ruralsim sweep compare</code>.
<a href="effects.csv">effects.csv</a></p>
<figure><img src="forest.png" alt="forest plot of effects"></figure>
{eff_html}</section>
<section id="sensitivity"><h2>Sensitivity</h2>
{tor}
{sens_html}</section>
<section id="provenance"><h2>Provenance</h2>
<table class="prov">
{prov}
</table>
<h3>Arms</h3>
{table_html(arms, ["arm", "replicates", "seeds", "values"])}
<h3>Sweep file</h3>
<pre>{e(sweep_yaml)}</pre>
</section>
<p><small>Made by analysis/sweep_report.py from {e(os.path.abspath(h5))}.</small></p>
</body>
</html>
"""
    index = os.path.join(outdir, "index.html")
    with open(index, "w", encoding="utf-8") as f:
        f.write(page)
    return index, files


def sw_wall(h5):
    import h5py
    with h5py.File(h5, "r") as f:
        return f["manifest/wall_seconds"][:] if "wall_seconds" in f["manifest"] else [np.nan]


def main(argv=None):
    ap = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n".join(__doc__.split("\n")[4:]))
    ap.add_argument("sweep_dir", help="a planned, run and collected sweep directory")
    ap.add_argument("--out", help="output directory (default SWEEP_DIR/report)")
    ap.add_argument("--baseline", help="arm the effects are computed against (default: the "
                                       "sweep's baseline arm)")
    ap.add_argument("--metric", action="append",
                    help=f"metric of the effects (repeatable; default {sc.DEFAULT_METRICS})")
    ap.add_argument("--quiet", action="store_true", help="print nothing on success")
    a = ap.parse_args(argv)
    index, _ = make_report(a.sweep_dir, a.out, a.baseline, a.metric)
    if not a.quiet:
        print(index)
    return 0


def main_or_exit_2(argv=None):
    return exit_status(main, argv, PROG, (SweepReportError, sc.Refused), "sweep")

if __name__ == "__main__":
    sys.exit(main_or_exit_2())
