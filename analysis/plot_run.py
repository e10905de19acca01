#!/usr/bin/python3
"""Plot the main outputs of one ruralsim result file as PNG figures.

usage: plot_run.py FILE.h5 [--out DIR] [--level national|province|county] [--ids ID ...]
                   [--max-lines N]

Figures (one PNG each, named <level>_<figure>.png):
  stores       live stores at year end; stores opened and closed per year
  taobao       Taobao Villages and Taobao Towns at year end
  sales        organic and livestream sales per year (log scale when they span > 2 decades)
  logistics    village stations and county logistics centres at year end
  livestream   active livestreamers and the followers' top-decile share at year end
  income       mean household income by source at year end (stacked), with the total
  inequality   Gini of household income and urban/rural income ratio at year end
  map          villages (x, y from /geography/villages) coloured by the year they were first
               recognised as Taobao Village (from /events); only when the file has events

Values are calendar-year values from ruralsim_io.Run.annual(): flows summed over the year,
stocks at the last record of the year. Units come from the file's `units` attributes. At
province or county level there is one line per entity (--ids selects them; by default all when
there are at most --max-lines, else the --max-lines largest by stores in the last year).
Titles name the scenario, seed (and replicate) and the first 12 characters of the content hash.
Writes to DIR (default: <FILE without .h5>_plots next to the file) and prints the files written.
"""
import argparse
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import BoundaryNorm  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ruralsim_io import RunFileError, annual_label, exit_status, open_run  # noqa: E402

DPI = 120
XLABEL = "calendar year (stocks at year end, flows summed over the year)"


def wants_log(*arrays):
    """Log scale when the positive values span more than two decades."""
    vals = np.concatenate([np.asarray(a, dtype=float).ravel() for a in arrays])
    pos = vals[np.isfinite(vals) & (vals > 0)]
    return pos.size >= 2 and pos.max() / pos.min() > 100


class Plotter:
    def __init__(self, run, level, ids, max_lines, outdir):
        self.run = run
        self.level = level
        self.outdir = outdir
        self.info = run.variables()
        self.ann = run.annual(level).load()
        self.years = self.ann["year"].values
        self.written = []
        self.entities = None
        self.names = {}
        if level != "national":
            n = self.ann.sizes[level]
            all_ids = list(self.ann[level].values)
            if ids:
                bad = [i for i in ids if i not in all_ids]
                if bad:
                    raise SystemExit(f"plot_run.py: no {level} with index {bad} "
                                     f"(0..{n - 1})")
                self.entities = list(ids)
            elif n <= max_lines:
                self.entities = all_ids
            else:
                last = self.ann["stores"].isel(year=-1).values
                top = np.argsort(-np.nan_to_num(last), kind="stable")[:max_lines]
                self.entities = [all_ids[i] for i in sorted(top)]
                print(f"plot_run.py: {n} {level} entries; plotting the {max_lines} with most "
                      f"stores in {self.years[-1]} (use --ids to choose)", file=sys.stderr)
            geo = run.geography("province" if level == "province" else "county")
            for e in self.entities:
                if level == "province" and "name" in geo:
                    self.names[e] = f"{geo.loc[e, 'name']} ({e})"
                else:
                    self.names[e] = f"county {e}"

    # ---- helpers --------------------------------------------------------------------------
    def has(self, name):
        return name in self.ann.data_vars

    def ylabel(self, name, short=None):
        v = self.info[name]
        unit = self.ann[name].attrs.get("annual_units", annual_label(v.units, v.flow))
        text = short or name.replace("_", " ")
        return f"{text} [{unit}]" if unit else f"{text} [-]"

    def figure(self, nrows, title, ncols=1, height=3.0, width=9.0, sharey=False):
        fig, axes = plt.subplots(nrows, ncols, figsize=(width, 0.9 + height * nrows),
                                 sharex=True, sharey=sharey, squeeze=False)
        where = "national" if self.level == "national" else f"by {self.level}"
        fig.suptitle(f"{title} — {where}\n{self.run.label}", fontsize=11)
        return fig, axes

    def finish(self, fig, axes, stem, small_multiples=False):
        for ax in np.ravel(axes):
            if not ax.get_visible():
                continue
            ax.grid(True, alpha=0.3)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            if ax.get_yscale() == "linear":
                ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 5), useMathText=True)
        if small_multiples:
            fig.supxlabel(XLABEL, fontsize=8)
        else:
            axes[-1, 0].set_xlabel(XLABEL, fontsize=8)
        fig.tight_layout()
        path = os.path.join(self.outdir, f"{self.level}_{stem}.png")
        fig.savefig(path, dpi=DPI)
        plt.close(fig)
        self.written.append(path)

    def lines(self, ax, name, log=False, label=None, integer=False, zero_based=True, **kw):
        """One line for national, one per selected entity otherwise."""
        if not self.has(name):
            ax.text(0.5, 0.5, f"{name} not in file", ha="center", transform=ax.transAxes)
            return
        da = self.ann[name]
        if self.level == "national":
            values = [da.values]
        else:
            values = [da.sel({self.level: e}).values for e in self.entities]
        log = bool(log) and wants_log(*values)
        for i, y in enumerate(values):
            y = np.asarray(y, dtype=float)
            if log:  # zeros cannot be drawn on a log axis: leave gaps
                y = np.where(y > 0, y, np.nan)
            if self.level == "national":
                ax.plot(self.years, y, marker="o", ms=3, label=label or name, **kw)
            else:
                ax.plot(self.years, y, marker="o", ms=2.5, color=f"C{i % 10}",
                        label=self.names[self.entities[i]], **kw)
        ax.set_ylabel(self.ylabel(name), fontsize=9)
        finite = np.concatenate([np.asarray(v, float) for v in values])
        finite = finite[np.isfinite(finite)]
        if finite.size == 0:
            ax.text(0.5, 0.5, "no values (NaN: nothing to average)", ha="center",
                    va="center", transform=ax.transAxes, color="0.4")
        if log:
            ax.set_yscale("log")
            if finite.size and np.any(finite <= 0):
                ax.text(0.99, 0.02, "zero values not drawn (log scale)", ha="right",
                        fontsize=7, color="0.4", transform=ax.transAxes)
        elif finite.size and finite.min() == 0 and finite.max() == 0:
            ax.set_ylim(-0.05, 1)
            ax.text(0.5, 0.5, "all zero", ha="center", va="center", transform=ax.transAxes,
                    color="0.4")
        elif zero_based and finite.size and finite.min() >= 0:
            ax.set_ylim(bottom=0)
        if integer:
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))

    def legend(self, ax):
        if self.level != "national":
            ax.legend(fontsize=7, ncol=2 if len(self.entities) > 4 else 1, loc="upper left")

    # ---- figures --------------------------------------------------------------------------
    def stores(self):
        if self.level == "national":
            fig, axes = self.figure(2, "Online stores")
            self.lines(axes[0, 0], "stores", color="C0")
            ax = axes[0 + 1, 0]
            new = self.ann["new_stores"].values
            ex = self.ann["exited_stores"].values
            ax.bar(self.years - 0.2, new, width=0.4, color="C2", label="opened (new_stores)")
            ax.bar(self.years + 0.2, ex, width=0.4, color="C3", label="closed (exited_stores)")
            ax.set_ylabel(self.ylabel("new_stores", "stores opened / closed"), fontsize=9)
            ax.legend(fontsize=8, loc="upper left")
        else:
            fig, axes = self.figure(3, "Online stores")
            self.lines(axes[0, 0], "stores")
            self.lines(axes[1, 0], "new_stores")
            self.lines(axes[2, 0], "exited_stores")
            self.legend(axes[0, 0])
        self.finish(fig, axes, "stores")

    def taobao(self):
        fig, axes = self.figure(2, "Taobao Villages and Taobao Towns")
        self.lines(axes[0, 0], "taobao_villages", integer=True)
        self.lines(axes[1, 0], "taobao_towns", integer=True)
        self.legend(axes[0, 0])
        self.finish(fig, axes, "taobao")

    def sales(self):
        if self.level == "national":
            fig, axes = self.figure(2, "E-commerce sales: organic vs livestream")
            ax = axes[0, 0]
            org = self.ann["sales_organic"].values
            live = self.ann["sales_livestream"].values
            ax.plot(self.years, org, marker="o", ms=3, color="C0", label="organic (marketplace)")
            gaps = " (zero years not drawn)" if np.any(live <= 0) else ""
            ax.plot(self.years, np.where(live > 0, live, np.nan), marker="s", ms=3, color="C1",
                    label="livestream" + gaps)
            if wants_log(org, live):
                ax.set_yscale("log")
            else:
                ax.set_ylim(bottom=0)
            ax.set_ylabel(self.ylabel("sales_organic", "sales"), fontsize=9)
            ax.legend(fontsize=8, loc="upper left")
            ax = axes[1, 0]
            tot = org + live
            share = np.where(tot > 0, live / np.where(tot > 0, tot, 1), np.nan)
            ax.plot(self.years, 100 * share, marker="o", ms=3, color="C1")
            ax.set_ylim(0, max(5, float(np.nanmax(100 * share)) * 1.15
                               if np.isfinite(share).any() else 5))
            ax.set_ylabel("livestream share of sales [%]", fontsize=9)
        else:
            fig, axes = self.figure(2, "E-commerce sales: organic vs livestream")
            for ax, name in zip(axes[:, 0], ("sales_organic", "sales_livestream")):
                da = self.ann[name]
                self.lines(ax, name, log=True)
                if not np.any(da.sel({self.level: self.entities}).values > 0):
                    ax.text(0.5, 0.5, "all zero", ha="center", transform=ax.transAxes)
            self.legend(axes[0, 0])
        self.finish(fig, axes, "sales")

    def logistics(self):
        fig, axes = self.figure(2, "Logistics: village stations and county centres")
        self.lines(axes[0, 0], "stations", integer=True)
        self.lines(axes[1, 0], "county_centres", integer=True)
        self.legend(axes[0, 0])
        self.finish(fig, axes, "logistics")

    def livestream(self):
        fig, axes = self.figure(2, "Livestreamers")
        self.lines(axes[0, 0], "livestreamers", integer=True)
        self.lines(axes[1, 0], "followers_top_decile_share")
        axes[1, 0].set_ylabel("followers' top-decile share [-]", fontsize=9)
        axes[1, 0].set_ylim(0, 1.02)
        self.legend(axes[0, 0])
        self.finish(fig, axes, "livestream")

    def income_sources(self):
        """income_* variables with the units of mean_household_income (not a fixed list)."""
        unit = self.info["mean_household_income"].units
        return [n for n, v in self.info.items()
                if n.startswith("income_") and v.units == unit and self.has(n)]

    def _stack(self, ax, sources, sel, total=None):
        stack = [np.nan_to_num(self.ann[n].sel(sel).values) for n in sources]
        labels = [n.replace("income_", "").replace("_", " ") for n in sources]
        colors = [f"C{self.income_sources().index(n)}" for n in sources]
        ax.stackplot(self.years, *stack, labels=labels, colors=colors, alpha=0.85)
        if total is not None:
            ax.plot(self.years, total, "k--", lw=1.2, label="total (mean_household_income)")
        ax.set_ylim(bottom=0)

    def income(self):
        """Stacked sources; a second panel (national) or figure (by entity) zooms in on the
        sources other than income_base."""
        sources = self.income_sources()
        other = [n for n in sources if n != "income_base"]
        unit = self.info["mean_household_income"].units
        ylab = f"mean income per household [{unit}]"
        if self.level == "national":
            fig, axes = self.figure(2, "Mean household income by source", height=3.4)
            self._stack(axes[0, 0], sources, {}, self.ann["mean_household_income"].values)
            axes[0, 0].set_ylabel(ylab, fontsize=9)
            axes[0, 0].legend(fontsize=8, loc="upper left")
            self._stack(axes[1, 0], other, {})
            axes[1, 0].set_ylabel(f"non-base sources [{unit}]", fontsize=9)
            axes[1, 0].set_title("sources other than base income (zoom)", fontsize=9)
            axes[1, 0].legend(fontsize=8, loc="upper left")
            self.finish(fig, axes, "income")
            return
        for stem, title, srcs, with_total in (
                ("income", "Mean household income by source", sources, True),
                ("income_ecommerce", "Mean household income from sources other than base",
                 other, False)):
            ents = self.entities
            ncols = min(3, len(ents))
            nrows = math.ceil(len(ents) / ncols)
            fig, axes = self.figure(nrows, title, ncols=ncols, height=2.5, width=11,
                                    sharey=True)
            flat = np.ravel(axes)
            for k, ax in enumerate(flat):
                if k >= len(ents):
                    ax.set_visible(False)
                    # the panel above shows the x tick labels instead
                    flat[k - ncols].tick_params(labelbottom=True)
                    continue
                e = ents[k]
                sel = {self.level: e}
                total = self.ann["mean_household_income"].sel(sel).values if with_total else None
                self._stack(ax, srcs, sel, total)
                ax.set_title(self.names[e], fontsize=9)
                if k % ncols == 0:
                    ax.set_ylabel(f"[{unit}]", fontsize=9)
            handles, labels = flat[0].get_legend_handles_labels()
            fig.legend(handles, labels, loc="lower right", fontsize=8, ncol=1,
                       bbox_to_anchor=(0.98, 0.02))
            self.finish(fig, axes, stem, small_multiples=True)

    def inequality(self):
        fig, axes = self.figure(2, "Income inequality")
        self.lines(axes[0, 0], "gini_income", zero_based=False)
        axes[0, 0].set_ylabel("Gini of household income [-]", fontsize=9)
        self.lines(axes[1, 0], "income_ratio_urban_rural", zero_based=False)
        axes[1, 0].set_ylabel("urban / rural income ratio [-]", fontsize=9)
        self.legend(axes[0, 0])
        self.finish(fig, axes, "inequality")

    def map(self):
        ev = self.run.events
        if ev.empty:
            return
        vil = self.run.geography("villages")
        tv = ev[ev["kind_name"] == "taobao_village_recognised"]
        first = tv.groupby("entity")["year"].min()
        rec = vil.loc[vil.index.isin(first.index)]
        years = first.reindex(rec.index).values
        fig, ax = plt.subplots(figsize=(8.5, 7.5))
        xunit = self.run._h5["geography/villages/x"].attrs.get("units", "")
        xunit = xunit.decode() if isinstance(xunit, bytes) else str(xunit)
        highlight = None
        if self.level == "county" and self.entities is not None and len(self.entities) < \
                self.run.geography("counties").shape[0]:
            highlight = vil["county"].isin(self.entities).values
        never = ~vil.index.isin(first.index)
        size = 4 if len(vil) > 1000 else 12
        ax.scatter(vil["x"][never], vil["y"][never], s=size, c="0.8", lw=0,
                   label=f"not recognised ({int(never.sum())})")
        if highlight is not None:
            m = never & highlight
            ax.scatter(vil["x"][m], vil["y"][m], s=size, c="0.45", lw=0,
                       label=f"  of which in counties {self.entities} ({int(m.sum())})")
        if len(rec):
            y0, y1 = int(years.min()), int(years.max())
            bounds = np.arange(y0 - 0.5, y1 + 1.5)
            cmap = plt.get_cmap("viridis", len(bounds) - 1)
            norm = BoundaryNorm(bounds, cmap.N)
            sc = ax.scatter(rec["x"], rec["y"], s=size * 4, c=years, cmap=cmap, norm=norm,
                            edgecolors="k", linewidths=0.3,
                            label=f"Taobao Village ({len(rec)})")
            cb = fig.colorbar(sc, ax=ax, ticks=np.arange(y0, y1 + 1), shrink=0.8)
            cb.set_label("year first recognised as Taobao Village")
        seats = self.run.geography("counties")
        ax.scatter(seats["x"], seats["y"], marker="X", s=50, c="C3", edgecolors="k",
                   linewidths=0.5, label="county seat")
        for cid, row in seats.iterrows():
            ax.annotate(str(cid), (row["x"], row["y"]), xytext=(4, 4),
                        textcoords="offset points", fontsize=8, color="C3")
        ax.set_aspect("equal")
        ax.set_xlabel(f"x [{xunit}]")
        ax.set_ylabel(f"y [{xunit}]")
        ax.legend(fontsize=8, loc="upper left", framealpha=0.85)
        ax.grid(True, alpha=0.2)
        none = "" if len(rec) else " (none recognised)"
        ax.set_title(f"Villages by year of Taobao Village recognition{none}\n{self.run.label}",
                     fontsize=11)
        fig.tight_layout()
        path = os.path.join(self.outdir, f"{self.level}_map.png")
        fig.savefig(path, dpi=DPI)
        plt.close(fig)
        self.written.append(path)

    def all(self):
        for f in (self.stores, self.taobao, self.sales, self.logistics, self.livestream,
                  self.income, self.inequality, self.map):
            f()
        return self.written


def parse_ids(values):
    ids = []
    for v in values or []:
        for tok in str(v).replace(",", " ").split():
            try:
                ids.append(int(tok))
            except ValueError:
                raise SystemExit(f"plot_run.py: --ids takes integer indices, not {tok!r}")
    return ids


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n".join(__doc__.split("\n")[4:]))
    ap.add_argument("file", help="ruralsim result file (.h5)")
    ap.add_argument("--out", help="output directory (default <FILE>_plots)")
    ap.add_argument("--level", choices=("national", "province", "county"), default="national")
    ap.add_argument("--ids", nargs="+", help="province/county indices to plot (0-based)")
    ap.add_argument("--max-lines", type=int, default=8,
                    help="entities plotted by default at province/county level (default 8)")
    args = ap.parse_args(argv)
    if args.ids and args.level == "national":
        ap.error("--ids needs --level province or county")
    if not os.path.isfile(args.file):
        ap.error(f"no such file: {args.file}")
    outdir = args.out or os.path.splitext(args.file)[0] + "_plots"
    os.makedirs(outdir, exist_ok=True)
    with open_run(args.file) as run:
        written = Plotter(run, args.level, parse_ids(args.ids), args.max_lines, outdir).all()
    for p in written:
        print(p)
    return 0


if __name__ == "__main__":
    sys.exit(exit_status(main, None, "plot_run.py", (RunFileError,), "file(s)"))
