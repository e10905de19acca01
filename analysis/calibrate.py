#!/usr/bin/python3
"""Fit free parameters of a scenario to targets through sweeps (docs/calibration.md).

usage: calibrate.py CALIBRATION.yaml [--out DIR] [--jobs N] [--threads-per-run T] [--slurm]
                    [--check] [--quiet]
       (normally called as `ruralsim calibrate CALIBRATION.yaml ...`)

Stage 1 is one sweep over a space-filling design (scrambled Sobol or Latin hypercube of
scipy.stats.qmc, seeded); stage 2 asks Optuna (TPE or CMA-ES, seeded) for batches of points and
runs each batch as one sweep. Every point is run for `replicates` replicates with the same seeds
(common random numbers). The loss of a point is

    L = sum over fitted targets i of  w_i * (e_i / tol_i)^2
      + sum over parameters j with a prior of  ((g(x_j) - mu_j) / sigma_j)^2

with e_i = (m_i - y_i) / |y_i| (relative) or ln(m_i / y_i) (log), m_i the mean over replicates of
the simulated value, y_i the target, and g the identity (or ln for a log-scale parameter).

Resumable: the directory records a fingerprint of the calibration file, the targets file and the
base scenario; running the same command again reuses finished sweeps and runs and replays the
seeded search, so the trail is the same as in an uninterrupted calibration. A changed file is
refused for an existing directory. Writes DIR/trail.csv, fitted.yaml, targets.csv, targets.md,
figures/<target>.png, figures/parameters.png and DIR/sweeps/.
"""
import argparse
import csv
import hashlib
import json
import math
import os
import re
import shutil
import subprocess
import sys
import time
import warnings

import numpy as np
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PROG = os.environ.get("RURALSIM_CALIBRATE_PROG", "calibrate.py")
FORMAT_VERSION = 1

TOP_KEYS = ["name", "description", "base", "targets_file", "set", "parameters", "targets",
            "replicates", "seed", "stage1", "stage2", "optimum_replicates", "jobs",
            "threads_per_run", "slurm", "identification"]
IDENT_KEYS = ["step", "replicates"]
PARAM_KEYS = ["low", "high", "log", "prior"]
TARGET_KEYS = ["name", "fact", "year", "field", "scale", "output", "level", "filter", "stat",
               "across", "threshold", "sim_year", "weight", "tolerance", "fit"]
LEVELS = ["national", "province", "county"]
STATS = ["auto", "year_end", "year_sum", "year_mean"]
ACROSS = ["sum", "mean", "count_ge"]
FILTER_KEYS = ["poverty"]
STAGE1_KEYS = ["method", "points"]
STAGE1_METHODS = ["sobol", "lhs"]
STAGE2_KEYS = ["sampler", "trials", "batch", "sigma0"]
SAMPLERS = ["tpe", "cmaes"]
SLURM_KEYS = ["time", "cpus_per_task", "mem", "partition", "max_concurrent", "per_task",
              "poll_seconds"]


class CalibError(Exception):
    """Bad calibration file, arguments or directory (exit status 2)."""


class RunFailure(Exception):
    """A sweep command failed (exit status 1, or 130 when interrupted)."""

    def __init__(self, msg, code=1):
        super().__init__(msg)
        self.code = code


# ---- YAML with locations -------------------------------------------------------------------
class Node:
    """A YAML value with its location: .v is a scalar, a list of Node or a dict str -> Node."""

    def __init__(self, v, line, col, kind):
        self.v, self.line, self.col, self.kind = v, line, col, kind


def _to_node(n, file):
    line, col = n.start_mark.line + 1, n.start_mark.column + 1
    if isinstance(n, yaml.MappingNode):
        d, keys = {}, {}
        for k, v in n.value:
            if not isinstance(k, yaml.ScalarNode):
                raise CalibError(f"{file}:{k.start_mark.line + 1}:{k.start_mark.column + 1}: "
                                 "keys must be text")
            if k.value in d:
                raise CalibError(f"{file}:{k.start_mark.line + 1}:{k.start_mark.column + 1}: "
                                 f"key '{k.value}' appears twice")
            d[k.value] = _to_node(v, file)
            keys[k.value] = (k.start_mark.line + 1, k.start_mark.column + 1)
        node = Node(d, line, col, "map")
        node.keys = keys
        return node
    if isinstance(n, yaml.SequenceNode):
        return Node([_to_node(x, file) for x in n.value], line, col, "list")
    value = yaml.constructor.SafeConstructor().construct_object(n, deep=True)
    return Node(value, line, col, "scalar")


def load_yaml(path, what):
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise CalibError(f"{path}: cannot read the {what}: {e.strerror}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise CalibError(f"{path}: the {what} is not UTF-8 text")
    try:
        tree = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as e:
        m = getattr(e, "problem_mark", None)
        where = f"{path}:{m.line + 1}:{m.column + 1}" if m else path
        raise CalibError(f"{where}: not valid YAML: {getattr(e, 'problem', e)}")
    if tree is None:
        raise CalibError(f"{path}:1:1: the {what} is empty")
    return _to_node(tree, path), text


class Reader:
    def __init__(self, file):
        self.file = file

    def fail(self, node, msg, key=None):
        line, col = (node.keys[key] if key is not None and hasattr(node, "keys")
                     and key in node.keys else (node.line, node.col))
        raise CalibError(f"{self.file}:{line}:{col}: {msg}")

    def map(self, node, where, valid):
        if node.kind != "map":
            self.fail(node, f"key '{where}' must be a map with keys: {', '.join(valid)}")
        for k in node.v:
            if k not in valid:
                self.fail(node, f"unknown key '{where + '.' if where else ''}{k}'; valid keys: "
                          f"{', '.join(valid)}", key=k)
        return node.v

    def number(self, node, where, lo=-math.inf, hi=math.inf, integer=False):
        v = node.v
        if node.kind == "scalar" and isinstance(v, str):
            try:
                v = float(v)
            except ValueError:
                pass
        ok = (node.kind == "scalar" and isinstance(v, (int, float)) and not isinstance(v, bool)
              and math.isfinite(v) and lo <= v <= hi and (not integer or float(v).is_integer()))
        if not ok:
            kind = "a whole number" if integer else "a number"
            self.fail(node, f"key '{where}' must be {kind} in [{_fmt(lo)}, {_fmt(hi)}]"
                      f" (got {_show(node)})")
        return int(v) if integer else float(v)

    def text(self, node, where, choices=None):
        if node.kind != "scalar" or not isinstance(node.v, str) or not node.v:
            self.fail(node, f"key '{where}' must be text" +
                      (f", one of: {', '.join(choices)}" if choices else ""))
        if choices is not None and node.v not in choices:
            self.fail(node, f"key '{where}' = '{node.v}': valid choices: {', '.join(choices)}")
        return node.v

    def boolean(self, node, where):
        if node.kind != "scalar" or not isinstance(node.v, bool):
            self.fail(node, f"key '{where}' must be true or false")
        return node.v


def _fmt(x):
    if x in (math.inf, -math.inf):
        return "inf" if x > 0 else "-inf"
    return f"{x:.10g}"


def _show(node):
    if node.kind != "scalar":
        return f"a {node.kind}"
    return repr(node.v)


# ---- the model's tables (reused, not duplicated) ---------------------------------------------
def ruralsim_bin():
    b = os.environ.get("RURALSIM_BIN")
    if b:
        return b
    for cand in (os.path.join(ROOT, "build", "ruralsim"),):
        if os.access(cand, os.X_OK):
            return cand
    raise CalibError("cannot find the ruralsim binary: set RURALSIM_BIN or build it "
                     "(./run.sh build)")


def param_table(binary):
    out = subprocess.run([binary, "params", "--tsv"], capture_output=True, text=True)
    if out.returncode != 0:
        raise RunFailure(f"{binary} params --tsv failed: {out.stderr.strip()}")
    table = {}
    for line in out.stdout.splitlines():
        key, kind, default, lo, hi, unit = line.split("\t")
        table[key] = dict(kind=kind, default=default, min=float(lo), max=float(hi), unit=unit)
    return table


def output_table(binary):
    out = subprocess.run([binary, "outputs"], capture_output=True, text=True)
    if out.returncode != 0:
        raise RunFailure(f"{binary} outputs failed: {out.stderr.strip()}")
    return [line.split()[0] for line in out.stdout.splitlines() if line.strip()]


# ---- the calibration file --------------------------------------------------------------------
class Param:
    def __init__(self, path, low, high, log, prior, integer):
        self.path, self.low, self.high, self.log = path, low, high, log
        self.prior, self.integer = prior, integer

    def g(self, x):
        return math.log(x) if self.log else x

    def to_x(self, u):
        """Point in [low, high] for u in [0, 1]: linear, or linear in ln for log scale. Stage 2
        searches u, so that every parameter's range has the same size for the sampler."""
        a, b = self.g(self.low), self.g(self.high)
        z = a + min(max(u, 0.0), 1.0) * (b - a)
        x = min(max(math.exp(z) if self.log else z, self.low), self.high)
        return int(round(x)) if self.integer else float(x)

    def to_u(self, x):
        a, b = self.g(self.low), self.g(self.high)
        return min(max((self.g(x) - a) / (b - a), 0.0), 1.0)

    def from_unit(self, u):
        """Point in [low, high] for u in [0, 1): uniform (in log space for log scale), or the
        prior (normal, truncated to the bounds) through its inverse distribution function."""
        from scipy import stats
        a, b = self.g(self.low), self.g(self.high)
        if self.prior:
            mu, sd = self.prior
            lo, hi = stats.norm.cdf((a - mu) / sd), stats.norm.cdf((b - mu) / sd)
            z = float(stats.norm.ppf(lo + u * (hi - lo))) * sd + mu
            z = min(max(z, a), b)
        else:
            z = a + u * (b - a)
        x = math.exp(z) if self.log else z
        x = min(max(x, self.low), self.high)
        return int(round(x)) if self.integer else float(x)


class Target:
    pass


class Calibration:
    pass


def _number_or_text(v):
    """PyYAML reads 1.3e12 (YAML 1.1 wants 1.3e+12) as text: such text is a number here."""
    if isinstance(v, str):
        try:
            x = float(v)
            return x if math.isfinite(x) else v
        except ValueError:
            return v
    return v


def read_targets_file(path):
    root, text = load_yaml(path, "targets file")
    rd = Reader(path)
    if root.kind != "map" or "targets" not in root.v or root.v["targets"].kind != "map":
        rd.fail(root, "a targets file is a map with a key 'targets' (fact name: list of "
                      "{year, value, ...})")
    facts = {}
    for name, lst in root.v["targets"].v.items():
        if lst.kind != "list":
            rd.fail(lst, f"targets.{name} must be a list of {{year, value, ...}}")
        entries = []
        for e in lst.v:
            if e.kind != "map" or "year" not in e.v:
                rd.fail(e, f"targets.{name}: every entry is a map with a 'year'")
            entries.append({k: _number_or_text(v.v) for k, v in e.v.items()})
        facts[name] = entries
    return facts, text


def read_calibration(path, binary):
    root, text = load_yaml(path, "calibration file")
    rd = Reader(path)
    top = rd.map(root, "", TOP_KEYS)
    here = os.path.dirname(os.path.abspath(path))
    c = Calibration()
    c.path, c.text = os.path.abspath(path), text
    c.name = rd.text(top["name"], "name") if "name" in top else \
        os.path.splitext(os.path.basename(path))[0]
    c.name = re.sub(r"[^A-Za-z0-9_.-]", "_", c.name)
    c.description = top["description"].v if "description" in top else ""
    if "base" not in top:
        rd.fail(root, "key 'base' (the base scenario file) is missing")
    b = rd.text(top["base"], "base")
    c.base = os.path.normpath(os.path.join(here, b))
    if not os.path.isfile(c.base):
        rd.fail(top["base"], f"key 'base' = '{b}': no such scenario file (looked for {c.base})")
    if "targets_file" in top:
        t = rd.text(top["targets_file"], "targets_file")
        c.targets_file = os.path.normpath(os.path.join(here, t))
        if not os.path.isfile(c.targets_file):
            rd.fail(top["targets_file"], f"key 'targets_file' = '{t}': no such file (looked for "
                                         f"{c.targets_file})")
    else:
        c.targets_file = os.path.join(ROOT, "data", "calibration_targets.yaml")
    facts, c.targets_text = read_targets_file(c.targets_file)
    ptable = param_table(binary)
    outputs = output_table(binary)

    def check_path(node, where):
        p = node.v if node.kind == "scalar" else None
        if p in ("simulation.seed", "simulation.replicate"):
            rd.fail(node, f"key '{where}': {p} cannot be set; seeds come from 'seed' and the "
                          "replicate number")
        if p not in ptable:
            sec = str(p).split(".")[0]
            same = [k for k in ptable if k.startswith(sec + ".")]
            rd.fail(node, f"key '{where}': unknown parameter '{p}'; " +
                    (f"valid keys: {', '.join(same)}" if same else
                     "valid: a parameter of `ruralsim params`"))
        return p

    # fixed settings for every run
    c.set = {}
    if "set" in top:
        s = top["set"]
        if s.kind != "map":
            rd.fail(s, "key 'set' must be a map of parameter: value")
        for k, v in s.v.items():
            check_path(Node(k, *s.keys[k], "scalar"), "set")
            if v.kind != "scalar":
                rd.fail(v, f"key 'set.{k}' takes a single value")
            c.set[k] = v.v
    # free parameters
    if "parameters" not in top:
        rd.fail(root, "key 'parameters' (the free parameters with bounds) is missing")
    pn = top["parameters"]
    if pn.kind != "map" or not pn.v:
        rd.fail(pn, "key 'parameters' must be a map of parameter: {low, high, log, prior}")
    c.params = []
    for k, spec in pn.v.items():
        check_path(Node(k, *pn.keys[k], "scalar"), "parameters")
        if k in c.set:
            rd.fail(spec, f"parameter '{k}' is both free and fixed in 'set'")
        info = ptable[k]
        if info["kind"] not in ("real", "integer"):
            rd.fail(spec, f"parameter '{k}' is {info['kind']}; only numbers can be fitted")
        d = rd.map(spec, f"parameters.{k}", PARAM_KEYS)
        for req in ("low", "high"):
            if req not in d:
                rd.fail(spec, f"key 'parameters.{k}.{req}' is missing")
        integer = info["kind"] == "integer"
        lo = rd.number(d["low"], f"parameters.{k}.low", info["min"], info["max"], integer)
        hi = rd.number(d["high"], f"parameters.{k}.high", info["min"], info["max"], integer)
        if not lo < hi:
            rd.fail(d["high"], f"key 'parameters.{k}': low ({_fmt(lo)}) must be below high "
                               f"({_fmt(hi)})")
        log = rd.boolean(d["log"], f"parameters.{k}.log") if "log" in d else False
        if log and lo <= 0:
            rd.fail(d["low"], f"key 'parameters.{k}.low' must be above 0 on a log scale")
        prior = None
        if "prior" in d:
            pr = rd.map(d["prior"], f"parameters.{k}.prior", ["mean", "sd"])
            if "mean" not in pr or "sd" not in pr:
                rd.fail(d["prior"], f"key 'parameters.{k}.prior' needs mean and sd (a normal "
                                    "prior" + (" of ln(value)" if log else "") + ")")
            prior = (rd.number(pr["mean"], f"parameters.{k}.prior.mean"),
                     rd.number(pr["sd"], f"parameters.{k}.prior.sd", 1e-300))
        c.params.append(Param(k, lo, hi, log, prior, integer))
    # targets
    if "targets" not in top:
        rd.fail(root, "key 'targets' (list of targets) is missing")
    tn = top["targets"]
    if tn.kind != "list" or not tn.v:
        rd.fail(tn, "key 'targets' must be a non-empty list of {name, fact, year, output, ...}")
    c.targets = []
    names = set()
    for i, tnode in enumerate(tn.v):
        w = f"targets[{i}]"
        d = rd.map(tnode, w, TARGET_KEYS)
        for req in ("fact", "year", "output", "tolerance"):
            if req not in d:
                rd.fail(tnode, f"key '{w}.{req}' is missing")
        t = Target()
        t.fact = rd.text(d["fact"], f"{w}.fact")
        if t.fact not in facts:
            rd.fail(d["fact"], f"key '{w}.fact' = '{t.fact}' is not in {c.targets_file}; valid "
                               f"facts: {', '.join(facts)}")
        t.year = rd.number(d["year"], f"{w}.year", 1900, 2200, integer=True)
        entries = [e for e in facts[t.fact] if e.get("year") == t.year]
        if not entries:
            rd.fail(d["year"], f"key '{w}.year' = {t.year}: fact '{t.fact}' has no entry for that "
                               f"year; valid years: "
                               f"{', '.join(str(e.get('year')) for e in facts[t.fact])}")
        entry = entries[0]
        numeric = [k for k, v in entry.items() if k != "year" and isinstance(v, (int, float))
                   and not isinstance(v, bool)]
        t.field = rd.text(d["field"], f"{w}.field") if "field" in d else "value"
        parts = t.field.split("/")
        if len(parts) > 2 or any(p not in numeric for p in parts):
            rd.fail(d.get("field", tnode), f"key '{w}.field' = '{t.field}': fact '{t.fact}' "
                    f"({t.year}) has the numbers: {', '.join(numeric)} (or A/B, a ratio of two)")
        val = float(entry[parts[0]]) / (float(entry[parts[1]]) if len(parts) == 2 else 1.0)
        t.scale = rd.number(d["scale"], f"{w}.scale", 1e-300) if "scale" in d else 1.0
        t.value = val * t.scale
        if t.value == 0:
            rd.fail(d["fact"], f"target {w} is zero: errors are relative to the target")
        t.name = rd.text(d["name"], f"{w}.name") if "name" in d else f"{t.fact}_{t.year}"
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", t.name):
            rd.fail(d.get("name", tnode), f"key '{w}.name' = '{t.name}': use letters, digits, "
                                          "'_', '-' or '.'")
        if t.name in names:
            rd.fail(d.get("name", tnode), f"target name '{t.name}' appears twice; give "
                                          f"'{w}.name'")
        names.add(t.name)
        t.output = rd.text(d["output"], f"{w}.output")
        if t.output not in outputs:
            rd.fail(d["output"], f"key '{w}.output' = '{t.output}' is not an output variable; "
                                 f"valid (ruralsim outputs): {', '.join(outputs)}")
        t.level = rd.text(d["level"], f"{w}.level", LEVELS) if "level" in d else "national"
        t.stat = rd.text(d["stat"], f"{w}.stat", STATS) if "stat" in d else "auto"
        t.across = None
        t.threshold = None
        if t.level != "national":
            t.across = rd.text(d["across"], f"{w}.across", ACROSS) if "across" in d else "sum"
            if t.across == "count_ge":
                if "threshold" not in d:
                    rd.fail(tnode, f"key '{w}.threshold' is missing (across: count_ge counts the "
                                   "units whose value is at least the threshold)")
                t.threshold = rd.number(d["threshold"], f"{w}.threshold")
        elif "across" in d or "threshold" in d:
            rd.fail(d.get("across", d.get("threshold")), f"keys '{w}.across' and "
                    f"'{w}.threshold' need level province or county")
        t.filter = {}
        if "filter" in d:
            if t.level != "county":
                rd.fail(d["filter"], f"key '{w}.filter' needs level: county")
            f = rd.map(d["filter"], f"{w}.filter", FILTER_KEYS)
            for k, v in f.items():
                t.filter[k] = rd.number(v, f"{w}.filter.{k}", 0, 1, integer=True)
        t.sim_year = rd.number(d["sim_year"], f"{w}.sim_year", 1900, 2200, integer=True) \
            if "sim_year" in d else t.year
        t.weight = rd.number(d["weight"], f"{w}.weight", 0) if "weight" in d else 1.0
        tol = d["tolerance"]
        tm = rd.map(tol, f"{w}.tolerance", ["relative", "log"])
        if len(tm) != 1:
            rd.fail(tol, f"key '{w}.tolerance' must be one of {{relative: R}} or {{log: L}}")
        t.error = next(iter(tm))
        t.tolerance = rd.number(tm[t.error], f"{w}.tolerance.{t.error}", 1e-12)
        t.fit = rd.boolean(d["fit"], f"{w}.fit") if "fit" in d else True
        t.node = tnode
        c.targets.append(t)
    if not any(t.fit and t.weight > 0 for t in c.targets):
        rd.fail(tn, "no target is fitted: every target has fit: false or weight 0")
    c.replicates = rd.number(top["replicates"], "replicates", 1, 100000, True) \
        if "replicates" in top else 3
    c.seed = rd.number(top["seed"], "seed", 0, 2**32 - 1, True) if "seed" in top else 1
    s1 = rd.map(top["stage1"], "stage1", STAGE1_KEYS) if "stage1" in top else {}
    c.s1_method = rd.text(s1["method"], "stage1.method", STAGE1_METHODS) \
        if "method" in s1 else "sobol"
    c.s1_points = rd.number(s1["points"], "stage1.points", 1, 100000, True) \
        if "points" in s1 else 16
    s2 = rd.map(top["stage2"], "stage2", STAGE2_KEYS) if "stage2" in top else {}
    c.s2_sampler = rd.text(s2["sampler"], "stage2.sampler", SAMPLERS) \
        if "sampler" in s2 else "tpe"
    c.s2_trials = rd.number(s2["trials"], "stage2.trials", 0, 100000, True) \
        if "trials" in s2 else 16
    c.s2_batch = rd.number(s2["batch"], "stage2.batch", 1, 100000, True) \
        if "batch" in s2 else 4
    c.s2_sigma0 = rd.number(s2["sigma0"], "stage2.sigma0", 1e-6, 1.0) if "sigma0" in s2 else None
    if c.s2_sigma0 is not None and c.s2_sampler != "cmaes":
        rd.fail(s2["sigma0"], "key 'stage2.sigma0' (initial step of CMA-ES) needs sampler: cmaes")
    c.opt_replicates = rd.number(top["optimum_replicates"], "optimum_replicates", 0, 100000,
                                 True) if "optimum_replicates" in top else 10
    idn = rd.map(top["identification"], "identification", IDENT_KEYS) \
        if "identification" in top else {}
    c.id_step = rd.number(idn["step"], "identification.step", 0, 0.5) if "step" in idn else 0.05
    c.id_replicates = rd.number(idn["replicates"], "identification.replicates", 1, 100000,
                                True) if "replicates" in idn else c.replicates
    c.jobs = rd.number(top["jobs"], "jobs", 1, 1024, True) if "jobs" in top else 1
    c.threads = rd.number(top["threads_per_run"], "threads_per_run", 1, 1024, True) \
        if "threads_per_run" in top else 1
    c.slurm = {}
    if "slurm" in top:
        sm = rd.map(top["slurm"], "slurm", SLURM_KEYS)
        for k, v in sm.items():
            if k in ("cpus_per_task", "max_concurrent", "per_task", "poll_seconds"):
                c.slurm[k] = rd.number(v, f"slurm.{k}", 1, 10**6, True)
            else:
                c.slurm[k] = str(rd.text(v, f"slurm.{k}"))
    c.root_node = root
    return c


def simulated_years(c, binary):
    """First and last simulated year of the base scenario with the fixed settings
    (`ruralsim validate`, which also checks the scenario and the settings)."""
    cmd = [binary, "validate", c.base]
    for k, v in c.set.items():
        cmd += ["--set", f"{k}={_yaml_scalar(v)}"]
    for p in c.params:  # the bounds must be accepted too
        cmd += ["--set", f"{p.path}={_num(p.low)}"]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        raise CalibError(f"{c.path}: the base scenario with the settings of 'set' and the lower "
                         f"bounds is not valid: {out.stderr.strip()}")
    m = re.search(r"; (\d+)-(\d+), \d+ ticks/year", out.stdout)
    if not m:
        raise RunFailure(f"cannot read the simulated years from: {out.stdout.strip()}")
    return int(m.group(1)), int(m.group(2))


def _yaml_scalar(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    return str(v)


def _num(x):
    return str(int(x)) if isinstance(x, int) else repr(float(x))


def fingerprint(c):
    h = hashlib.sha256()
    for part in (c.text, c.targets_text, open(c.base, "rb").read().decode("utf-8", "replace")):
        h.update(hashlib.sha256(part.encode()).digest())
    return h.hexdigest()


# ---- sweeps ----------------------------------------------------------------------------------
class Sweeps:
    def __init__(self, c, out, binary, jobs, threads, slurm, quiet):
        self.c, self.out, self.bin = c, out, binary
        self.jobs, self.threads, self.slurm, self.quiet = jobs, threads, slurm, quiet

    def say(self, msg):
        if not self.quiet:
            print(f"calibrate: {msg}", file=sys.stderr, flush=True)

    def call(self, args, what):
        out = subprocess.run([self.bin] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        if out.returncode == 130 or out.returncode < 0:
            raise RunFailure(f"{what}: interrupted", 130)
        if out.returncode != 0:
            raise RunFailure(f"{what} failed (exit {out.returncode}): "
                             f"{(out.stderr or out.stdout).strip()}",
                             2 if out.returncode == 2 else 1)
        return out.stdout

    def ensure(self, name, points, replicates):
        """Plans, runs and collects the sweep NAME of the given points (name -> {path: value});
        finished runs are reused. Returns the sweep directory."""
        c = self.c
        sdir = os.path.join(self.out, "sweeps", name)
        sfile = os.path.join(self.out, "sweeps", name + ".yaml")
        doc = {"name": f"{c.name}.{name}", "base": c.base, "replicates": replicates,
               "master_seed": c.seed}
        lines = [f"# Points of calibration '{c.name}', sweep {name} (written by ruralsim "
                 "calibrate)", f"name: {json.dumps(doc['name'])}", f"base: {json.dumps(c.base)}",
                 f"replicates: {replicates}", f"master_seed: {c.seed}"]
        if c.set:
            lines.append("set:")
            lines += [f"  {k}: {_yaml_scalar(v)}" for k, v in c.set.items()]
        lines.append("arms:")
        for arm, vals in points.items():
            lines.append(f"  - name: {arm}")
            lines.append("    set: {" + ", ".join(f"{k}: {_num(v)}" for k, v in vals.items())
                         + "}")
        text = "\n".join(lines) + "\n"
        if os.path.exists(sfile):
            with open(sfile) as f:
                if f.read() != text:
                    raise RunFailure(f"{sfile} differs from the points the search asks for now: "
                                     "the search did not replay (another optuna or scipy "
                                     "version?); use a new --out")
        else:
            os.makedirs(os.path.dirname(sfile), exist_ok=True)
            with open(sfile + ".tmp", "w") as f:
                f.write(text)
            os.replace(sfile + ".tmp", sfile)
        if not os.path.exists(os.path.join(sdir, "plan.yaml")):
            shutil.rmtree(sdir, ignore_errors=True)  # a plan cut short
            self.call(["sweep", "plan", sfile, "--out", sdir], f"sweep plan {name}")
        if not self.finished(sdir):
            runs = len(points) * replicates
            self.say(f"sweep {name}: {len(points)} points x {replicates} replicates "
                     f"({runs} runs)")
            if self.slurm is not None:
                self.run_slurm(sdir, name)
            else:
                cmd = [self.bin, "sweep", "run", sdir, "--jobs", str(self.jobs),
                       "--threads-per-run", str(self.threads)]
                # Progress and summary of `sweep run` go to stderr. On Ctrl-C the runner (same
                # process group) stops its runs cleanly; it is waited for, not killed.
                r = subprocess.Popen(cmd, stdout=subprocess.DEVNULL if self.quiet else sys.stderr,
                                     stderr=subprocess.DEVNULL if self.quiet else None)
                try:
                    r.wait()
                except KeyboardInterrupt:
                    r.wait()
                    raise
                if r.returncode == 130 or r.returncode < 0:
                    raise RunFailure(f"sweep run {name}: interrupted", 130)
                if r.returncode != 0:
                    raise RunFailure(f"sweep run {name} failed (exit {r.returncode}); see "
                                     f"ruralsim sweep status {sdir}")
        h5 = os.path.join(sdir, "sweep.h5")
        runs_dir = os.path.join(sdir, "runs")
        newest = max((os.path.getmtime(os.path.join(runs_dir, f)) for f in os.listdir(runs_dir)
                      if f.endswith(".h5")), default=0)
        if not os.path.exists(h5) or os.path.getmtime(h5) < newest:
            self.call(["sweep", "collect", sdir], f"sweep collect {name}")
        return sdir

    def status(self, sdir):
        out = self.call(["sweep", "status", sdir], "sweep status")
        m = re.search(r"(\d+) runs: (\d+) finished, (\d+) failed, (\d+) running, (\d+) pending",
                      out)
        if not m:
            raise RunFailure(f"cannot read sweep status: {out.strip()}")
        return dict(zip(["runs", "finished", "failed", "running", "pending"],
                        map(int, m.groups())))

    def finished(self, sdir):
        s = self.status(sdir)
        return s["finished"] == s["runs"]

    def run_slurm(self, sdir, name):
        o = dict(self.slurm)
        job_file = os.path.join(sdir, "slurm", "job_id")
        active = False
        if os.path.exists(job_file):
            job = open(job_file).read().strip()
            q = subprocess.run(["squeue", "-h", "-j", job], capture_output=True, text=True)
            active = q.returncode == 0 and q.stdout.strip() != ""
        if not active:
            cmd = ["sweep", "submit", sdir, "--slurm"]
            for k in ("time", "cpus_per_task", "mem", "partition", "max_concurrent", "per_task"):
                if k in o:
                    cmd += ["--" + k.replace("_", "-"), str(o[k])]
            self.say(self.call(cmd, f"sweep submit {name}").strip().splitlines()[-1])
        poll = o.get("poll_seconds", 30)
        while True:
            s = self.status(sdir)
            if s["finished"] == s["runs"]:
                return
            job = open(job_file).read().strip() if os.path.exists(job_file) else ""
            q = subprocess.run(["squeue", "-h", "-j", job], capture_output=True, text=True)
            # squeue prints nothing for a finished job, and fails once it has been purged
            ended = q.returncode != 0 or q.stdout.strip() == ""
            if job and ended and s["running"] == 0 and s["finished"] < s["runs"]:
                raise RunFailure(f"Slurm job {job} of sweep {name} ended with {s['failed']} "
                                 f"failed and {s['pending']} pending runs; see ruralsim sweep "
                                 f"status {sdir} and {sdir}/slurm/logs; run calibrate again "
                                 "to resubmit")
            self.say(f"sweep {name} on Slurm: {s['finished']}/{s['runs']} finished")
            time.sleep(poll)


# ---- simulated values of targets -------------------------------------------------------------
class SweepData:
    """Per-run values of the targets from DIR/sweep.h5 (and each run's county table)."""

    def __init__(self, sdir):
        import h5py
        sys.path.insert(0, HERE)
        from ruralsim_io import is_flow
        self.sdir = sdir
        self.f = h5py.File(os.path.join(sdir, "sweep.h5"), "r")
        m = self.f["manifest"]
        dec = (lambda x: x.decode() if isinstance(x, bytes) else str(x))
        self.arm = [dec(x) for x in m["arm"][:]]
        self.replicate = m["replicate"][:].astype(int)
        self.output = [dec(x) for x in m["output"][:]]
        self.year = self.f["national/year"][:].astype(int)
        self.is_flow = is_flow
        self._poverty = {}

    def close(self):
        self.f.close()

    def poverty(self, i):
        import h5py
        if i not in self._poverty:
            with h5py.File(os.path.join(self.sdir, self.output[i]), "r") as g:
                self._poverty[i] = g["geography/counties/poverty"][:].astype(int)
        return self._poverty[i]

    def values(self, t, year):
        """Value of target t in `year` for every run (array over runs)."""
        grp = self.f[t.level]
        if t.output not in grp:
            raise RunFailure(f"{self.sdir}/sweep.h5 has no /{t.level}/{t.output} (province and "
                             "county series are collected only when every run has the same "
                             "geography size)")
        ds = grp[t.output]
        cols = np.nonzero(self.year == year)[0]
        if len(cols) == 0:
            return np.full(len(self.arm), np.nan)
        block = ds[:, cols[0]:cols[-1] + 1]  # (run, time[, unit])
        stat = t.stat
        if stat == "auto":
            stat = "year_sum" if self.is_flow(ds.attrs.get("units", ""),
                                              ds.attrs.get("description", "")) else "year_end"
            t.resolved_stat = f"auto: {stat}"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            if stat == "year_end":
                v = block[:, -1]
            elif stat == "year_sum":
                v = np.where(np.all(np.isfinite(block), axis=1), np.nansum(block, axis=1),
                             np.nan)
            else:
                v = np.nanmean(block, axis=1)
        v = np.asarray(v, float)
        if t.level == "national":
            return v
        out = np.empty(v.shape[0])
        for i in range(v.shape[0]):
            x = v[i]
            if t.filter.get("poverty") is not None:
                x = x[self.poverty(i)[: len(x)] == t.filter["poverty"]]
            if t.across == "sum":
                out[i] = np.sum(x)
            elif t.across == "mean":
                out[i] = np.mean(x) if len(x) else np.nan
            else:
                out[i] = np.sum(x >= t.threshold)
        return out


def scaled_error(t, m):
    if not np.isfinite(m):
        return math.nan
    if t.error == "relative":
        return (m - t.value) / abs(t.value)
    floor = abs(t.value) * 1e-6
    return math.log(max(m, floor) / t.value) if t.value > 0 else math.nan


def point_loss(c, params, stats):
    """Loss of a point from its parameter values and per-target (mean, sd, n)."""
    loss = 0.0
    for t in c.targets:
        if not t.fit or t.weight == 0:
            continue
        e = scaled_error(t, stats[t.name][0])
        if not math.isfinite(e):
            return math.inf
        loss += t.weight * (e / t.tolerance) ** 2
    for p in c.params:
        if p.prior:
            loss += ((p.g(params[p.path]) - p.prior[0]) / p.prior[1]) ** 2
    return loss


def evaluate(c, sdir, arms):
    """Per arm: {target: (mean, sd, n)} over replicates."""
    d = SweepData(sdir)
    try:
        per_target = {t.name: d.values(t, t.sim_year) for t in c.targets}
        res = {}
        for arm in arms:
            idx = [i for i, a in enumerate(d.arm) if a == arm]
            st = {}
            for t in c.targets:
                x = per_target[t.name][idx]
                n = int(np.sum(np.isfinite(x)))
                mean = float(np.mean(x)) if n == len(x) and n else math.nan
                sd = float(np.std(x, ddof=1)) if n > 1 and n == len(x) else math.nan
                st[t.name] = (mean, sd, n)
            res[arm] = st
        return res
    finally:
        d.close()


def series(c, sdir, arm):
    """Per target: (years, array replicate x year) for one arm, every simulated year."""
    d = SweepData(sdir)
    try:
        idx = [i for i, a in enumerate(d.arm) if a == arm]
        years = sorted(set(int(y) for y in d.year))
        out = {}
        for t in c.targets:
            vals = np.array([d.values(t, y)[idx] for y in years]).T
            out[t.name] = (years, vals)
        return out
    finally:
        d.close()


# ---- the search ------------------------------------------------------------------------------
def stage1_points(c):
    from scipy.stats import qmc
    d = len(c.params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Sobol balance warning for n not a power of 2
        if c.s1_method == "sobol":
            u = qmc.Sobol(d, scramble=True, seed=c.seed).random(c.s1_points)
        else:
            u = qmc.LatinHypercube(d, seed=c.seed).random(c.s1_points)
    return {f"p{i:03d}": {p.path: p.from_unit(float(u[i, j])) for j, p in enumerate(c.params)}
            for i in range(c.s1_points)}


def distributions(c):
    """Stage 2 searches the unit cube (Param.to_x maps it to the parameters)."""
    import optuna
    return {p.path: optuna.distributions.FloatDistribution(0.0, 1.0) for p in c.params}


def make_sampler(c, best_params):
    import optuna
    if c.s2_sampler == "tpe":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # multivariate TPE is marked experimental in 3.1
            return optuna.samplers.TPESampler(seed=c.seed, n_startup_trials=0, multivariate=True)
    x0 = {p.path: p.to_u(best_params[p.path]) for p in c.params} if best_params else None
    sigma0 = c.s2_sigma0 if c.s2_sigma0 is not None else 1.0 / 6
    return optuna.samplers.CmaEsSampler(x0=x0, sigma0=sigma0, seed=c.seed, n_startup_trials=0,
                                        warn_independent_sampling=False)


TRAIL_HEAD = ["stage", "sweep", "point", "order"]


def write_trail(c, path, rows):
    cols = TRAIL_HEAD + [p.path for p in c.params] + ["loss"]
    for t in c.targets:
        cols += [f"{t.name}.mean", f"{t.name}.sd", f"{t.name}.n"]
    tmp = path + ".tmp"
    with open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for r in rows:
            line = [r["stage"], r["sweep"], r["point"], r["order"]]
            line += [_num(r["params"][p.path]) for p in c.params]
            line.append(repr(r["loss"]))
            for t in c.targets:
                m, s, n = r["stats"][t.name]
                line += [repr(m), repr(s), n]
            w.writerow(line)
    os.replace(tmp, path)


def calibrate(c, out, binary, jobs, threads, slurm, quiet):
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sw = Sweeps(c, out, binary, jobs, threads, slurm, quiet)
    rows = []
    trail = os.path.join(out, "trail.csv")

    def record(stage, sweep, points, stats):
        for arm, params in points.items():
            loss = point_loss(c, params, stats[arm])
            rows.append(dict(stage=stage, sweep=sweep, point=arm, order=len(rows),
                             params=params, stats=stats[arm], loss=loss))
        write_trail(c, trail, rows)

    # stage 1: one sweep over the design
    pts = stage1_points(c)
    sw.say(f"stage 1: {c.s1_method} design, {len(pts)} points x {c.replicates} replicates")
    sdir = sw.ensure("stage1", pts, c.replicates)
    record("1", "stage1", pts, evaluate(c, sdir, list(pts)))
    best = min(rows, key=lambda r: r["loss"])
    sw.say(f"stage 1 done: best loss {best['loss']:.6g} at {_show_params(best['params'])}")
    # stage 2: Optuna in batches, every batch one sweep
    if c.s2_trials > 0:
        dist = distributions(c)
        study = optuna.create_study(direction="minimize",
                                    sampler=make_sampler(c, best["params"]))
        for r in rows:
            if math.isfinite(r["loss"]):
                u = {p.path: p.to_u(r["params"][p.path]) for p in c.params}
                study.add_trial(optuna.trial.create_trial(params=u, distributions=dist,
                                                          value=r["loss"]))
        nb = (c.s2_trials + c.s2_batch - 1) // c.s2_batch
        for b in range(nb):
            k = min(c.s2_batch, c.s2_trials - b * c.s2_batch)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                trials = [study.ask(dist) for _ in range(k)]
            pts = {f"t{b * c.s2_batch + i:03d}": {p.path: p.to_x(tr.params[p.path])
                                                   for p in c.params}
                   for i, tr in enumerate(trials)}
            name = f"stage2_b{b:03d}"
            sdir = sw.ensure(name, pts, c.replicates)
            record("2", name, pts, evaluate(c, sdir, list(pts)))
            for tr, r in zip(trials, rows[-k:]):
                if math.isfinite(r["loss"]):
                    study.tell(tr, r["loss"])
                else:
                    study.tell(tr, state=optuna.trial.TrialState.FAIL)
            best = min(rows, key=lambda r: r["loss"])
            sw.say(f"stage 2 batch {b + 1}/{nb}: best loss {best['loss']:.6g} at "
                   f"{_show_params(best['params'])}")
    best = min(rows, key=lambda r: r["loss"])
    # the optimum again with more replicates
    opt_stats, opt_sdir = best["stats"], None
    opt_reps = c.replicates
    if c.opt_replicates > 0:
        opt_sdir = sw.ensure("optimum", {"optimum": best["params"]}, c.opt_replicates)
        opt_stats = evaluate(c, opt_sdir, ["optimum"])["optimum"]
        opt_reps = c.opt_replicates
    else:
        opt_sdir = os.path.join(out, "sweeps", best["sweep"])
    ident = identify(c, sw, best["params"]) if c.id_step > 0 else None
    write_results(c, out, rows, best, opt_stats, opt_reps, opt_sdir,
                  "optimum" if c.opt_replicates > 0 else best["point"], ident)
    return best, opt_stats


def _show_params(params):
    return ", ".join(f"{k}={_short(v)}" for k, v in params.items())


def _short(v):
    return str(v) if isinstance(v, int) else f"{v:.6g}"


# ---- results ---------------------------------------------------------------------------------
def identify(c, sw, params):
    """Local identification at the optimum: every parameter is moved down and up by `step` of
    its (unit-cube) range, the others held at the optimum, with `identification.replicates`
    replicates and the same seeds (common random numbers). Returns the central differences of
    every target's scaled error and simulated mean, the weighted Jacobian J of the fitted
    targets, F = J'J (the loss near the optimum is about L0 + d'F d for a step d in unit
    coordinates, once the residual is orthogonal to J) and the intervals of loss + 1."""
    h = c.id_step
    u0 = {p.path: p.to_u(params[p.path]) for p in c.params}
    pts, span = {}, {}
    for j, p in enumerate(c.params):
        a = min(max(u0[p.path] - h, 0.0), 1.0 - 2 * h)
        lo, hi = dict(params), dict(params)
        lo[p.path], hi[p.path] = p.to_x(a), p.to_x(a + 2 * h)
        pts[f"lo_{j:02d}"], pts[f"hi_{j:02d}"] = lo, hi
        span[p.path] = (a, a + 2 * h, lo[p.path], hi[p.path])
    sw.say(f"identification: {len(c.params)} parameters moved by {h:g} of their range each way, "
           f"{c.id_replicates} replicates")
    sdir = sw.ensure("identification", pts, c.id_replicates)
    st = evaluate(c, sdir, list(pts))
    P, T = len(c.params), len(c.targets)
    de = np.full((T, P), np.nan)      # d(scaled error) / du
    el = np.full((T, P), np.nan)      # d ln(mean) / d g(x): elasticity for a log-scale parameter
    for j, p in enumerate(c.params):
        a, b, xa, xb = span[p.path]
        if xa == xb:  # a whole-number parameter whose step rounds to nothing
            continue
        ua, ub = p.to_u(xa), p.to_u(xb)
        for i, t in enumerate(c.targets):
            ma, mb = st[f"lo_{j:02d}"][t.name][0], st[f"hi_{j:02d}"][t.name][0]
            de[i, j] = (scaled_error(t, mb) - scaled_error(t, ma)) / (ub - ua)
            if ma > 0 and mb > 0:
                el[i, j] = (math.log(mb) - math.log(ma)) / (p.g(xb) - p.g(xa))
    fit = [i for i, t in enumerate(c.targets) if t.fit and t.weight > 0]
    wts = np.array([math.sqrt(c.targets[i].weight) / c.targets[i].tolerance for i in fit])
    J = de[fit] * wts[:, None]
    usable = np.all(np.isfinite(J), axis=0)
    F = J[:, usable].T @ J[:, usable] if usable.any() else np.zeros((0, 0))
    free = [p.path for j, p in enumerate(c.params) if usable[j]]
    ev, evec = (np.linalg.eigh(F) if F.size else (np.zeros(0), np.zeros((0, 0))))
    rank_tol = max(float(np.max(ev)) if ev.size else 0.0, 1e-300) * 1e-10
    # A parameter that moves no fitted target is decoupled from the others: the profile of the
    # others is computed without it. With more parameters than fitted targets (or targets that
    # move together) F is singular: its null directions are the combinations the targets leave
    # free. A parameter with a share of those directions (more than 0.1 of its unit vector) is
    # not pinned down; the others get the profile of the pseudo-inverse (F's other directions).
    moving = [k for k in range(len(free)) if F[k, k] > rank_tol]
    Fm = F[np.ix_(moving, moving)]
    prof, flat = {}, []
    if moving:
        lam, vec = np.linalg.eigh(Fm)
        null = lam <= max(float(np.max(lam)), 1e-300) * 1e-8
        for n, k in enumerate(moving):
            in_null = math.sqrt(float(np.sum(vec[n, null] ** 2)))
            if in_null > 0.1:
                prof[free[k]] = math.inf
            else:
                prof[free[k]] = math.sqrt(float(np.sum(vec[n, ~null] ** 2 / lam[~null])))
        for col in np.nonzero(null)[0]:
            flat.append({free[k]: float(vec[n, col]) for n, k in enumerate(moving)})
    rows = []
    for j, p in enumerate(c.params):
        r = dict(parameter=p.path, value=params[p.path], u=u0[p.path],
                 step_low=span[p.path][2], step_high=span[p.path][3])
        if not usable[j]:
            r.update(verdict="not computed (a target had no finite value, or the step rounds to "
                     "nothing)")
            rows.append(r)
            continue
        fjj = F[free.index(p.path), free.index(p.path)]
        r["cond"] = 1 / math.sqrt(fjj) if fjj > rank_tol else math.inf
        r["prof"] = prof.get(p.path, math.inf)
        for key in ("cond", "prof"):
            w = r[key]
            r[key + "_lo"] = p.to_x(u0[p.path] - w) if math.isfinite(w) else p.low
            r[key + "_hi"] = p.to_x(u0[p.path] + w) if math.isfinite(w) else p.high
        if not math.isfinite(r["cond"]):
            r["verdict"] = "not pinned down: no fitted target moves with it"
        elif not math.isfinite(r["prof"]):
            r["verdict"] = ("not pinned down: it lies along a direction in which the fitted "
                            "targets do not move (below)")
        elif 2 * r["prof"] <= 0.5:
            r["verdict"] = "pinned down"
        elif 2 * r["prof"] <= 1.0:
            r["verdict"] = "weakly pinned down"
        else:
            r["verdict"] = "not pinned down: loss + 1 spans more than the search range"
        rows.append(r)
    weakest = None
    if ev.size:
        v = evec[:, 0]
        weakest = (float(ev[0]), {free[i]: float(v[i]) for i in range(len(free))})
    return dict(sdir=sdir, step=h, replicates=c.id_replicates, de=de, el=el, rows=rows,
                eigen=[float(x) for x in ev], weakest=weakest, fitted=fit, flat=flat)


def write_identification(c, out, ident):
    with open(os.path.join(out, "identification.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["parameter", "value", "step_low", "step_high", "conditional_low",
                    "conditional_high", "profile_low", "profile_high", "verdict"])
        for r in ident["rows"]:
            w.writerow([r["parameter"], _num(r["value"]), _num(r["step_low"]),
                        _num(r["step_high"])] +
                       [_num(r[k]) if k in r else "" for k in
                        ("cond_lo", "cond_hi", "prof_lo", "prof_hi")] + [r["verdict"]])
    with open(os.path.join(out, "sensitivity.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["target", "fitted", "parameter", "d_scaled_error_d_unit",
                    "d_tolerances_d_unit", "elasticity"])
        for i, t in enumerate(c.targets):
            for j, p in enumerate(c.params):
                d = ident["de"][i, j]
                w.writerow([t.name, "yes" if i in ident["fitted"] else "no", p.path, repr(d),
                            repr(d / t.tolerance), repr(ident["el"][i, j])])
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    m = ident["de"] / np.array([t.tolerance for t in c.targets])[:, None]
    fig, ax = plt.subplots(figsize=(1.6 * len(c.params) + 4, 0.45 * len(c.targets) + 2))
    lim = np.nanmax(np.abs(m)) if np.isfinite(m).any() else 1.0
    im = ax.imshow(np.nan_to_num(m), cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto")
    ax.set_xticks(range(len(c.params)), [p.path for p in c.params], rotation=30, ha="right",
                  fontsize=8)
    ax.set_yticks(range(len(c.targets)), [t.name + ("" if i in ident["fitted"] else " (held out)")
                                          for i, t in enumerate(c.targets)], fontsize=8)
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            ax.text(j, i, "-" if not np.isfinite(m[i, j]) else f"{m[i, j]:.2g}", ha="center",
                    va="center", fontsize=7)
    fig.colorbar(im, ax=ax, label="change of scaled error / tolerance over the whole range")
    ax.set_title(f"calibration '{c.name}': sensitivity of every target at the optimum")
    fig.tight_layout()
    os.makedirs(os.path.join(out, "figures"), exist_ok=True)
    fig.savefig(os.path.join(out, "figures", "identification.png"), dpi=90)
    plt.close(fig)
    md = ["## Identification at the optimum", "",
          f"Every parameter moved by {ident['step']:g} of its search range below and above the "
          f"optimum (the others held), {ident['replicates']} replicates with the same seeds; "
          "central differences of the fitted targets' scaled errors give the Jacobian J "
          "(weighted by sqrt(weight) / tolerance) and F = J'J: near the optimum the loss rises "
          "by about d'F d for a step d (in fractions of the ranges). *Conditional*: the change "
          "of one parameter alone that raises the loss by 1; *profile*: the same when the other "
          "parameters follow to keep the loss lowest (sqrt of the diagonal of F^-1). A parameter "
          "is *pinned down* when its profile interval spans at most half its search range, "
          "*weakly* when at most the whole range. Finite differences of a stochastic model: "
          "read the intervals as orders of magnitude.", "",
          "| parameter | fitted | step (low, high) | conditional loss + 1 | profile loss + 1 | "
          "verdict |", "|---|---|---|---|---|---|"]
    for r in ident["rows"]:
        iv = (lambda a, b: f"{_short(r[a])} – {_short(r[b])}" if a in r else "–")
        md.append(f"| `{r['parameter']}` | {_short(r['value'])} | {_short(r['step_low'])}, "
                  f"{_short(r['step_high'])} | {iv('cond_lo', 'cond_hi')} | "
                  f"{iv('prof_lo', 'prof_hi')} | {r['verdict']} |")
    def comb(vec):
        return ", ".join(f"{v:+.2f} {k}" for k, v in sorted(vec.items(), key=lambda x: -abs(x[1]))
                         if abs(v) >= 0.005)
    if ident["weakest"] and not ident.get("flat"):  # a null direction is named below instead
        lam, vec = ident["weakest"]
        md += ["", f"Eigenvalues of F: {', '.join(f'{x:.3g}' for x in ident['eigen'])}. The "
                   f"flattest direction (eigenvalue {lam:.3g}) is {comb(vec)} (unit-range "
                   "coordinates)."]
    if ident.get("flat"):
        md += ["", f"Eigenvalues of F: {', '.join(f'{x:.3g}' for x in ident['eigen'])}."]
    for vec in ident.get("flat", []):
        md += ["", f"The fitted targets do not move along {comb(vec)}: F is singular there (more "
                   "parameters than the targets pin down, or targets that move together)."]
    md += ["", "Sensitivity of every target (fitted and held out) to every parameter: "
               "[sensitivity.csv](sensitivity.csv), "
               "[figures/identification.png](figures/identification.png).", ""]
    return md


def write_results(c, out, rows, best, opt_stats, opt_reps, opt_sdir, opt_arm, ident=None):
    loss_opt = point_loss(c, best["params"], opt_stats)
    # targets.csv and targets.md
    trows = []
    for t in c.targets:
        m, s, n = opt_stats[t.name]
        e = scaled_error(t, m)
        within = math.isfinite(e) and abs(e) <= t.tolerance
        contrib = t.weight * (e / t.tolerance) ** 2 if (t.fit and math.isfinite(e)) else math.nan
        stat = getattr(t, "resolved_stat", t.stat)
        agg = stat if t.level == "national" else (
            f"{stat}, {t.across}" + (f" >= {_fmt(t.threshold)}" if t.threshold is not None
                                       else "") +
            (f", poverty={t.filter['poverty']}" if t.filter else ""))
        trows.append(dict(target=t.name, fact=t.fact, year=t.year, field=t.field,
                          scale=t.scale, target_value=t.value, output=t.output, level=t.level,
                          aggregation=agg, sim_year=t.sim_year, weight=t.weight, error=t.error,
                          tolerance=t.tolerance, fitted="yes" if t.fit else "no (hold-out)",
                          sim_mean=m, sim_sd=s, replicates=n, scaled_error=e,
                          loss_contribution=contrib, within_tolerance="yes" if within else "no"))
    with open(os.path.join(out, "targets.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(trows[0]))
        w.writeheader()
        for r in trows:
            w.writerow({k: (repr(v) if isinstance(v, float) else v) for k, v in r.items()})
    md = [f"# Calibration '{c.name}': targets at the optimum", "",
          f"Calibration file `{os.path.basename(c.path)}`, base scenario "
          f"`{os.path.relpath(c.base, out)}`; {len(rows)} points tried "
          f"({sum(r['stage'] == '1' for r in rows)} in stage 1, "
          f"{sum(r['stage'] == '2' for r in rows)} in stage 2), {c.replicates} replicates per "
          f"point; the optimum (point {best['point']} of sweep {best['sweep']}) re-run with "
          f"{opt_reps} replicates.", "",
          "Loss = sum over fitted targets of weight x (scaled error / tolerance)^2 (+ prior "
          "terms); scaled error = (mean - target) / |target| (relative) or ln(mean / target) "
          "(log).", "",
          "| parameter | fitted value | low | high | scale |", "|---|---|---|---|---|"]
    for p in c.params:
        md.append(f"| `{p.path}` | {_short(best['params'][p.path])} | {_fmt(p.low)} | "
                  f"{_fmt(p.high)} | {'log' if p.log else 'linear'}"
                  f"{'' if not p.prior else f', prior N({p.prior[0]:g}, {p.prior[1]:g})'} |")
    md += ["", f"Loss at the optimum over {opt_reps} replicates: {loss_opt:.6g} (over "
               f"{c.replicates} replicates in the search: {best['loss']:.6g}).", "",
           "| target | fact (year) | target value | output, level, aggregation | simulated "
           "mean ± sd (n) | scaled error | tolerance | within | fitted |",
           "|---|---|---|---|---|---|---|---|---|"]
    for r in trows:
        md.append(f"| {r['target']} | {r['fact']}.{r['field']} ({r['year']}) | "
                  f"{r['target_value']:.6g} | {r['output']}, {r['level']}, {r['aggregation']}, "
                  f"{r['sim_year']} | {r['sim_mean']:.6g} ± {r['sim_sd']:.3g} "
                  f"({r['replicates']}) | {r['scaled_error']:+.4g} | {r['error']} "
                  f"{r['tolerance']:g} | {r['within_tolerance']} | {r['fitted']} |")
    md += ["", "Figures: " + ", ".join(f"[{t.name}](figures/{t.name}.png)" for t in c.targets)
           + "; loss against each parameter: [parameters](figures/parameters.png)",
           "", "Every point tried: [trail.csv](trail.csv). Fitted scenario: "
           "[fitted.yaml](fitted.yaml).", ""]
    if ident is not None:
        md += write_identification(c, out, ident)
    with open(os.path.join(out, "targets.md"), "w") as f:
        f.write("\n".join(md))
    # fitted.yaml: an overlay of the base
    from importlib.metadata import version as pkg_version
    ver = subprocess.run([ruralsim_bin(), "--version"], capture_output=True,
                         text=True).stdout.strip()
    sections = {}
    for k, v in list(c.set.items()) + [(p.path, best["params"][p.path]) for p in c.params]:
        sec, key = k.split(".", 1)
        sections.setdefault(sec, []).append((key, v, k in c.set))
    lines = [f"# Fitted by `ruralsim calibrate {os.path.basename(c.path)}` (procedure: "
             "docs/calibration.md).",
             f"# Calibration file SHA-256 {hashlib.sha256(c.text.encode()).hexdigest()}; "
             f"targets file {os.path.relpath(c.targets_file, out)}.",
             f"# Best of {len(rows)} points (point {best['point']} of sweep {best['sweep']}), "
             f"loss {best['loss']:.6g} over {c.replicates} replicates, {loss_opt:.6g} over "
             f"{opt_reps} at the optimum; seed {c.seed}.",
             f"# {ver}; optuna {pkg_version('optuna')}.",
             "# The values below are fitted to the targets of targets.md only; settings marked "
             "'fixed' come from the calibration's set:.",
             f"extends: {json.dumps(os.path.relpath(c.base, out))}",
             f"name: {json.dumps(c.name + '_fitted')}"]
    for sec, items in sections.items():
        lines.append(f"{sec}:")
        for key, v, fixed in items:
            lines.append(f"  {key}: {_yaml_scalar(v) if fixed else _num(v)}"
                         + ("  # fixed" if fixed else "  # fitted"))
    with open(os.path.join(out, "fitted.yaml"), "w") as f:
        f.write("\n".join(lines) + "\n")
    # figures
    figures(c, out, rows, best, opt_stats, opt_sdir, opt_arm)
    parameter_figure(c, out, rows, best)


def figures(c, out, rows, best, opt_stats, opt_sdir, opt_arm):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fdir = os.path.join(out, "figures")
    os.makedirs(fdir, exist_ok=True)
    ser = series(c, opt_sdir, opt_arm)
    for t in c.targets:
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4))
        order = np.array([r["order"] for r in rows])
        mean = np.array([r["stats"][t.name][0] for r in rows])
        sd = np.nan_to_num(np.array([r["stats"][t.name][1] for r in rows]))
        stage = np.array([r["stage"] for r in rows])
        lo, hi = _band(t)
        a1.axhspan(lo, hi, color="tab:green", alpha=0.15, label="target ± tolerance")
        a1.axhline(t.value, color="tab:green", lw=1.5, label=f"target {t.value:.4g}")
        for s, col in (("1", "tab:blue"), ("2", "tab:orange")):
            k = stage == s
            if k.any():
                a1.errorbar(order[k], mean[k], yerr=sd[k], fmt="o", ms=3, color=col, alpha=0.7,
                            label=f"stage {s} (mean ± sd)")
        a1.plot([best["order"]], [best["stats"][t.name][0]], "*", color="tab:red", ms=14,
                label="optimum")
        a1.set_xlabel("point (order tried)")
        a1.set_ylabel(t.output)
        a1.set_title(f"{t.name}: simulated over the points")
        a1.legend(fontsize=7)
        years, vals = ser[t.name]
        m = np.nanmean(vals, axis=0)
        s = np.nanstd(vals, axis=0, ddof=1) if vals.shape[0] > 1 else np.zeros_like(m)
        a2.fill_between(years, m - s, m + s, color="tab:red", alpha=0.2)
        a2.plot(years, m, color="tab:red", label=f"optimum, mean ± sd of {vals.shape[0]} "
                                                   "replicates")
        a2.errorbar([t.sim_year], [t.value], yerr=[[t.value - lo], [hi - t.value]], fmt="s",
                    color="tab:green", label=f"target ± tolerance ({t.fact} {t.year})")
        a2.set_xlabel("year")
        a2.set_title(f"{t.name} at the optimum ({t.level}, "
                     f"{getattr(t, 'resolved_stat', t.stat)})")
        a2.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(os.path.join(fdir, f"{t.name}.png"), dpi=90)
        plt.close(fig)


def parameter_figure(c, out, rows, best):
    """Loss of every point against each parameter: where the targets pin a parameter down the
    lowest losses gather around one value, where they do not they spread along its range."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker  # noqa: F401
    k = len(c.params)
    fig, axes = plt.subplots(1, k, figsize=(4.2 * k, 3.6), squeeze=False)
    loss = np.array([r["loss"] for r in rows], float)
    stage = np.array([r["stage"] for r in rows])
    finite = np.isfinite(loss) & (loss > 0)
    for ax, p in zip(axes[0], c.params):
        x = np.array([r["params"][p.path] for r in rows], float)
        for s_, col in (("1", "tab:blue"), ("2", "tab:orange")):
            m = (stage == s_) & finite
            if m.any():
                ax.plot(x[m], loss[m], "o", ms=3, color=col, alpha=0.7, label=f"stage {s_}")
        ax.plot([best["params"][p.path]], [best["loss"]], "*", color="tab:red", ms=13,
                label="optimum")
        if finite.any():
            ax.set_yscale("log")
        if p.log:
            ax.set_xscale("log")
        else:
            ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(nbins=5))
            ax.ticklabel_format(axis="x", useOffset=False, style="plain")
        ax.set_xlim(p.low, p.high)
        ax.set_xlabel(p.path)
        ax.set_ylabel("loss")
        ax.legend(fontsize=7)
    fig.suptitle(f"calibration '{c.name}': loss of every point against each parameter")
    fig.tight_layout()
    fig.savefig(os.path.join(out, "figures", "parameters.png"), dpi=90)
    plt.close(fig)


def _band(t):
    if t.error == "relative":
        return t.value - t.tolerance * abs(t.value), t.value + t.tolerance * abs(t.value)
    return t.value * math.exp(-t.tolerance), t.value * math.exp(t.tolerance)


# ---- command line ----------------------------------------------------------------------------
def main(argv=None):
    ap = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    ap.add_argument("calibration", help="calibration file (docs/calibration.md)")
    ap.add_argument("--out", help="output directory (default calibrations/<name>)")
    ap.add_argument("--jobs", type=int, help="runs at once (default: jobs: of the file, or 1)")
    ap.add_argument("--threads-per-run", type=int, help="threads of each run")
    ap.add_argument("--slurm", action="store_true",
                    help="run every sweep as a Slurm job array (options from slurm:)")
    ap.add_argument("--check", action="store_true",
                    help="validate the file and print the plan; run nothing")
    ap.add_argument("--quiet", action="store_true", help="no progress lines")
    a = ap.parse_args(argv)
    for opt in ("jobs", "threads_per_run"):
        v = getattr(a, opt)
        if v is not None and not 1 <= v <= 1024:
            raise CalibError(f"--{opt.replace('_', '-')} must be in [1, 1024]")
    binary = ruralsim_bin()
    c = read_calibration(a.calibration, binary)
    first, last = simulated_years(c, binary)
    for t in c.targets:
        if not first <= t.sim_year <= last:
            Reader(c.path).fail(t.node, f"target '{t.name}': year {t.sim_year} is not simulated "
                                        f"(the runs cover {first}-{last}); set sim_year, or "
                                        "simulation.years in 'set'")
    out = a.out or os.path.join("calibrations", c.name)
    id_runs = 2 * len(c.params) * c.id_replicates if c.id_step > 0 else 0
    runs = (c.s1_points + c.s2_trials) * c.replicates + c.opt_replicates + id_runs
    plan = (f"calibration '{c.name}': {len(c.params)} parameters, {len(c.targets)} targets "
            f"({sum(t.fit for t in c.targets)} fitted); stage 1 {c.s1_method} {c.s1_points} "
            f"points, stage 2 {c.s2_sampler} {c.s2_trials} trials in batches of {c.s2_batch}; "
            f"{c.replicates} replicates per point, {c.opt_replicates} at the optimum"
            + (f", identification {2 * len(c.params)} points x {c.id_replicates} replicates"
               if id_runs else ", no identification") +
            f": {runs} runs of {first}-{last}; output {out}")
    if a.check:
        print(f"{a.calibration}: valid. {plan}")
        return 0
    import importlib.util
    if importlib.util.find_spec("optuna") is None:
        raise CalibError("the Python package optuna is missing: apt-get install python3-optuna "
                         "(./run.sh calibrate installs it)")
    fp = fingerprint(c)
    state = os.path.join(out, "state.json")
    if os.path.exists(state):
        with open(state) as f:
            old = json.load(f)
        if old.get("fingerprint") != fp:
            raise CalibError(f"{out} holds a calibration of another or an edited calibration "
                             f"file, targets file or base scenario ({old.get('calibration')}); "
                             "use another --out, or remove the directory to start again")
    elif os.path.exists(out) and os.listdir(out):
        raise CalibError(f"{out} exists and is not a calibration directory; use another --out")
    else:
        os.makedirs(os.path.join(out, "inputs"), exist_ok=True)
        shutil.copyfile(c.path, os.path.join(out, "inputs", "calibration.yaml"))
        shutil.copyfile(c.targets_file, os.path.join(out, "inputs", "targets.yaml"))
        shutil.copyfile(c.base, os.path.join(out, "inputs", "base.yaml"))
        with open(state + ".tmp", "w") as f:
            json.dump({"format": FORMAT_VERSION, "fingerprint": fp, "calibration": c.path,
                       "targets_file": c.targets_file, "base": c.base}, f, indent=1)
        os.replace(state + ".tmp", state)
    if not a.quiet:
        print(f"calibrate: {plan}", file=sys.stderr, flush=True)
    slurm = c.slurm if a.slurm else None
    best, opt = calibrate(c, out, binary, a.jobs or c.jobs, a.threads_per_run or c.threads,
                          slurm, a.quiet)
    if not a.quiet:
        print(f"fitted {_show_params(best['params'])} (loss {best['loss']:.6g})")
        for t in c.targets:
            m, s, n = opt[t.name]
            print(f"  {t.name}: target {t.value:.6g}, simulated {m:.6g} ± {s:.3g} (n={n})"
                  + ("" if t.fit else " [hold-out]"))
        print(f"wrote {out}/trail.csv, fitted.yaml, targets.csv, targets.md, figures/")
    return 0


def main_or_exit():
    try:
        return main()
    except CalibError as e:
        print(f"error: {PROG}: {e}", file=sys.stderr)
        return 2
    except RunFailure as e:
        if e.code == 130:
            print(f"\n{PROG}: {e}; run the same command again to continue", file=sys.stderr)
        else:
            print(f"error: {PROG}: {e}", file=sys.stderr)
        return e.code
    except KeyboardInterrupt:
        print(f"\n{PROG}: interrupted; run the same command again to continue", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main_or_exit())
