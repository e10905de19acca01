#!/usr/bin/python3
"""One HTML page telling the story of one ruralsim run, with its figures beside it.

usage: report.py RUN.h5 [--out DIR] [--years Y [Y ...]] [--quiet]

Writes DIR/index.html and the PNG figures it shows (default DIR: <RUN without .h5>_report next
to the file); nothing is fetched from the network, so the directory can be copied and opened
anywhere. Prints the path of index.html. Figures (FIGURES below):

  dashboard.png      national series per calendar year: stores, sales by channel, Taobao
                     Villages and Towns, stations and county centres, livestreamers, employment,
                     household income (total and base), income from e-commerce by source,
                     buyer-side savings, Gini, urban/rural income ratio, followers' top decile
  who_gains.png      what store households earn against their counterfactual base income, the
                     share of households running a store, and concentration of store sales
                     (top 1% share, share of large stores)
  taobao_calibration.png
                     Taobao Villages and Towns against the public figures of
                     data/calibration_targets.yaml scaled to the run's share of national
                     households (market.national_households)
  map_villages.png   villages at (x, y) coloured by status (no store, stores, Taobao Village) at
                     the chosen years (--years; default three years spread over the run)
  map_counties.png   stores per 1,000 households by county in the last year; a county is drawn
                     as the convex hull of its villages
  ranking.png        provinces and counties ranked by Taobao Villages in the last year
  ccdf.png           log-log CCDF of each store's annual sales (all, full-time, side
                     businesses) and of each livestreamer's followers, from the snapshot of the
                     last year (/snapshots); for files without snapshots, of villages' annual
                     sales and county means of followers, with a caption that says so
  interventions.png  the interventions of the scenario on a timeline, with their target counties
                     and the stores and Taobao Villages around them

Next to index.html, summary.json says what some figures were drawn from (for ccdf.png: the
snapshot year, store and livestreamer counts and totals, or "aggregates").

Calendar-year values come from ruralsim_io.Run.annual() (flows summed over the year, stocks at
the last record of the year). A file that is missing, not HDF5, truncated, not a ruralsim
result or whose content hash does not match gives one line on stderr and exit status 2.
"""
import argparse
import html
import json
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import LogNorm, Normalize  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch, Polygon  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from ruralsim_io import RunFileError, exit_status, open_run  # noqa: E402

PROG = os.environ.get("RURALSIM_REPORT_PROG", "report.py")  # `ruralsim report` sets it
DPI = 110
#: File name -> one-line description; every report writes all of them (a figure whose data
#: are absent says so inside the image).
FIGURES = {
    "dashboard.png": "National dashboard",
    "who_gains.png": "Who gains: store households against their counterfactual, concentration",
    "taobao_calibration.png": "Taobao Villages and Towns against public figures",
    "map_villages.png": "Villages by status at chosen years",
    "map_counties.png": "Stores per 1,000 households by county",
    "ranking.png": "Provinces and counties ranked by Taobao Villages",
    "ccdf.png": "Distributions (log-log CCDF)",
    "interventions.png": "Interventions on a timeline",
}
#: Written next to index.html: what the figures were drawn from (e.g. "ccdf": {"source":
#: "snapshots" or "aggregates", "year", counts and totals, "caption"}).
SUMMARY = "summary.json"
CALIBRATION_FILE = os.path.join(os.path.dirname(HERE), "data", "calibration_targets.yaml")
STATUS_COLOURS = {"no store": "#d0d0d0", "stores": "#3182bd", "Taobao Village": "#d62728"}


class ReportError(Exception):
    """A problem with the arguments or the output directory (exit status 2)."""


# ---- small helpers -------------------------------------------------------------------------
def wants_log(*arrays):
    vals = np.concatenate([np.asarray(a, dtype=float).ravel() for a in arrays])
    pos = vals[np.isfinite(vals) & (vals > 0)]
    return pos.size >= 2 and pos.max() / pos.min() > 100


def fmt_num(x, digits=3):
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    x = float(x)
    if x == int(x) and abs(x) < 1e7:
        return f"{int(x):,}"
    if abs(x) >= 1e5 or (x != 0 and abs(x) < 1e-2):
        return f"{x:.{digits}g}"
    return f"{x:,.{digits}g}" if abs(x) < 1 else f"{x:,.1f}"


def resolved_scenario(run):
    """The resolved scenario as a dict (python3-yaml), or {} if it cannot be parsed."""
    text = run.provenance.get("scenario_resolved") or ""
    try:
        import yaml
        data = yaml.safe_load(text)
        return data if isinstance(data, dict) else {}
    except Exception:  # noqa: BLE001 - the report still works without it
        return {}


def calibration_targets(path=CALIBRATION_FILE):
    try:
        import yaml
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh) or {}
        return data.get("targets", {}) or {}
    except (OSError, ImportError, ValueError, AttributeError):
        return {}
    except Exception:  # noqa: BLE001 - yaml.YAMLError and friends
        return {}


def no_data(ax, text):
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="0.35",
            fontsize=9, wrap=True)
    ax.set_xticks([])
    ax.set_yticks([])


def hull(points):
    """Convex hull (counter-clockwise) of an (n, 2) array; monotone chain, no scipy needed."""
    pts = sorted(set(map(tuple, np.asarray(points, dtype=float))))
    if len(pts) <= 2:
        return np.array(pts)

    def cross(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower, upper = [], []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return np.array(lower[:-1] + upper[:-1])


# ---- the report ----------------------------------------------------------------------------
class Report:
    def __init__(self, run, outdir, years=None):
        self.run = run
        self.outdir = outdir
        self.ann = run.annual().load()
        self.county = run.annual("county").load()
        self.province = run.annual("province").load()
        self.years = self.ann["year"].values.astype(int)
        self.last = int(self.years[-1])
        self.info = run.variables()
        self.scenario = resolved_scenario(run)
        self.va = run.village_annual
        self.villages = run.geography("villages")
        self.counties = run.geography("counties")
        self.provinces = run.geography("provinces")
        self.events = run.events
        self.map_years = self._map_years(years)
        self.notes = {}  # figure -> list of sentences for the caption
        self.summary = {}  # what some figures show, written to summary.json
        self.ccdf_caption = ""
        self.written = []

    # -- data access
    def has(self, name):
        return name in self.ann.data_vars

    def series(self, name, ds=None):
        ds = self.ann if ds is None else ds
        return ds[name].values.astype(float) if name in ds.data_vars else None

    def unit(self, name):
        da = self.ann[name]
        u = da.attrs.get("annual_units") or da.attrs.get("units", "")
        return "-" if u in ("", "-") else u

    def param(self, dotted, default=None):
        sec, _, key = dotted.partition(".")
        try:
            return self.scenario[sec][key]
        except (KeyError, TypeError):
            return default

    def _map_years(self, years):
        if years:
            bad = [y for y in years if y not in set(self.years.tolist())]
            if bad:
                raise ReportError(f"--years {bad} not in the run ({self.years[0]}-{self.last})")
            return sorted(set(years))
        n = len(self.years)
        if n <= 3:
            return self.years.tolist()
        picks = [self.years[round((n - 1) / 3)], self.years[round(2 * (n - 1) / 3)], self.last]
        return sorted(set(int(y) for y in picks))

    def save(self, fig, name):
        path = os.path.join(self.outdir, name)
        fig.savefig(path, dpi=DPI)
        plt.close(fig)
        self.written.append(path)

    def line(self, ax, name, label=None, log=None, **kw):
        y = self.series(name)
        if y is None:
            no_data(ax, f"{name} not in this file")
            return None
        if log is None:
            log = wants_log(y)
        if log:
            ax.set_yscale("log")
            y = np.where(y > 0, y, np.nan)
        ax.plot(self.years, y, marker="o", ms=2.5, label=label or name.replace("_", " "), **kw)
        return y

    def finish_axes(self, axes, free=()):
        """Grid, integer years, linear y axes from zero except those in `free` (ratios)."""
        for ax in np.ravel(axes):
            if not ax.get_visible() or not ax.has_data():
                continue
            ax.grid(True, alpha=0.3)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=7))
            if ax.get_yscale() == "linear":
                if ax not in free and min(ax.get_ylim()) >= 0:
                    ax.set_ylim(bottom=0)
                ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 5), useMathText=True)

    # -- figures
    def dashboard(self):
        fig, axes = plt.subplots(4, 3, figsize=(13, 12.5), sharex=True)
        ax = axes.ravel()
        fig.suptitle(f"National dashboard — {self.run.label}\n"
                     "calendar years; stocks at year end, flows summed over the year",
                     fontsize=11)
        # 1 stores
        self.line(ax[0], "stores", "live stores (year end)", log=False, color="C0")
        if self.has("new_stores"):
            ax[0].plot(self.years, self.series("new_stores"), "--", color="C2", lw=1,
                       label="opened in the year")
            ax[0].plot(self.years, self.series("exited_stores"), ":", color="C3", lw=1,
                       label="closed in the year")
        ax[0].set_title("Online stores", fontsize=10)
        ax[0].set_ylabel("stores")
        # 2 sales by channel (log when they span decades)
        org, ls = self.series("sales_organic"), self.series("sales_livestream")
        log = wants_log(org, ls)
        for y, lab, c in ((org, "organic", "C0"), (ls, "livestream", "C1")):
            yy = np.where(y > 0, y, np.nan) if log else y
            ax[1].plot(self.years, yy, marker="o", ms=2.5, label=lab, color=c)
        if log:
            ax[1].set_yscale("log")
        ax[1].set_title("Sales by channel" + (" (log scale)" if log else ""), fontsize=10)
        ax[1].set_ylabel("RMB per year")
        # 3 Taobao
        self.line(ax[2], "taobao_villages", "Taobao Villages", log=False, color="C3")
        self.line(ax[2], "taobao_towns", "Taobao Towns", log=False, color="C4")
        ax[2].set_title("Taobao Villages and Towns (year end)", fontsize=10)
        ax[2].set_ylabel("count")
        ax[2].yaxis.set_major_locator(MaxNLocator(integer=True))
        # 4 logistics
        self.line(ax[3], "stations", "village stations", log=False, color="C5")
        self.line(ax[3], "county_centres", "county logistics centres", log=False, color="C6")
        ax[3].set_title("Logistics nodes (year end)", fontsize=10)
        ax[3].set_ylabel("count")
        ax[3].yaxis.set_major_locator(MaxNLocator(integer=True))
        # 5 livestreamers
        self.line(ax[4], "livestreamers", "active livestreamers", log=False, color="C1")
        if self.has("livestreamers_trained"):
            self.line(ax[4], "livestreamers_trained", "of which trained by a programme",
                      log=False, color="C1", ls="--")
        ax[4].set_title("Livestreamers (year end)", fontsize=10)
        ax[4].set_ylabel("livestreamers")
        # 6 employment
        self.line(ax[5], "employment", "workers employed by stores", log=False, color="C7")
        ax[5].set_title("Employment in stores (year end)", fontsize=10)
        ax[5].set_ylabel("workers")
        # 7 income total and base
        self.line(ax[6], "mean_household_income", "all sources", log=False, color="k")
        self.line(ax[6], "income_base", "farm / off-farm (base)", log=False, color="C8")
        ax[6].set_title("Mean household income", fontsize=10)
        ax[6].set_ylabel("RMB/yr per household")
        # 8 e-commerce income by source, stacked
        srcs = [("income_store_profit", "store profit"), ("income_wages", "store wages"),
                ("income_commission", "livestream commission")]
        srcs = [(n, lab) for n, lab in srcs if self.has(n)]
        if srcs:
            ax[7].stackplot(self.years, *[np.nan_to_num(self.series(n)) for n, _ in srcs],
                            labels=[lab for _, lab in srcs], colors=["C0", "C2", "C1"],
                            alpha=0.8)
        ax[7].set_title("Household income from e-commerce (stacked)", fontsize=10)
        ax[7].set_ylabel("RMB/yr per household (all households)")
        # 9 consumption savings
        self.line(ax[8], "consumption_savings", "buyer-side savings", log=False, color="C9")
        ax[8].set_title("Consumption savings of buyers", fontsize=10)
        ax[8].set_ylabel("RMB per year (all households)")
        # 10 Gini
        self.line(ax[9], "gini_income", "Gini of household income", log=False, color="C3")
        ax[9].set_title("Gini of household income", fontsize=10)
        ax[9].set_ylabel("Gini [-]")
        # 11 urban/rural
        self.line(ax[10], "income_ratio_urban_rural", "urban / rural per-capita income",
                  log=False, color="C4")
        ax[10].set_title("Urban/rural income ratio", fontsize=10)
        ax[10].set_ylabel("ratio [-]")
        # 12 internet and followers' concentration
        self.line(ax[11], "internet_access", "internet access", log=False, color="C0")
        self.line(ax[11], "followers_top_decile_share",
                  "followers held by top 10% of livestreamers", log=False, color="C1")
        ax[11].set_title("Internet access; audience concentration", fontsize=10)
        ax[11].set_ylabel("share [-]")
        ax[11].set_ylim(0, 1.05)
        for a in ax:
            if a.has_data():
                a.legend(fontsize=7, loc="best")
        self.finish_axes(axes, free=(ax[9], ax[10]))
        for a in axes[-1]:
            a.set_xlabel("calendar year")
        fig.tight_layout()
        self.save(fig, "dashboard.png")

    def who_gains(self):
        fig, axes = plt.subplots(1, 3, figsize=(14, 4.6))
        fig.suptitle(f"Who gains — {self.run.label}", fontsize=11)
        a = axes[0]
        inc, base = self.series("store_household_income"), self.series("store_household_base")
        if inc is None or base is None or not np.any(np.isfinite(inc)):
            no_data(a, "store_household_income / _base\nnot in this file (or no stores)")
        else:
            a.plot(self.years, inc, marker="o", ms=3, color="C0",
                   label="store households: base kept + store profit")
            a.plot(self.years, base, marker="o", ms=3, color="C8",
                   label="same households without a store\n(counterfactual base income)")
            if self.has("mean_household_income"):
                a.plot(self.years, self.series("mean_household_income"), color="0.4", ls=":",
                       label="mean household income (all)")
            a.set_ylabel("RMB/yr per store household")
            a.set_title("Store households and their counterfactual", fontsize=10)
            with np.errstate(invalid="ignore", divide="ignore"):
                ratio = inc / base
            ok = np.isfinite(ratio)
            if ok.any():
                a.text(0.98, 0.03, f"{self.last}: {ratio[ok][-1]:.1f}× the counterfactual",
                       transform=a.transAxes, ha="right", fontsize=9)
            a.legend(fontsize=7, loc="upper left")
        a = axes[1]
        st, hh = self.series("stores"), self.series("households")
        if st is not None and hh is not None:
            with np.errstate(invalid="ignore", divide="ignore"):
                a.plot(self.years, 100 * st / hh, marker="o", ms=3, color="C0")
            a.set_ylabel("% of households")
            a.set_title("Households running a store (year end)", fontsize=10)
        else:
            no_data(a, "stores / households not in this file")
        a = axes[2]
        any_line = False
        for n, lab, c in (("sales_top1_share", "sales held by the top 1% of stores", "C3"),
                          ("large_store_share", "stores selling above output.large_store_sales",
                           "C1")):
            y = self.series(n)
            if y is not None and np.any(np.isfinite(y)):
                a.plot(self.years, y, marker="o", ms=3, color=c, label=lab)
                any_line = True
        if any_line:
            a.set_ylim(0, 1.02)
            a.set_ylabel("share [-]")
            a.set_title("Concentration of store sales (trailing year)", fontsize=10)
            a.legend(fontsize=7, loc="upper left")
        else:
            no_data(a, "sales_top1_share / large_store_share not in this file\n"
                       "(or no stores: nothing to concentrate)")
        self.finish_axes(axes)
        for a in axes:
            if a.has_data():
                a.set_xlabel("calendar year")
        fig.tight_layout()
        self.save(fig, "who_gains.png")

    def taobao_calibration(self):
        fig, ax = plt.subplots(figsize=(9, 5.2))
        targets = calibration_targets()
        nat_hh = self.param("market.national_households")
        hh = self.series("households")
        run_hh = float(hh[0]) if hh is not None and len(hh) else float("nan")
        share = run_hh / float(nat_hh) if nat_hh and math.isfinite(run_hh) else None
        tv = self.series("taobao_villages")
        tt = self.series("taobao_towns")
        drawn = []
        for y, lab, c in ((tv, "Taobao Villages (run)", "C3"), (tt, "Taobao Towns (run)", "C4")):
            if y is not None:
                ax.plot(self.years, np.where(y > 0, y, np.nan), marker="o", ms=4, color=c,
                        label=lab)
                drawn.append(y)
        pts = []
        if share:
            for key, lab, c, m in (("taobao_villages", "public Taobao Villages × share", "C3",
                                    "*"),
                                   ("taobao_towns", "public Taobao Towns × share", "C4", "*")):
                for p in targets.get(key, []) or []:
                    try:
                        yr, val = int(p["year"]), float(p["value"])
                    except (KeyError, TypeError, ValueError):
                        continue
                    pts.append((yr, val * share, val, lab, c, m))
            labelled = set()
            for yr, scaled, val, lab, c, m in pts:
                ax.scatter([yr], [scaled], marker=m, s=180, color=c, edgecolors="k", zorder=5,
                           label=None if lab in labelled else lab)
                labelled.add(lab)
                ax.annotate(f"{val:,.0f} nationally\n→ {scaled:.3g} at this scale", (yr, scaled),
                            xytext=(6, -4), textcoords="offset points", fontsize=7,
                            va="top")
        ax.set_yscale("log")
        vals = np.concatenate([np.asarray(d, float) for d in drawn] +
                              [np.array([p[1] for p in pts])]) if (drawn or pts) else np.array([])
        vals = vals[np.isfinite(vals) & (vals > 0)]
        if vals.size:
            ax.set_ylim(vals.min() / 3, vals.max() * 3)
        ax.set_xlabel("calendar year (year end)")
        ax.set_ylabel("count (log scale; zero not drawn)")
        if share:
            scale = (f"public figures (data/calibration_targets.yaml) × run households / "
                     f"market.national_households = {run_hh:,.0f} / {float(nat_hh):,.0f} "
                     f"(1/{1 / share:,.0f})")
        else:
            scale = "market.national_households not found: public figures not drawn"
        ax.set_title(f"Taobao Villages and Towns against public figures\n{scale}", fontsize=9)
        ax.grid(True, which="both", alpha=0.3)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlim(min(self.years[0], *(p[0] for p in pts)) - 0.5 if pts else self.years[0] - .5,
                    max(self.last, *(p[0] for p in pts)) + 1.5 if pts else self.last + 0.5)
        ax.legend(fontsize=8, loc="upper left")
        fig.tight_layout()
        self.save(fig, "taobao_calibration.png")
        self.notes["taobao_calibration.png"] = [
            f"Run share of national households: "
            f"{'1/' + format(1 / share, ',.0f') if share else 'unknown'}."]

    def _status(self, year):
        """Status of every village at the end of `year`: 0 no store, 1 stores, 2 Taobao."""
        n = len(self.villages)
        status = np.zeros(n, dtype=int)
        if self.va is not None and "stores" in self.va:
            st = self.va["stores"].sel(year=year).values
            status[st > 0] = 1
            if "taobao_villages" in self.va:
                status[self.va["taobao_villages"].sel(year=year).values > 0] = 2
            return status, True
        ev = self.events
        ev = ev[ev["year"] <= year].sort_values("event")
        for _, e in ev.iterrows():
            if e["kind_name"] == "taobao_village_recognised":
                status[int(e["entity"])] = 2
            elif e["kind_name"] == "taobao_village_lost":
                status[int(e["entity"])] = 0
        return status, False

    def _county_outlines(self, ax, fill=None, cmap=None, norm=None):
        vil = self.villages
        for cid in self.counties.index:
            pts = vil.loc[vil["county"] == cid, ["x", "y"]].values
            if len(pts) < 3:
                continue
            h = hull(pts)
            if fill is None:
                ax.add_patch(Polygon(h, closed=True, fill=False, ec="0.55", lw=0.6, zorder=1))
            else:
                v = fill.get(cid, np.nan)
                fc = cmap(norm(v)) if np.isfinite(v) and v > 0 else "#f4f4f4"
                ax.add_patch(Polygon(h, closed=True, fc=fc, ec="0.3", lw=0.8, zorder=1))

    def map_villages(self):
        years = self.map_years
        k = len(years)
        fig, axes = plt.subplots(1, k, figsize=(4.6 * k + 0.4, 5.4), squeeze=False)
        vil = self.villages
        size = 3 if len(vil) > 1500 else (8 if len(vil) > 200 else 25)
        from_snapshots = True
        for ax, yr in zip(axes[0], years):
            status, from_snapshots = self._status(yr)
            self._county_outlines(ax)
            for code, (name, col) in enumerate(STATUS_COLOURS.items()):
                m = status == code
                ax.scatter(vil["x"][m], vil["y"][m], s=size * (1 if code == 0 else 2.5 * code),
                           c=col, lw=0, zorder=2 + code)
            ax.scatter(self.counties["x"], self.counties["y"], marker="x", s=20, c="k", lw=0.8,
                       zorder=6)
            counts = [int((status == c).sum()) for c in range(3)]
            ax.set_title(f"end of {yr}: {counts[1]:,} villages with stores, "
                         f"{counts[2]:,} Taobao", fontsize=9)
            ax.set_aspect("equal")
            ax.set_xlabel("x [km]")
            ax.tick_params(labelsize=7)
        axes[0, 0].set_ylabel("y [km]")
        labels = list(STATUS_COLOURS)
        if not from_snapshots:
            labels[1] = "stores (not known: no village snapshots)"
        handles = [Line2D([], [], ls="", marker="o", color=c, label=lab)
                   for lab, c in zip(labels, STATUS_COLOURS.values())]
        handles += [Line2D([], [], ls="", marker="x", color="k", label="county seat"),
                    Patch(fc="none", ec="0.55", label="county (convex hull of its villages)")]
        fig.legend(handles=handles, loc="lower center", ncol=5, fontsize=8, frameon=False,
                   bbox_to_anchor=(0.5, 0.0))
        fig.suptitle(f"Villages by status at year end — {self.run.label}", fontsize=11)
        fig.tight_layout(rect=(0, 0.07, 1, 0.95))
        self.save(fig, "map_villages.png")
        self.notes["map_villages.png"] = [
            "Status from /village_annual (stores > 0; Taobao Village status)" if from_snapshots
            else "The file has no village snapshots: only Taobao Village status (from /events) "
                 "is known"]

    def map_counties(self):
        fig, ax = plt.subplots(figsize=(8.5, 7))
        c = self.county
        st = c["stores"].sel(year=self.last).values.astype(float)
        hh = c["households"].sel(year=self.last).values.astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            dens = 1000 * st / hh
        ids = c["county"].values
        fill = dict(zip(ids.tolist(), dens))
        pos = dens[np.isfinite(dens) & (dens > 0)]
        cmap = plt.get_cmap("YlOrRd")
        log = pos.size >= 2 and pos.max() / pos.min() > 30
        if log:
            norm = LogNorm(vmin=pos.min(), vmax=pos.max())
        else:
            norm = Normalize(vmin=0, vmax=max(pos.max() if pos.size else 1.0, 1e-9))
        self._county_outlines(ax, fill=fill, cmap=cmap, norm=norm)
        vil = self.villages
        ax.scatter(vil["x"], vil["y"], s=0.8, c="0.2", alpha=0.25, lw=0, zorder=2)
        for cid, row in self.counties.iterrows():
            v = fill.get(cid, np.nan)
            ax.annotate(f"{cid}\n{v:.2g}" if np.isfinite(v) else str(cid), (row["x"], row["y"]),
                        ha="center", va="center", fontsize=7, zorder=4,
                        bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.7))
        sm = plt.cm.ScalarMappable(norm=norm, cmap=cmap)
        cb = fig.colorbar(sm, ax=ax, shrink=0.8)
        cb.set_label(f"stores per 1,000 households, end of {self.last}"
                     + (" (log scale)" if log else ""))
        ax.set_aspect("equal")
        ax.autoscale_view()
        ax.set_xlabel("x [km]")
        ax.set_ylabel("y [km]")
        ax.set_title(f"Stores per 1,000 households by county, end of {self.last}\n"
                     f"county = convex hull of its villages (grey: none); label: index and value\n"
                     f"{self.run.label}", fontsize=9)
        fig.tight_layout()
        self.save(fig, "map_counties.png")

    def ranking(self):
        fig, axes = plt.subplots(1, 2, figsize=(12, 5.2), gridspec_kw={"width_ratios": [2, 3]})
        fig.suptitle(f"Ranked by Taobao Villages at the end of {self.last} — {self.run.label}",
                     fontsize=11)
        for ax, ds, level, table, top in ((axes[0], self.province, "province", self.provinces,
                                           20),
                                          (axes[1], self.county, "county", self.counties, 20)):
            if "taobao_villages" not in ds:
                no_data(ax, "taobao_villages not in this file")
                continue
            tvv = ds["taobao_villages"].sel(year=self.last).values.astype(float)
            st = ds["stores"].sel(year=self.last).values.astype(float)
            ids = ds[level].values
            order = sorted(range(len(ids)), key=lambda i: (-tvv[i], -st[i], ids[i]))[:top]
            if level == "province" and "name" in table:
                names = [str(table.loc[ids[i], "name"]) for i in order]
            else:
                names = [f"county {ids[i]}" for i in order]
            slots = max(len(order), 6)  # a few bars stay bars, at the top
            yy = slots - 1 - np.arange(len(order))
            ax.barh(yy, [tvv[i] for i in order], height=0.6, color="C3",
                    label="Taobao Villages")
            ax.set_ylim(-0.7, slots - 0.3)
            for y, i in zip(yy, order):
                ax.text(tvv[i], y, f" {int(tvv[i])}  ({int(st[i]):,} stores)", va="center",
                        fontsize=7)
            ax.set_yticks(yy)
            ax.set_yticklabels(names, fontsize=8)
            ax.set_xlabel(f"Taobao Villages, end of {self.last}")
            shown = f"top {len(order)} of {len(ids)}" if len(ids) > len(order) else \
                f"all {len(ids)}"
            plural = "Provinces" if level == "province" else "Counties"
            ax.set_title(f"{plural} ({shown}); label: Taobao Villages (stores)", fontsize=10)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            hi = max([tvv[i] for i in order] + [1])
            ax.set_xlim(0, hi * 1.45)
            ax.grid(True, axis="x", alpha=0.3)
        fig.tight_layout()
        self.save(fig, "ranking.png")

    @staticmethod
    def _ccdf(ax, values, label, color):
        v = np.sort(np.asarray(values, float))
        v = v[np.isfinite(v) & (v > 0)]
        if v.size == 0:
            return 0
        p = 1.0 - np.arange(v.size) / v.size  # P(X >= x)
        ax.step(v, p, where="post", color=color, label=f"{label} (n = {v.size:,})")
        ax.set_xscale("log")
        ax.set_yscale("log")
        return v.size

    def ccdf(self):
        years = self.run.snapshot_years
        if years:
            self._ccdf_snapshot(self.last if self.last in years else years[-1])
        else:
            self._ccdf_aggregates()

    def _ccdf_snapshot(self, year):
        """Store-level annual sales and livestreamer audiences from /snapshots/<year>."""
        stores = self.run.snapshot("stores", year)
        streamers = self.run.snapshot("livestreamers", year)
        fig, axes = plt.subplots(1, 2, figsize=(12, 4.8))
        fig.suptitle(f"Distributions, end of {year} (log-log CCDF) — {self.run.label}",
                     fontsize=11)
        a = axes[0]
        sales = stores["sales"].to_numpy(float) if "sales" in stores else np.array([])
        n = self._ccdf(a, sales, "all stores", "C0")
        if n and "full_time" in stores:
            ft = stores["full_time"].to_numpy() == 1
            self._ccdf(a, sales[ft], "full-time stores", "C3")
            self._ccdf(a, sales[~ft], "side businesses", "C2")
        zero = int(np.sum(sales <= 0))
        if n:
            a.set_xlabel(f"annual sales of a store in {year} (RMB)")
            a.set_ylabel("share of stores with sales ≥ x")
            a.set_title(f"Store sales: {len(sales):,} stores alive at the end of {year} "
                        "(/snapshots)", fontsize=9)
            a.legend(fontsize=8, loc="lower left")
            a.grid(True, which="both", alpha=0.3)
        else:
            no_data(a, f"no store with sales at the end of {year}")
        a = axes[1]
        fol = streamers["followers"].to_numpy(float) if "followers" in streamers else np.array([])
        m = self._ccdf(a, fol, "all livestreamers", "C1")
        if m and "trained" in streamers and streamers["trained"].any():
            tr = streamers["trained"].to_numpy() == 1
            self._ccdf(a, fol[tr], "trained by a programme", "C4")
            self._ccdf(a, fol[~tr], "organic entrants", "C5")
        if m:
            a.set_xlabel(f"followers of a livestreamer at the end of {year}")
            a.set_ylabel("share of livestreamers with ≥ x followers")
            top = self.series("followers_top_decile_share")
            extra = f"; the top 10% hold {top[-1]:.0%} of followers" \
                if top is not None and np.isfinite(top[-1]) and year == self.last else ""
            a.set_title(f"Audiences: {len(fol):,} active livestreamers{extra}", fontsize=9)
            a.legend(fontsize=8, loc="lower left")
            a.grid(True, which="both", alpha=0.3)
        else:
            no_data(a, f"no active livestreamers at the end of {year}")
        fig.tight_layout()
        self.save(fig, "ccdf.png")
        self.ccdf_caption = (
            f"Complementary cumulative distributions on log-log axes (a straight line is a "
            f"power-law tail), from the store and livestreamer snapshot of {year} "
            f"(/snapshots/{year}): left, each store's sales in the calendar year (the stores "
            f"alive at the end of the year"
            + (f"; {zero:,} without sales are not on the log axis" if zero else "")
            + "); right, each active livestreamer's followers.")
        self.summary["ccdf"] = {
            "source": "snapshots", "year": int(year), "stores": int(len(sales)),
            "stores_with_sales": int(n), "store_sales_total": float(np.sum(sales)),
            "livestreamers": int(len(fol)), "livestreamers_with_followers": int(m),
            "followers_total": float(np.sum(fol)), "caption": self.ccdf_caption}

    def _ccdf_aggregates(self):
        """Files without snapshots: village and county aggregates stand in."""
        fig, axes = plt.subplots(1, 2, figsize=(12, 4.8))
        fig.suptitle(f"Distributions, end of {self.last} (log-log CCDF) — {self.run.label}",
                     fontsize=11)
        a = axes[0]
        n = 0
        if self.va is not None and "sales_total" in self.va and "stores" in self.va:
            s = self.va["sales_total"].sel(year=self.last).values.astype(float)
            st = self.va["stores"].sel(year=self.last).values.astype(float)
            with np.errstate(invalid="ignore", divide="ignore"):
                per = np.where(st > 0, s / st, np.nan)
            n += self._ccdf(a, s, "village annual sales", "C0")
            n += self._ccdf(a, per, "village sales per store (mean)", "C3")
        if n:
            a.set_xlabel(f"RMB in {self.last}")
            a.set_ylabel("share of villages with at least x")
            a.set_title("Sales: no store snapshots in this file;\n"
                        "villages' annual sales and their mean per store (/village_annual)",
                        fontsize=9)
            a.legend(fontsize=8, loc="lower left")
            a.grid(True, which="both", alpha=0.3)
        else:
            no_data(a, "no store snapshots and no village snapshots with sales in this file\n"
                       "(set output.snapshot_years or output.village_snapshots: true)")
        a = axes[1]
        c = self.county
        m = 0
        if "followers" in c and "livestreamers" in c:
            f = c["followers"].sel(year=self.last).values.astype(float)
            ls = c["livestreamers"].sel(year=self.last).values.astype(float)
            with np.errstate(invalid="ignore", divide="ignore"):
                per = np.where(ls > 0, f / ls, np.nan)
            m = self._ccdf(a, per, "followers per livestreamer, by county", "C1")
        if m:
            a.set_xlabel("followers per active livestreamer (county mean)")
            a.set_ylabel("share of counties with at least x")
            top = self.series("followers_top_decile_share")
            extra = f"; nationally the top 10% hold {top[-1]:.0%}" if top is not None and \
                np.isfinite(top[-1]) else ""
            a.set_title("Audiences: no livestreamer snapshots in this file;\n"
                        f"county means{extra}", fontsize=9)
            a.legend(fontsize=8, loc="lower left")
            a.grid(True, which="both", alpha=0.3)
        else:
            no_data(a, f"no active livestreamers at the end of {self.last}")
        fig.tight_layout()
        self.save(fig, "ccdf.png")
        self.ccdf_caption = (
            "Complementary cumulative distributions on log-log axes: a straight line is a "
            "power-law tail. This file has no store or livestreamer snapshots (it was written "
            "before ruralsim recorded them, or with output.snapshot_years: []), so villages' "
            "annual sales and county means of followers stand in for store sales and individual "
            "audiences.")
        self.summary["ccdf"] = {"source": "aggregates", "year": int(self.last),
                                "caption": self.ccdf_caption}

    def intervention_rows(self):
        """[(index, type, start, end, summary, [target counties])] from the resolved scenario
        and the intervention events."""
        entries = self.scenario.get("interventions") or []
        ev = self.events
        rows = []
        for i, e in enumerate(entries if isinstance(entries, list) else []):
            if not isinstance(e, dict):
                continue
            typ = str(e.get("type", "?"))
            if typ == "taobao_thresholds":
                start = float(e.get("from_year", self.years[0]))
                end = float(self.last + 1)
            else:
                start = float(e.get("start_year", self.years[0]))
                end = start + float(e.get("years", 0))
            m = (ev["kind_name"] == "intervention_start") & (ev["value"] == i)
            targets = sorted({int(x) for x in ev.loc[m, "entity"] if int(x) >= 0})
            keys = [f"{k}: {v}" for k, v in e.items()
                    if k not in ("type", "start_year", "years", "from_year")]
            rows.append((i, typ, start, end, ", ".join(keys), targets))
        return rows

    def interventions(self):
        rows = self.intervention_rows()
        fig, axes = plt.subplots(2, 1, figsize=(11, 3.2 + 0.55 * max(len(rows), 1) + 3),
                                 sharex=True,
                                 gridspec_kw={"height_ratios": [3, max(1.2, 0.55 * len(rows))]})
        fig.suptitle(f"Interventions on a timeline — {self.run.label}", fontsize=11)
        a = axes[0]
        x = self.years + 1.0  # stocks at the end of the year, on the same axis as the windows
        st = self.series("stores")
        if st is not None:
            a.plot(x, st, marker="o", ms=3, color="C0", label="live stores")
        a.set_ylabel("stores", color="C0")
        if self.has("taobao_villages"):
            b = a.twinx()
            b.plot(x, self.series("taobao_villages"), marker="s", ms=3, color="C3",
                   label="Taobao Villages")
            b.set_ylabel("Taobao Villages", color="C3")
            b.yaxis.set_major_locator(MaxNLocator(integer=True))
            b.set_ylim(bottom=0)
        a.set_ylim(bottom=0)
        a.grid(True, alpha=0.3)
        a.set_title("national stocks at year end (drawn at the end of the year)", fontsize=9)
        g = axes[1]
        if not rows:
            no_data(g, "no interventions in this scenario")
            g.set_xlim(self.years[0], self.last + 1)
        for k, (i, typ, start, end, summary, targets) in enumerate(rows):
            y = len(rows) - 1 - k
            col = f"C{(k + 1) % 10}"
            g.barh(y, max(end - start, 0.08), left=start, height=0.6, color=col, alpha=0.75)
            a.axvspan(start, end, color=col, alpha=0.08)
            if targets:
                tnames = ", ".join(str(t) for t in targets[:12]) + \
                    (" ..." if len(targets) > 12 else "")
                tt = f"counties {tnames}"
            else:
                tt = "no target county in the run" if typ != "taobao_thresholds" else "all"
            g.text(start + 0.05, y, f" #{i} {typ} — {tt}", va="center", fontsize=8)
        g.set_yticks([])
        g.set_xlabel("calendar year")
        lo = min([self.years[0]] + [r[2] for r in rows])
        hi = max([self.last + 1] + [r[3] for r in rows])
        g.set_xlim(lo - 0.2, hi + 0.2)
        g.xaxis.set_major_locator(MaxNLocator(integer=True))
        g.grid(True, axis="x", alpha=0.3)
        handles, labels = a.get_legend_handles_labels()
        if self.has("taobao_villages"):
            h2, l2 = b.get_legend_handles_labels()
            handles, labels = handles + h2, labels + l2
        a.legend(handles, labels, fontsize=8, loc="upper left")
        fig.tight_layout()
        self.save(fig, "interventions.png")

    # -- the page
    def all_figures(self):
        for f in (self.dashboard, self.who_gains, self.taobao_calibration, self.map_villages,
                  self.map_counties, self.ranking, self.ccdf, self.interventions):
            f()
        return self.written

    def html(self):
        run, p = self.run, self.run.provenance
        e = html.escape
        last = self.last
        final = {n: self.series(n)[-1] for n in self.ann.data_vars if n != "records"}

        def val(n, scale=1.0, fmt=None):
            v = final.get(n)
            if v is None or not np.isfinite(v):
                return "–"
            return fmt(v * scale) if fmt else fmt_num(v * scale)

        def ratio_of(num, den):
            a, b = float(final.get(num, np.nan)), float(final.get(den, np.nan))
            return a / b if np.isfinite(a) and np.isfinite(b) and b > 0 else float("nan")

        def pct(num, den, digits):
            r = ratio_of(num, den)
            return f"{100 * r:.{digits}f}%" if np.isfinite(r) else "–"

        ratio = ratio_of("store_household_income", "store_household_base")
        headline = [
            ("Live stores", val("stores"), f"{pct('stores', 'households', 2)} of households"),
            ("Sales", f"RMB {val('sales_total', 1, lambda v: f'{v:.3g}')}",
             f"livestream {pct('sales_livestream', 'sales_total', 1)}"),
            ("Taobao Villages / Towns", f"{val('taobao_villages')} / {val('taobao_towns')}", ""),
            ("Stations / county centres", f"{val('stations')} / {val('county_centres')}", ""),
            ("Livestreamers", val("livestreamers"), ""),
            ("Store households earn", f"{ratio:.1f}×" if np.isfinite(ratio) else "–",
             "their counterfactual base income"),
            ("Top 1% of stores hold", val("sales_top1_share", 100, lambda v: f"{v:.0f}%"),
             "of trailing-year sales"),
            ("Gini / urban-rural ratio",
             f"{val('gini_income', 1, lambda v: f'{v:.3f}')} / "
             f"{val('income_ratio_urban_rural', 1, lambda v: f'{v:.2f}')}", ""),
        ]
        cards = "\n".join(f'<div class="card"><div class="k">{e(k)}</div>'
                          f'<div class="v">{e(v)}</div><div class="s">{e(s)}</div></div>'
                          for k, v, s in headline)
        prov_keys = [("scenario", p.get("scenario_name")), ("scenario file", p.get("scenario_file")),
                     ("overrides", p.get("overrides") or "none"), ("seed", p.get("seed")),
                     ("replicate", p.get("replicate")),
                     ("ruralsim version", p.get("ruralsim_version")),
                     ("git commit", p.get("git_commit")), ("build", p.get("build_type")),
                     ("compiler", p.get("compiler")),
                     ("content hash", p.get("content_hash")),
                     ("run", f"{p.get('start_time')} – {p.get('end_time')}, "
                             f"{fmt_num(p.get('wall_seconds'))} s, {p.get('threads')} threads, "
                             f"host {p.get('host')}"),
                     ("command line", p.get("command_line")),
                     ("file", os.path.abspath(run.path))]
        prov = "\n".join(f"<tr><th>{e(k)}</th><td><code>{e(str(v))}</code></td></tr>"
                         for k, v in prov_keys)
        table_vars = [n for n in ("stores", "new_stores", "exited_stores", "sales_total",
                                  "sales_livestream", "taobao_villages", "taobao_towns",
                                  "stations", "county_centres", "livestreamers",
                                  "mean_household_income", "store_household_income",
                                  "store_household_base", "sales_top1_share",
                                  "consumption_savings", "gini_income") if self.has(n)]
        head = "".join(f"<th>{e(n.replace('_', ' '))}<br><small>{e(self.unit(n))}</small></th>"
                       for n in table_vars)
        body = []
        for i, y in enumerate(self.years):
            cells = "".join(f"<td>{e(fmt_num(self.series(n)[i]))}</td>" for n in table_vars)
            body.append(f"<tr><th>{y}</th>{cells}</tr>")
        rows = self.intervention_rows()
        if rows:
            iv = "".join(f"<tr><td>#{i}</td><td>{e(t)}</td><td>{s:g} – {en:g}</td>"
                         f"<td>{e(', '.join(map(str, tg)) or '–')}</td><td>{e(sm)}</td></tr>"
                         for i, t, s, en, sm, tg in rows)
            iv = ("<table><tr><th>#</th><th>type</th><th>window</th><th>target counties</th>"
                  f"<th>settings</th></tr>{iv}</table>")
        else:
            iv = "<p>The scenario has no interventions.</p>"
        captions = {
            "dashboard.png": "National series, one value per calendar year. Sales are drawn on a "
                             "log scale when they span more than two decades. E-commerce income is "
                             "averaged over all households (most have none).",
            "who_gains.png": "Left: mean income of the households that run a store (base income "
                             "they keep plus store profit) against the base income the same "
                             "households would earn without their store. Middle: share of "
                             "households running one. Right: how concentrated store sales are.",
            "taobao_calibration.png": "Taobao Villages and Towns of the run (log scale) against "
                                      "the public national counts scaled to the run's share of "
                                      "national households.",
            "map_villages.png": f"Villages at their generated or given positions, coloured by "
                                f"status at the end of {', '.join(map(str, self.map_years))}; "
                                "clusters of Taobao Villages show how e-commerce spreads between "
                                "neighbours.",
            "map_counties.png": "Counties drawn as the convex hull of their villages and filled "
                                "by stores per 1,000 households in the last year (a choropleth "
                                "without administrative boundaries, which the file does not "
                                "hold).",
            "ranking.png": "Provinces and counties ordered by Taobao Villages at the end of the "
                           "run, then by stores.",
            "ccdf.png": self.ccdf_caption,
            "interventions.png": "Each intervention entry from its start to the end of its "
                                 "window, with the counties it targeted (from the "
                                 "intervention_start events), above the national stores and "
                                 "Taobao Villages.",
        }
        figs = []
        for name, title in FIGURES.items():
            notes = " ".join(self.notes.get(name, []))
            figs.append(f'<section id="{e(name[:-4])}"><h2>{e(title)}</h2>'
                        f'<p>{e(captions.get(name, ""))} {e(notes)}</p>'
                        f'<a href="{e(name)}"><img src="{e(name)}" alt="{e(title)}"></a>'
                        "</section>")
        toc = " · ".join(f'<a href="#{e(n[:-4])}">{e(t)}</a>' for n, t in FIGURES.items())
        desc = e(str(self.scenario.get("description", "") or ""))
        return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>ruralsim report — {e(run.label)}</title>
<style>
body {{ font-family: sans-serif; max-width: 1250px; margin: 1em auto; padding: 0 1em;
       color: #222; }}
h1 {{ font-size: 1.5em; margin-bottom: 0.1em; }}
h2 {{ font-size: 1.15em; border-bottom: 1px solid #ccc; margin-top: 1.6em; }}
img {{ max-width: 100%; border: 1px solid #eee; }}
table {{ border-collapse: collapse; font-size: 0.8em; margin: 0.5em 0; }}
th, td {{ border: 1px solid #ddd; padding: 2px 6px; text-align: right; }}
table.prov th, table.prov td {{ text-align: left; }}
.cards {{ display: flex; flex-wrap: wrap; gap: 8px; }}
.card {{ border: 1px solid #ccc; border-radius: 4px; padding: 6px 10px; min-width: 130px; }}
.card .k {{ font-size: 0.8em; color: #555; }} .card .v {{ font-size: 1.3em; font-weight: bold; }}
.card .s {{ font-size: 0.75em; color: #666; }}
nav {{ font-size: 0.85em; }}
small {{ color: #666; font-weight: normal; }}
</style>
</head>
<body>
<h1>ruralsim report: {e(run.scenario)}</h1>
<p>{desc}<br>{e(run.label)} · {self.years[0]}–{last} · national values at the end of {last}</p>
<div class="cards">
{cards}
</div>
<nav><p>{toc} · <a href="#table">Table</a> · <a href="#interventions-table">Interventions</a>
 · <a href="#provenance">Provenance</a></p></nav>
{chr(10).join(figs)}
<section id="table"><h2>National values by calendar year</h2>
<p>Stocks at the end of the year, flows summed over the year.</p>
<table><tr><th>year</th>{head}</tr>
{chr(10).join(body)}
</table></section>
<section id="interventions-table"><h2>Interventions</h2>
{iv}
</section>
<section id="provenance"><h2>Provenance</h2>
<table class="prov">
{prov}
</table>
<p>Re-run with <code>ruralsim reproduce {e(os.path.basename(run.path))}</code>; the resolved
scenario is stored in <code>/provenance/scenario_resolved</code> of the file.</p>
</section>
<p><small>Made by analysis/report.py from {e(os.path.basename(run.path))}.</small></p>
</body>
</html>
"""


def make_report(path, outdir=None, years=None):
    """Writes the report of the run file `path` into `outdir`; returns the path of index.html.
    Raises RunFileError (unusable file) or ReportError (bad arguments, unwritable output)."""
    if os.path.isdir(path):
        raise ReportError(f"{path} is a directory: reports of sweep directories are not "
                          "available yet; give one result file (.h5)")
    outdir = outdir or os.path.splitext(os.fspath(path))[0] + "_report"
    if os.path.exists(outdir) and not os.path.isdir(outdir):
        raise ReportError(f"--out {outdir}: exists and is not a directory")
    with open_run(path) as run:
        try:
            os.makedirs(outdir, exist_ok=True)
        except OSError as e:
            raise ReportError(f"--out {outdir}: cannot create the directory ({e.strerror})") \
                from None
        rep = Report(run, outdir, years)
        rep.all_figures()
        index = os.path.join(outdir, "index.html")
        with open(index, "w", encoding="utf-8") as fh:
            fh.write(rep.html())
        with open(os.path.join(outdir, SUMMARY), "w", encoding="utf-8") as fh:
            json.dump({"file": os.path.abspath(run.path), "content_hash": run.content_hash,
                       "figures": list(FIGURES), **rep.summary}, fh, indent=1)
    return index


def main(argv=None):
    ap = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n".join(__doc__.split("\n")[4:]))
    ap.add_argument("file", help="ruralsim result file (.h5)")
    ap.add_argument("--out", help="output directory (default <FILE without .h5>_report)")
    ap.add_argument("--years", type=int, nargs="+",
                    help="years of the village maps (default: three spread over the run)")
    ap.add_argument("--quiet", action="store_true", help="print nothing on success")
    args = ap.parse_args(argv)
    index = make_report(args.file, args.out, args.years)
    if not args.quiet:
        print(index)
    return 0


def main_or_exit_2(argv=None):
    """main() with one line and exit status 2 for unusable files or arguments, never a
    traceback. A sweep directory is handed to sweep_report.py."""
    args = sys.argv[1:] if argv is None else argv
    target = next((a for i, a in enumerate(args) if not a.startswith("-")
                   and (i == 0 or args[i - 1] not in ("--out", "--baseline", "--metric"))), None)
    if target is not None and os.path.isdir(target):
        import sweep_report
        return sweep_report.main_or_exit_2(args)
    return exit_status(main, argv, PROG, (RunFileError, ReportError), "file")

if __name__ == "__main__":
    sys.exit(main_or_exit_2())
