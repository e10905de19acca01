"""Read ruralsim HDF5 result files into xarray / pandas for analysis.

Use the Debian interpreter /usr/bin/python3 (numpy, h5py, xarray with the h5netcdf engine,
pandas). Typical use::

    import sys; sys.path.insert(0, "analysis")
    from ruralsim_io import open_run, open_runs

    with open_run("outputs/baseline_seed1.h5") as run:
        print(run.label)                       # "baseline | seed 1 | hash d9425836b956"
        print(run.variables()["sales_total"])  # VarInfo(units='RMB', description=..., flow=True, ...)
        yearly = run.annual()                  # national, one value per calendar year
        print(yearly["stores"].to_series())
        county = run.annual("county")          # dims (year, county)
        tv = run.events[run.events.kind_name == "taobao_village_recognised"]
        villages = run.geography("villages")   # x, y, county, town, households, ...
        stores = run.snapshot("stores")        # every store at the end of the last year
        streamers = run.snapshot("livestreamers", year=run.snapshot_years[-1])

    runs = open_runs(["a.h5", "b.h5"], annual=True)  # dims (run, year) with scenario/seed coords

Time and calendar years
-----------------------
``time`` in the file is the decimal calendar year at the *end* of the recorded tick, so the last
record of 2009 has time 2010.0. Grouping by ``floor(time)`` therefore puts the last record of
each year into the next year. This module adds a ``year`` coordinate computed from the tick,
``start_year + tick // ticks_per_year`` (the same rule as ``/events/year`` and
``/village_annual/year``), and ``annual()`` groups by it.

Flows and stocks
----------------
The file does not mark variables as flows or stocks, and this module does not keep a list of
variable names. The rule, applied to each dataset's attributes, is (``is_flow``)::

    a variable is a FLOW if its ``units`` attribute is exactly one of  RMB, parcels, sessions
    or its ``description`` attribute contains "during the interval"; otherwise it is a STOCK.

Flows are totals over the recording interval and are summed over the records of a calendar year;
stocks (counts, means, shares, ratios, incomes given as annual rates in RMB/yr) are taken at the
last record of the year. tests/analysis/test_analysis.py checks the rule against the text printed
by ``ruralsim outputs`` and checks the annual totals against ``/village_annual`` (which the
simulator aggregates itself). Caveat: ``mean_delivery_days`` and ``mean_shipping_cost`` are ratios
of flows (per parcel sent in the interval); the rule treats them as stocks, so ``annual()`` gives
the value of the last interval of the year. For a parcel-weighted annual mean, as in
``/village_annual``, pass ``weights={"mean_delivery_days": "parcels_out",
"mean_shipping_cost": "parcels_out"}``.
"""
from __future__ import annotations

import os
import sys
import warnings
from collections import namedtuple

import h5py
import numpy as np
import pandas as pd
import xarray as xr

__all__ = [
    "RunFileError", "FLOW_UNITS", "FLOW_PHRASE", "VarInfo", "Run", "is_flow", "open_run", "open_runs",
    "annual_label",
]

#: Units that mark a variable as a flow (totals over the recording interval).
FLOW_UNITS = frozenset({"RMB", "parcels", "sessions"})
#: Description phrase that marks a variable as a flow.
FLOW_PHRASE = "during the interval"

SERIES_LEVELS = ("national", "province", "county")
GEO_TABLES = ("provinces", "counties", "towns", "villages", "categories")

VarInfo = namedtuple("VarInfo", "units description flow in_village_snapshots")
VarInfo.__doc__ = "Units, description, flow (True) or stock (False), present in /village_annual."


class RunFileError(ValueError):
    """A file that is not a readable ruralsim result: not HDF5, damaged or truncated, foreign,
    or with data that no longer match the stored content hash. The message names the file."""


_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_verified = {}  # (path, size, mtime) of files whose content hash was checked


def _has_hdf5_signature(path) -> bool:
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as fh:
            off = 0
            while off + 8 <= size:
                fh.seek(off)
                if fh.read(8) == _HDF5_SIGNATURE:
                    return True
                off = 512 if off == 0 else off * 2
    except OSError:
        return False
    return False


def _open_h5(path):
    """h5py.File(path, 'r') with a RunFileError that says what is wrong instead of OSError."""
    if not os.path.exists(path):
        raise RunFileError(f"{path}: no such file")
    if not os.path.isfile(path):
        raise RunFileError(f"{path}: not a regular file")
    try:
        return h5py.File(path, "r")
    except OSError as e:
        if _has_hdf5_signature(path):
            raise RunFileError(f"{path}: damaged or truncated HDF5 file (it has an HDF5 "
                               f"signature but cannot be opened: {e})") from None
        raise RunFileError(f"{path}: not an HDF5 file") from None


def verify_content_hash(h5, path):
    """Recomputes the content hash (analysis/check_h5.py) and raises RunFileError if it differs
    from the stored one: the data were changed or damaged after the run."""
    key = (os.path.abspath(path), os.path.getsize(path), os.path.getmtime(path))
    if key in _verified:
        return
    here = os.path.dirname(os.path.abspath(__file__))
    import sys
    if here not in sys.path:
        sys.path.insert(0, here)
    from check_h5 import content_hash  # noqa: E402 (sibling module)
    stored = _text(h5.attrs.get("content_hash", ""))
    if not stored:
        raise RunFileError(f"{path}: no content_hash attribute (not a ruralsim result file?)")
    try:
        computed = content_hash(h5)
    except Exception as e:  # noqa: BLE001 - any read error means a damaged file
        raise RunFileError(f"{path}: damaged file: cannot read its data ({e})") from None
    if computed != stored:
        raise RunFileError(f"{path}: content hash mismatch: the data were changed or damaged "
                           f"after the run (stored {stored[:12]}, recomputed {computed[:12]}); "
                           f"refusing to use it (open_run(path, verify=False) reads it anyway)")
    _verified[key] = True


def is_flow(units, description) -> bool:
    """The flow/stock rule (see the module docstring), from a dataset's attributes."""
    return _text(units).strip() in FLOW_UNITS or FLOW_PHRASE in _text(description)


def _text(value) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray):
        if value.shape == ():
            return _text(value[()])
        if value.size == 1:
            return _text(value.ravel()[0])
    return str(value)


def _attr_value(value):
    """Root attribute as a plain Python value (str, int, float)."""
    if isinstance(value, (bytes, np.bytes_)):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray):
        if value.shape == () or value.size == 1:
            return _attr_value(value.ravel()[0])
        return [_attr_value(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _int_or(value, default=None):
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return default


def annual_label(units: str, flow: bool) -> str:
    """Axis label for a value of annual(): flows become '<units> per year'."""
    units = units if units and units != "-" else ""
    if flow:
        return f"{units} per year" if units else "per year"
    return units


class Run:
    """One ruralsim result file. Use ``open_run(path)``; close with ``close()`` or ``with``.

    Attributes (read on first use, kept open lazily via xarray/h5netcdf):
      national, province, county  xarray.Dataset with dims (time[, province|county]); ``time``
                                  is the decimal year at the end of the tick (float), with
                                  coordinates ``tick`` and ``year`` (calendar year of the tick)
      village_annual              xarray.Dataset (year, village), or None if not written
      snapshot_years              years with store and livestreamer snapshots; read them with
                                  snapshot("stores"|"livestreamers", year) (pandas.DataFrame)
      events                      pandas.DataFrame, one row per event, with ``kind_name``
      provenance                  dict: root attributes + scenario_input, scenario_resolved
    """

    def __init__(self, path, verify=True):
        self.path = os.fspath(path)
        self._h5 = _open_h5(self.path)
        self._cache = {}
        self._opened = []
        a = self._h5.attrs
        fmt = _text(a.get("format", ""))
        if fmt and not fmt.startswith("ruralsim-hdf5"):
            warnings.warn(f"{self.path}: unexpected format '{fmt}'")
        self.ticks_per_year = _int_or(_attr_value(a.get("ticks_per_year")))
        self.start_year = _int_or(_attr_value(a.get("start_year")))
        if self.ticks_per_year is None or self.start_year is None or self.ticks_per_year <= 0:
            self._h5.close()
            raise RunFileError(f"{self.path}: root attributes ticks_per_year/start_year missing "
                               f"or invalid (not a ruralsim result file?)")
        if verify:
            try:
                verify_content_hash(self._h5, self.path)
            except RunFileError:
                self._h5.close()
                raise

    # ---- lifetime -------------------------------------------------------------------------
    def close(self):
        for ds in self._opened:
            ds.close()
        self._opened.clear()
        self._cache.clear()
        if self._h5 is not None:
            self._h5.close()
            self._h5 = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return f"<ruralsim Run {self.label!r} {self.path}>"

    # ---- identity -------------------------------------------------------------------------
    @property
    def provenance(self) -> dict:
        if "provenance" not in self._cache:
            prov = {k: _attr_value(v) for k, v in self._h5.attrs.items()}
            for name in ("scenario_input", "scenario_resolved"):
                key = f"provenance/{name}"
                prov[name] = _text(self._h5[key][()]) if key in self._h5 else None
            self._cache["provenance"] = prov
        return self._cache["provenance"]

    @property
    def scenario(self) -> str:
        return str(self.provenance.get("scenario_name", ""))

    @property
    def seed(self):
        return _int_or(self.provenance.get("seed"))

    @property
    def replicate(self):
        return _int_or(self.provenance.get("replicate"), 0)

    @property
    def content_hash(self) -> str:
        return str(self.provenance.get("content_hash", ""))

    @property
    def label(self) -> str:
        """'scenario | seed S[ rep R] | hash XXXXXXXXXXXX' for figure titles."""
        rep = f" rep {self.replicate}" if self.replicate else ""
        return f"{self.scenario} | seed {self.seed}{rep} | hash {self.content_hash[:12]}"

    # ---- time series ----------------------------------------------------------------------
    def _series(self, level):
        if level not in SERIES_LEVELS:
            raise ValueError(f"level must be one of {SERIES_LEVELS}, not {level!r}")
        if level not in self._cache:
            ds = xr.open_dataset(self.path, group=level, engine="h5netcdf")
            self._opened.append(ds)
            if "tick" in ds.data_vars:
                ds = ds.set_coords("tick")
            if "year" in ds.data_vars:  # written by the recorder
                ds = ds.set_coords("year")
            elif "year" in ds.coords:  # the `coordinates` attribute made it one already
                pass
            elif "tick" in ds.coords:  # files from builds that did not write it
                tick = ds["tick"].values.astype(np.int64)
                ds = ds.assign_coords(year=("time", self.start_year + tick // self.ticks_per_year))
                ds["year"].attrs.update(units="year",
                                        description="Calendar year of the record's tick "
                                                    "(start_year + tick // ticks_per_year)")
            ds.attrs.update(scenario=self.scenario, seed=str(self.seed),
                            replicate=str(self.replicate), content_hash=self.content_hash)
            self._cache[level] = ds
        return self._cache[level]

    @property
    def national(self) -> xr.Dataset:
        return self._series("national")

    @property
    def province(self) -> xr.Dataset:
        return self._series("province")

    @property
    def county(self) -> xr.Dataset:
        return self._series("county")

    @property
    def village_annual(self):
        if "village_annual" not in self._cache:
            ds = None
            if "village_annual" in self._h5:
                ds = xr.open_dataset(self.path, group="village_annual", engine="h5netcdf")
                self._opened.append(ds)
            self._cache["village_annual"] = ds
        return self._cache["village_annual"]

    def variables(self) -> dict:
        """name -> VarInfo(units, description, flow, in_village_snapshots), in file order.

        Read from the attributes of the datasets in /national (every dataset with a ``time``
        dimension except the coordinates ``time`` and ``tick``)."""
        if "variables" not in self._cache:
            g = self._h5["national"]
            va = self._h5["village_annual"] if "village_annual" in self._h5 else None
            out = {}
            # h5py lists links in creation order when the file tracks it (ruralsim's does),
            # which is the order of `ruralsim outputs`
            names = list(g.keys())
            for name in names:
                obj = g[name]
                if not isinstance(obj, h5py.Dataset) or name in ("time", "tick", "year"):
                    continue
                if obj.ndim != 1 or obj.shape != g["time"].shape:
                    continue
                units = _text(obj.attrs.get("units", ""))
                desc = _text(obj.attrs.get("description", ""))
                agg = _text(obj.attrs.get("aggregation", ""))
                # the recorder's `aggregation` attribute says flow or not; older files: by rule
                flow = agg.startswith("flow") if agg else is_flow(units, desc)
                out[name] = VarInfo(units, desc, flow, va is not None and name in va)
            self._cache["variables"] = out
        return self._cache["variables"]

    def flows(self) -> list:
        return [n for n, v in self.variables().items() if v.flow]

    def stocks(self) -> list:
        return [n for n, v in self.variables().items() if not v.flow]

    def annual(self, level="national", how="auto", variables=None, weights=None) -> xr.Dataset:
        """One value per calendar year at ``level`` (national, province or county).

        how:
          "auto"  flows (see is_flow) summed over the year's records, stocks at the year's
                  last record (default)
          "end"   every variable at the year's last record
          "sum"   every variable summed over the year's records
          "mean"  every variable averaged over the year's records
        weights: optional {variable: weight_variable}; those variables become
          sum(v * w) / sum(w) over the year (e.g. {"mean_delivery_days": "parcels_out"}).
        variables: optional list of variable names to keep.

        The result has dimension ``year`` (int) instead of ``time``; each variable keeps its
        attributes plus ``annual_aggregation`` and ``annual_units`` (e.g. "RMB per year").
        If output.every does not divide ticks_per_year, a record's interval can straddle two
        years; its flow is then counted in the year of the record's last tick (a warning says so).
        """
        if how not in ("auto", "end", "sum", "mean"):
            raise ValueError("how must be auto, end, sum or mean")
        if level not in SERIES_LEVELS:
            raise ValueError(f"level must be one of {SERIES_LEVELS}, not {level!r}")
        # Read with h5py: the same data as the xarray view, without h5netcdf's per-access
        # overhead (large for files not written by netCDF).
        g = self._h5[level]
        info = self.variables()
        names = [n for n in info if n in g]
        if variables is not None:
            missing = [v for v in variables if v not in info]
            if missing:
                raise KeyError(f"unknown variable(s) {missing}; known: {list(info)}")
            names = [n for n in names if n in set(variables)]
        for n, wname in (weights or {}).items():
            if n not in info or wname not in info:
                raise KeyError(f"weights: unknown variable in {n!r}: {wname!r}")
        weights = dict(weights or {})
        ticks = g["tick"][:].astype(np.int64)
        years = self.start_year + ticks // self.ticks_per_year
        prev = np.r_[-1, ticks[:-1]]
        if np.any((prev + 1) // self.ticks_per_year != ticks // self.ticks_per_year):
            warnings.warn(f"{self.path}: records straddle calendar years (output.every does "
                          f"not divide ticks_per_year={self.ticks_per_year}); flows are "
                          "counted in the year of each record's last tick")
        if np.any(np.diff(ticks) <= 0):
            raise ValueError(f"{self.path}: records are not in tick order")
        uniq, first = np.unique(years, return_index=True)
        last = np.r_[first[1:], years.size] - 1  # index of each year's last record
        counts = np.diff(np.r_[first, years.size])
        # numpy on one variable at a time: fast, and memory stays at one variable
        def reduce_sum(x):
            return np.add.reduceat(x, first, axis=0)

        out = {}
        dims = ("year",) if level == "national" else ("year", level)
        for n in names:
            v = info[n]
            x = g[n][:].astype(float)
            if n in weights:
                w = g[weights[n]][:].astype(float)
                num, den = reduce_sum(np.where(w != 0, x * w, 0.0)), reduce_sum(w)
                with np.errstate(invalid="ignore", divide="ignore"):
                    val = np.where(den != 0, num / np.where(den != 0, den, 1.0), np.nan)
                agg, flow_like = f"mean over the year weighted by {weights[n]}", False
            elif how == "sum" or (how == "auto" and v.flow):
                val, agg, flow_like = reduce_sum(x), "sum over the calendar year", True
            elif how == "mean":
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    val = np.add.reduceat(np.nan_to_num(x), first, axis=0) / \
                        np.add.reduceat(np.isfinite(x).astype(float), first, axis=0)
                agg, flow_like = "mean of the records of the calendar year", False
            else:
                val, agg, flow_like = x[last], "value at the last record of the calendar year", False
            attrs = {"units": v.units, "description": v.description,
                     "annual_aggregation": agg}
            attrs["annual_units"] = annual_label(v.units, flow_like)
            out[n] = xr.Variable(dims, val, attrs)
        coords = {"year": uniq, "records": ("year", counts)}
        if level != "national":
            coords[level] = (level, g[level][:], {
                k: _text(a) for k, a in g[level].attrs.items() if k in ("units", "description")})
        res = xr.Dataset(out, coords=coords)
        res["records"].attrs.update(units="-", description="Records summed in the year")
        res["year"].attrs.update(units="year", description="Calendar year")
        res.attrs.update(description=_text(g.attrs.get("description", "")),
                         scenario=self.scenario, seed=str(self.seed),
                         replicate=str(self.replicate), content_hash=self.content_hash,
                         level=level, annual_how=how)
        return res

    # ---- events and geography -------------------------------------------------------------
    @property
    def events(self) -> pd.DataFrame:
        """One row per event: event, tick, year, time (decimal year at the end of the tick,
        like the series), kind (code), kind_name, entity, value."""
        if "events" not in self._cache:
            cols = {}
            if "events" in self._h5:
                g = self._h5["events"]
                for name, obj in g.items():
                    if isinstance(obj, h5py.Dataset) and obj.ndim == 1:
                        data = obj[:]
                        if h5py.check_string_dtype(obj.dtype) is not None:
                            data = np.array([_text(x) for x in data], dtype=object)
                        cols[name] = data
            df = pd.DataFrame(cols)
            for c in ("event", "tick", "year", "kind", "entity", "value", "kind_name"):
                if c not in df:
                    df[c] = pd.Series(dtype=object if c == "kind_name" else "int64")
            df["time"] = self.start_year + (df["tick"].astype(float) + 1) / self.ticks_per_year
            first = ["event", "year", "tick", "time", "kind", "kind_name", "entity", "value"]
            df = df[first + [c for c in df.columns if c not in first]]
            self._cache["events"] = df.reset_index(drop=True)
        return self._cache["events"]

    def event_kinds(self) -> dict:
        """code -> name, parsed from the description of /events/kind ("1=name 2=name ...")."""
        if "events/kind" not in self._h5:
            return {}
        out = {}
        for tok in _text(self._h5["events/kind"].attrs.get("description", "")).split():
            code, sep, name = tok.partition("=")
            if sep and code.isdigit():
                out[int(code)] = name
        return out

    def geography(self, level) -> pd.DataFrame:
        """A geography table (provinces, counties, towns, villages, categories; singular
        forms accepted) as a DataFrame indexed by its 0-based index column."""
        table = _geo_table_name(level)
        key = f"geography/{table}"
        if key not in self._h5:
            raise KeyError(f"{self.path}: no /{key}")
        g = self._h5[key]
        cols = {}
        for name, obj in g.items():
            if not isinstance(obj, h5py.Dataset):
                continue
            data = obj[:]
            if h5py.check_string_dtype(obj.dtype) is not None:
                data = np.array([_text(x) for x in data], dtype=object)
            cols[name] = data
        df = pd.DataFrame(cols)
        index = {"provinces": "province", "counties": "county", "towns": "town",
                 "villages": "village", "categories": "category"}[table]
        if index in df:
            df = df.set_index(index)
        return df

    def units(self, name) -> str:
        return self.variables()[name].units

    # ---- store and livestreamer snapshots -------------------------------------------------
    @property
    def snapshot_years(self) -> list:
        """Calendar years with a store and livestreamer snapshot (/snapshots/<year>), ascending;
        [] for files written before snapshots existed or with output.snapshot_years: []."""
        if "snapshots" not in self._h5:
            return []
        return sorted(int(k) for k in self._h5["snapshots"].keys() if k.isdigit())

    def snapshot(self, entity="stores", year=None) -> pd.DataFrame:
        """Every store (``entity="stores"``) or livestreamer (``"livestreamers"``) alive at the
        end of ``year`` (default: the last snapshot year), one row each, indexed by ``store`` /
        ``livestreamer`` (0-based within the snapshot), with one column per dataset of
        /snapshots/<year>/<entity> (docs/outputs.md) plus, from the geography, ``county`` and
        ``province`` for stores and ``province`` for livestreamers. Column attributes (units,
        descriptions) are in ``df.attrs["units"]`` and ``df.attrs["description"]``.
        KeyError for a file or year without snapshots."""
        groups = {"stores": "store", "store": "store", "livestreamers": "livestreamer",
                  "livestreamer": "livestreamer"}
        if entity not in groups:
            raise ValueError(f"entity must be 'stores' or 'livestreamers', not {entity!r}")
        dim = groups[entity]
        entity = dim + "s"
        years = self.snapshot_years
        if not years:
            raise KeyError(f"{self.path}: no store or livestreamer snapshots (/snapshots); the "
                           "file was written before they existed or with "
                           "output.snapshot_years: []")
        year = years[-1] if year is None else int(year)
        if year not in years:
            raise KeyError(f"{self.path}: no snapshot of {year}; snapshot years: {years}")
        key = ("snapshot", entity, year)
        if key not in self._cache:
            path = f"snapshots/{year}/{entity}"
            cols, units, desc = {}, {}, {}
            n = 0
            if path in self._h5:
                g = self._h5[path]
                n = g[dim].shape[0] if dim in g else 0
                for name, obj in g.items():
                    if isinstance(obj, h5py.Dataset) and name != dim:
                        cols[name] = obj[:]
                        units[name] = _text(obj.attrs.get("units", ""))
                        desc[name] = _text(obj.attrs.get("description", ""))
            df = pd.DataFrame(cols, index=pd.RangeIndex(n, name=dim))
            villages = self.geography("villages")
            if entity == "stores" and "village" in df:
                v = df["village"].to_numpy()
                df["county"] = villages["county"].to_numpy()[v]
                df["province"] = villages["province"].to_numpy()[v]
            elif "county" in df:
                df["province"] = self.geography("counties")["province"].to_numpy()[
                    df["county"].to_numpy()]
            df.attrs.update(year=year, entity=entity, units=units, description=desc)
            self._cache[key] = df
        return self._cache[key].copy()

    def closed_store_sales(self, year=None) -> float:
        """Calendar-year sales (RMB) of the stores that closed during ``year`` (default: the
        last snapshot year); they are not in ``snapshot("stores", year)``, and with the stores'
        ``sales`` they add up to the year's national ``sales_total``."""
        years = self.snapshot_years
        if not years:
            raise KeyError(f"{self.path}: no store snapshots (/snapshots)")
        year = years[-1] if year is None else int(year)
        key = f"snapshots/{year}/closed_store_sales"
        if key not in self._h5:
            raise KeyError(f"{self.path}: no /{key}; snapshot years: {years}")
        return float(self._h5[key][()])


def _geo_table_name(level):
    aliases = {"province": "provinces", "county": "counties", "town": "towns",
               "village": "villages", "category": "categories"}
    table = aliases.get(level, level)
    if table not in GEO_TABLES:
        raise ValueError(f"geography level must be one of {GEO_TABLES}, not {level!r}")
    return table


def open_run(path, verify=True) -> Run:
    """Open a ruralsim result file (read-only). RunFileError for a file that is not HDF5, is
    damaged or truncated, is not a ruralsim result, or (with ``verify``, the default) whose data
    no longer match the stored content hash."""
    return Run(path, verify=verify)


def open_runs(paths, level="national", annual=False, how="auto", variables=None) -> xr.Dataset:
    """Several result files stacked along a new ``run`` dimension (loaded into memory).

    Coordinates on ``run``: scenario (scenario_name), seed, replicate, overrides, path,
    content_hash. With ``annual=True`` each run is first reduced with ``Run.annual(level, how)``
    (dimension ``year``), which is what replicate and policy comparisons usually want; otherwise
    the recorded series are stacked (dimension ``time``; runs of different length are padded
    with NaN). Group replicates with ``ds.groupby("scenario")``.
    """
    paths = [os.fspath(p) for p in paths]
    if not paths:
        raise ValueError("open_runs needs at least one file")
    parts, meta = [], {k: [] for k in ("scenario", "seed", "replicate", "overrides", "path",
                                         "content_hash")}
    for p in paths:
        with open_run(p) as r:
            if annual:
                ds = r.annual(level, how=how, variables=variables)
            else:
                ds = r._series(level)
                if variables is not None:
                    ds = ds[list(variables)]
            parts.append(ds.load())
            meta["scenario"].append(r.scenario)
            meta["seed"].append(r.seed if r.seed is not None else -1)
            meta["replicate"].append(r.replicate)
            meta["overrides"].append(str(r.provenance.get("overrides", "")))
            meta["path"].append(p)
            meta["content_hash"].append(r.content_hash)
    dim = "year" if annual else "time"
    if not annual:
        # tick/year coordinates differ between runs of different length: keep them per run
        parts = [d.reset_coords([c for c in ("tick", "year") if c in d.coords]) for d in parts]
    out = xr.concat(parts, dim="run", join="outer", combine_attrs="drop_conflicts",
                    coords="minimal", compat="override")
    out = out.assign_coords(run=np.arange(len(paths)),
                            **{k: ("run", np.asarray(v)) for k, v in meta.items()})
    for k in ("scenario", "seed", "replicate", "content_hash"):
        out.attrs.pop(k, None)
    out.attrs["stacked_along"] = f"run (then {dim})"
    return out


def exit_status(main, argv, prog, refusals, what):
    """Runs `main(argv)` of a command-line tool and returns its exit status: a refusal
    (`refusals`, a tuple of exception types) or a file that cannot be used (OSError, KeyError,
    ValueError, naming `what`) is one line on stderr and status 2; anything else is a bug, still
    one line, status 1."""
    try:
        return main(argv)
    except refusals as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 2
    except (OSError, KeyError, ValueError) as e:
        print(f"{prog}: error: cannot use the {what}: {type(e).__name__}: {e}", file=sys.stderr)
        return 2
    except Exception as e:  # noqa: BLE001 - a bug: still one line, status 1
        print(f"{prog}: internal error: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
