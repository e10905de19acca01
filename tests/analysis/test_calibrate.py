#!/usr/bin/python3
"""Tests of `ruralsim calibrate` (analysis/calibrate.py).

usage: test_calibrate.py RURALSIM_BINARY PROJECT_DIR

In a temporary directory (kept if RURALSIM_KEEP_TMP is set):
  * file validation: a catalogue of bad calibration files each gives exit status 2 and one line
    naming the file, line and column and what is valid; a good file passes `--check`;
  * mechanism: targets are produced by the model itself at known parameter values
    (internet.t_mid = 2011.3, geography.base_income_mean = 20,000 on scenarios/tiny.yaml over
    four years, the mean of two replicates computed here directly from the run files); the
    calibration (8 Sobol points, then 32 CMA-ES trials in batches of 8 starting at the best
    Sobol point with a step of 5% of each range, 2 replicates) must
    recover t_mid within 0.25 years (the search range is 7 years) and base income within 5%
    (the range is a factor 4); stage 2 must find a lower loss than stage 1, and its points must
    lie nearer the truth, on average, than the stage-1 design's;
  * identification at the optimum: both parameters are pinned down (the profile interval of
    loss + 1 within half the range, holding the fitted value) and the sensitivities have the
    expected signs;
  * a TPE calibration (8 + 8 points) run twice into two directories gives the same trail; it
    also frees output.large_store_sales, which moves no target: its sensitivities are exactly 0
    and identification says no fitted target moves with it;
  * outputs: trail.csv (every point, its parameters, every target's mean and sd, the loss, the
    stage), fitted.yaml (valid for `ruralsim validate`, extends the base, holds the best
    point), targets.csv, targets.md and one PNG per target are written; the hold-out targets
    (counties with at least one store, sales summed over poverty-listed counties) and the fitted
    ones at the optimum equal the means computed here directly from the optimum's run files;
  * resume and reproducibility: the same calibration interrupted with SIGINT during stage 2 and
    run again ends with a trail.csv identical, byte for byte, to the uninterrupted one, without
    re-making runs that had finished; a rerun of a finished calibration makes no run and leaves
    the trail unchanged; an edited calibration file is refused for the existing directory.
Ends with "N passed, M failed" (exit status 1 if any check failed; 77, skipped, after the
validation checks when python3-optuna is not installed).
"""
import glob
import math
import os
import signal
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

from checks import PNG_MAGIC, check, remove_tmp, run, summary

TRUE_TMID, TRUE_INCOME = 2011.3, 20000.0
YEARS = 4          # 2009-2012
TARGET_YEAR = 2012
REPS = 2
SEED = 5

CALIB = """name: synthetic
base: {base}
targets_file: targets.yaml
set: {{simulation.years: {years}, geography.poverty_share: 0.5}}
parameters:
  internet.t_mid: {{low: 2009, high: 2016}}
  geography.base_income_mean: {{low: 10000, high: 40000, log: true}}
targets:
  - name: internet
    fact: synthetic_internet
    year: {year}
    output: internet_access
    tolerance: {{relative: 0.02}}
  - name: ratio
    fact: synthetic_ratio
    year: {year}
    output: income_ratio_urban_rural
    tolerance: {{log: 0.02}}
  - name: counties_with_stores
    fact: synthetic_counties
    year: {year}
    output: stores
    level: county
    across: count_ge
    threshold: 1
    tolerance: {{relative: 0.5}}
    fit: false
  - name: poverty_sales
    fact: synthetic_poverty_sales
    year: {year}
    output: sales_total
    level: county
    filter: {{poverty: 1}}
    tolerance: {{log: 0.5}}
    fit: false
replicates: {reps}
seed: {seed}
stage1: {{method: sobol, points: 8}}
stage2: {{sampler: cmaes, sigma0: 0.05, trials: 32, batch: 8}}
optimum_replicates: 3
jobs: 2
"""


def direct_values(path):
    """The four targets' values of one run file, computed here without the driver."""
    with h5py.File(path, "r") as f:
        year = f["national/year"][:]
        last = np.nonzero(year == TARGET_YEAR)[0][-1]
        cy = f["county/year"][:]
        clast = np.nonzero(cy == TARGET_YEAR)[0][-1]
        pov = f["geography/counties/poverty"][:] == 1
        sales = f["county/sales_total"][cy == TARGET_YEAR, :].sum(axis=0)
        total = float(f["county/sales_total"][cy == TARGET_YEAR, :].sum())
        return {"internet": float(f["national/internet_access"][last]),
                "poverty_share_of_sales": float(sales[pov].sum()) / total,
                "ratio": float(f["national/income_ratio_urban_rural"][last]),
                "counties": float(np.sum(f["county/stores"][clast, :] >= 1)),
                "poverty_sales": float(sales[pov].sum())}


def truth_values(binary, base, tmp):
    """Target values at the true parameters: mean over REPS replicates, computed directly."""
    vals = []
    for r in range(REPS):
        out = os.path.join(tmp, f"truth_{r}.h5")
        p = run([binary, "run", base, "--seed", str(SEED), "--replicate", str(r), "--set",
                 f"simulation.years={YEARS}", "--set", f"internet.t_mid={TRUE_TMID!r}", "--set",
                 f"geography.base_income_mean={TRUE_INCOME!r}", "--set",
                 "geography.poverty_share=0.5", "--out", out, "--quiet"])
        if p.returncode != 0:
            raise RuntimeError(p.stderr)
        vals.append(direct_values(out))
    return {k: float(np.mean([v[k] for v in vals])) for k in vals[0]}


BAD = [
    # (name, text replacing or added to the good file, expected fragments)
    ("unknown top key", {"add": "stage3: {}\n"},
     ["unknown key 'stage3'", "valid keys: name, description, base"]),
    ("duplicate key", {"add": "seed: 3\n"}, ["key 'seed' appears twice"]),
    ("invalid YAML", {"add": "parameters: [\n"}, ["not valid YAML"]),
    ("unknown parameter", {"sub": ("internet.t_mid: {low", "internet.t_midd: {low")},
     ["unknown parameter 'internet.t_midd'", "valid keys: internet.k, internet.t_mid"]),
    ("seed parameter", {"sub": ("internet.t_mid: {low", "simulation.seed: {low")},
     ["simulation.seed cannot be set"]),
    ("text parameter", {"sub": ("internet.t_mid: {low: 2009, high: 2016}",
                                "recognition.village_rule: {low: 1, high: 2}")},
     ["only numbers can be fitted"]),
    ("bound outside range", {"sub": ("low: 10000, high: 40000", "low: -5, high: 40000")},
     ["parameters.geography.base_income_mean.low", "must be a number in ["]),
    ("low above high", {"sub": ("low: 2009, high: 2016", "low: 2016, high: 2009")},
     ["low (2016) must be below high (2009)"]),
    ("prior without sd", {"sub": ("high: 2016}", "high: 2016, prior: {mean: 2012}}")},
     ["needs mean and sd"]),
    ("unknown output", {"sub": ("output: internet_access", "output: internet_acess")},
     ["'internet_acess' is not an output variable", "valid (ruralsim outputs): households"]),
    ("unknown fact", {"sub": ("fact: synthetic_internet", "fact: synthetic_internett")},
     ["'synthetic_internett' is not in", "valid facts: synthetic_internet"]),
    ("year not in fact", {"sub": ("year: 2012\n    output: internet_access",
                                  "year: 2013\n    output: internet_access")},
     ["has no entry for that year; valid years: 2012"]),
    ("bad field", {"sub": ("fact: synthetic_internet", "fact: synthetic_internet\n    field: x")},
     ["key 'targets[0].field' = 'x'", "has the numbers: value"]),
    ("bad level", {"sub": ("level: county\n    across", "level: town\n    across")},
     ["key 'targets[2].level' = 'town': valid choices: national, province, county"]),
    ("count_ge without threshold", {"sub": ("    threshold: 1\n", "")},
     ["key 'targets[2].threshold' is missing"]),
    ("filter at national level", {"sub": ("output: internet_access",
                                          "output: internet_access\n    filter: {poverty: 1}")},
     ["needs level: county"]),
    ("bad tolerance", {"sub": ("tolerance: {relative: 0.02}", "tolerance: {absolute: 0.02}")},
     ["unknown key 'targets[0].tolerance.absolute'; valid keys: relative, log"]),
    ("unknown target key", {"sub": ("output: internet_access", "output: internet_access\n"
                                    "    agregation: sum")},
     ["unknown key 'targets[0].agregation'; valid keys: name, fact"]),
    ("year not simulated", {"sub": ("simulation.years: 4", "simulation.years: 2")},
     ["year 2012 is not simulated (the runs cover 2009-2010)"]),
    ("unknown sampler", {"sub": ("sampler: cmaes", "sampler: nelder")},
     ["key 'stage2.sampler' = 'nelder': valid choices: tpe, cmaes"]),
    ("sigma0 with TPE", {"sub": ("sampler: cmaes", "sampler: tpe")},
     ["key 'stage2.sigma0' (initial step of CMA-ES) needs sampler: cmaes"]),
    ("zero points", {"sub": ("points: 8", "points: 0")},
     ["key 'stage1.points' must be a whole number in [1, 100000]"]),
    ("nothing fitted", {"sub": ("tolerance: {relative: 0.02}\n", "tolerance: {relative: 0.02}\n"
                                "    fit: false\n"),
                        "sub2": ("tolerance: {log: 0.02}\n", "tolerance: {log: 0.02}\n"
                                 "    fit: false\n")},
     ["no target is fitted"]),
    ("missing base", {"sub": ("base: ", "base: nowhere/")}, ["no such scenario file"]),
    ("identification step too large", {"add": "identification: {step: 0.7}\n"},
     ["key 'identification.step' must be a number in [0, 0.5]"]),
    ("unknown identification key", {"add": "identification: {steps: 0.1}\n"},
     ["unknown key 'identification.steps'; valid keys: step, replicates"]),
]


def make_bad(good, spec):
    t = good
    if "add" in spec:
        t = t + spec["add"]
    for k in ("sub", "sub2"):
        if k in spec:
            a, b = spec[k]
            assert a in t, a
            t = t.replace(a, b, 1)
    return t


def read_trail(path):
    import csv
    with open(path) as f:
        return list(csv.DictReader(f))


def run_files(out):
    return {p: os.path.getmtime(p) for p in glob.glob(os.path.join(out, "sweeps", "*", "runs",
                                                                   "*.h5"))}


def main(argv):
    binary, project = os.path.abspath(argv[1]), os.path.abspath(argv[2])
    base = os.path.join(project, "scenarios", "tiny.yaml")
    tmp = tempfile.mkdtemp(prefix="ruralsim-calibrate-test-")
    try:
        truth = truth_values(binary, base, tmp)
        with open(os.path.join(tmp, "targets.yaml"), "w") as f:
            y = TARGET_YEAR
            f.write("targets:\n"
                    f"  synthetic_internet: [{{year: {y}, value: {truth['internet']!r}}}]\n"
                    f"  synthetic_ratio: [{{year: {y}, value: {truth['ratio']!r}}}]\n"
                    f"  synthetic_counties: [{{year: {TARGET_YEAR}, value: 1}}]\n"
                    f"  synthetic_poverty_sales: [{{year: {TARGET_YEAR}, value: 1.0e6}}]\n")
        good = CALIB.format(base=base, years=YEARS, year=TARGET_YEAR, reps=REPS, seed=SEED)
        cal = os.path.join(tmp, "synthetic.yaml")
        with open(cal, "w") as f:
            f.write(good)

        # ---- validation
        r = run([binary, "calibrate", cal, "--check"])
        check("good file: --check exit 0", r.returncode == 0, r.stderr)
        check("good file: --check prints the plan", "valid." in r.stdout and "91 runs" in r.stdout
              and "identification 4 points x 2 replicates" in r.stdout,
              r.stdout)
        for name, spec, frags in BAD:
            bad = os.path.join(tmp, "bad.yaml")
            with open(bad, "w") as f:
                f.write(make_bad(good, spec))
            r = run([binary, "calibrate", bad, "--check"])
            err = r.stderr.strip()
            located = f"{bad}:" in err and any(c.isdigit() for c in err.split(bad + ":")[1][:3])
            check(f"bad file ({name}): exit 2, one line, located, says what is valid",
                  r.returncode == 2 and len(err.splitlines()) == 1 and located
                  and all(fr in err for fr in frags) and "Traceback" not in err,
                  f"exit {r.returncode}: {err[:400]}")
        r = run([binary, "calibrate"])
        check("no file: exit 2", r.returncode == 2, r.stderr)
        r = run([binary, "calibrate", os.path.join(tmp, "missing.yaml"), "--check"])
        check("missing file: exit 2, names it", r.returncode == 2 and "missing.yaml" in r.stderr,
              r.stderr)

        import importlib.util
        if importlib.util.find_spec("optuna") is None:
            print("skipped: the calibration itself needs python3-optuna (./run.sh test installs "
                  "it)")
            summary()
            return 77

        # ---- the calibration, uninterrupted
        out1 = os.path.join(tmp, "cal1")
        t0 = time.time()
        r = run([binary, "calibrate", cal, "--out", out1], timeout=900)
        check("calibration: exit 0", r.returncode == 0, r.stderr[-2000:])
        print(f"     (calibration took {time.time() - t0:.0f} s)")
        check("calibration: progress lines on stderr",
              "calibrate: stage 1" in r.stderr and "stage 2 batch 4/4" in r.stderr, r.stderr[-500:])
        for f in ["trail.csv", "fitted.yaml", "targets.csv", "targets.md",
                  "figures/internet.png", "figures/ratio.png",
                  "figures/counties_with_stores.png", "figures/poverty_sales.png",
                  "figures/parameters.png", "identification.csv", "sensitivity.csv",
                  "figures/identification.png"]:
            p = os.path.join(out1, f)
            ok = os.path.isfile(p) and os.path.getsize(p) > 0
            if ok and f.endswith(".png"):
                with open(p, "rb") as fh:
                    ok = fh.read(8) == PNG_MAGIC
            check(f"calibration: writes {f}", ok)
        if r.returncode != 0:
            return summary()
        trail = read_trail(os.path.join(out1, "trail.csv"))
        check("trail: 40 points (8 of stage 1, 32 of stage 2)",
              len(trail) == 40 and sum(t["stage"] == "1" for t in trail) == 8, len(trail))
        cols = set(trail[0]) if trail else set()
        check("trail: parameters, loss, stage and every target's mean, sd, n",
              {"stage", "loss", "internet.t_mid", "geography.base_income_mean", "internet.mean",
               "internet.sd", "ratio.mean", "poverty_sales.n"} <= cols, cols)
        best = min(trail, key=lambda t: float(t["loss"]))
        tmid, inc = float(best["internet.t_mid"]), float(best["geography.base_income_mean"])
        print(f"     (fitted t_mid {tmid:.4f} (true {TRUE_TMID}), base income {inc:.1f} "
              f"(true {TRUE_INCOME:.0f}), loss {float(best['loss']):.4g})")
        check("mechanism: t_mid recovered within 0.25 years", abs(tmid - TRUE_TMID) <= 0.25, tmid)
        check("mechanism: base income recovered within 5%",
              abs(inc / TRUE_INCOME - 1) <= 0.05, inc)

        def dist(t):  # distance to the truth in units of the search ranges
            return math.hypot((float(t["internet.t_mid"]) - TRUE_TMID) / 7,
                              math.log(float(t["geography.base_income_mean"]) / TRUE_INCOME)
                              / math.log(4))
        d1 = np.mean([dist(t) for t in trail if t["stage"] == "1"])
        d2 = np.mean([dist(t) for t in trail if t["stage"] == "2"])
        check("mechanism: stage-2 points lie nearer the truth than the design's", d2 < d1,
              (d1, d2))
        l1 = min(float(t["loss"]) for t in trail if t["stage"] == "1")
        l2 = min(float(t["loss"]) for t in trail if t["stage"] == "2")
        check("mechanism: stage 2 improves on stage 1", l2 < l1, (l1, l2))
        # the loss of a point, recomputed here from its means
        t = best
        e1 = (float(t["internet.mean"]) - truth["internet"]) / truth["internet"]
        e2 = math.log(float(t["ratio.mean"]) / truth["ratio"])
        check("loss: sum of (scaled error / tolerance)^2 of the fitted targets",
              math.isclose(float(t["loss"]), (e1 / 0.02) ** 2 + (e2 / 0.02) ** 2, rel_tol=1e-9),
              (t["loss"], e1, e2))
        # hold-out aggregations against a direct computation at the truth
        with open(os.path.join(out1, "fitted.yaml")) as f:
            fitted = f.read()
        check("fitted.yaml: extends the base and holds the best point",
              "extends:" in fitted and "tiny.yaml" in fitted and
              f"t_mid: {best['internet.t_mid']}" in fitted and
              f"base_income_mean: {best['geography.base_income_mean']}" in fitted, fitted)
        r = run([binary, "validate", os.path.join(out1, "fitted.yaml")])
        check("fitted.yaml: a valid scenario", r.returncode == 0, r.stderr)
        import pandas as pd
        tc = pd.read_csv(os.path.join(out1, "targets.csv"))
        check("targets.csv: a row per target with simulated mean, sd, replicates",
              list(tc["target"]) == ["internet", "ratio", "counties_with_stores", "poverty_sales"]
              and (tc["replicates"] == 3).all() and tc["sim_mean"].notna().all(), tc)
        with open(os.path.join(out1, "targets.md")) as f:
            md = f.read()
        check("targets.md: table of targets against mean ± sd", "| internet |" in md and
              "±" in md and "hold-out" in md, md[:300])

        # identification: both parameters move a fitted target each, strongly
        ident = pd.read_csv(os.path.join(out1, "identification.csv"))
        check("identification: both parameters pinned down (profile loss + 1 within half the "
              "range)", list(ident["verdict"]) == ["pinned down", "pinned down"], ident)
        check("identification: the profile interval holds the fitted value",
              ((ident["profile_low"] <= ident["value"]) &
               (ident["value"] <= ident["profile_high"])).all(), ident)
        check("identification: a section of targets.md", "## Identification" in md)
        sens = pd.read_csv(os.path.join(out1, "sensitivity.csv"))
        d = {(r.target, r.parameter): r.d_scaled_error_d_unit for r in sens.itertuples()}
        check("sensitivity: internet rises with an earlier roll-out (t_mid) and the ratio falls "
              "with base income", d[("internet", "internet.t_mid")] < 0 and
              d[("ratio", "geography.base_income_mean")] < 0, d)

        # every target's aggregation against a direct computation from the optimum's runs
        opt_runs = sorted(glob.glob(os.path.join(out1, "sweeps", "optimum", "runs", "*.h5")))
        direct = [direct_values(f) for f in opt_runs]
        check("the poverty filter keeps some counties and not all (0 < share of sales < 1)",
              all(0 < d["poverty_share_of_sales"] < 1 for d in direct),
              [d["poverty_share_of_sales"] for d in direct])
        for col, k in (("internet", "internet"), ("ratio", "ratio"),
                       ("counties_with_stores", "counties"), ("poverty_sales", "poverty_sales")):
            m = float(np.mean([d[k] for d in direct]))
            got = float(tc.loc[tc["target"] == col, "sim_mean"].iloc[0])
            check(f"aggregation {col}: the mean of the optimum's {len(opt_runs)} runs computed "
                  "directly", len(opt_runs) == 3 and math.isclose(got, m, rel_tol=1e-12),
                  (got, m))

        # ---- rerun of a finished calibration: nothing made, same trail
        before = run_files(out1)
        with open(os.path.join(out1, "trail.csv"), "rb") as f:
            trail1 = f.read()
        r = run([binary, "calibrate", cal, "--out", out1], timeout=600)
        check("rerun: exit 0", r.returncode == 0, r.stderr[-1000:])
        check("rerun: no run made again", run_files(out1) == before)
        with open(os.path.join(out1, "trail.csv"), "rb") as f:
            check("rerun: same trail", f.read() == trail1)
        # ---- an edited file is refused for the directory
        edited = os.path.join(tmp, "edited.yaml")
        with open(edited, "w") as f:
            f.write(good.replace("points: 8", "points: 9"))
        r = run([binary, "calibrate", edited, "--out", out1])
        check("edited file: refused for the existing directory (exit 2)",
              r.returncode == 2 and "another or an edited calibration" in r.stderr, r.stderr)

        # ---- TPE: the same trail in two directories
        tpe = os.path.join(tmp, "tpe.yaml")
        with open(tpe, "w") as f:
            # output.large_store_sales only sets what the output large_store_share counts: it
            # moves no target, and identification must say so
            f.write(good.replace("sampler: cmaes, sigma0: 0.05, trials: 32, batch: 8",
                                 "sampler: tpe, trials: 8, batch: 4")
                    .replace("optimum_replicates: 3", "optimum_replicates: 0")
                    .replace("parameters:\n", "parameters:\n"
                             "  output.large_store_sales: {low: 1.0e5, high: 1.0e7, log: true}\n")
                    + "identification: {step: 0.1, replicates: 1}\n")
        trails = []
        for k in ("tpe_a", "tpe_b"):
            r = run([binary, "calibrate", tpe, "--out", os.path.join(tmp, k), "--quiet"],
                    timeout=600)
            check(f"TPE calibration {k}: exit 0", r.returncode == 0, r.stderr[-1000:])
            p = os.path.join(tmp, k, "trail.csv")
            trails.append(open(p, "rb").read() if os.path.exists(p) else b"")
        check("TPE: the same trail in two directories, 16 points",
              trails[0] == trails[1] and trails[0].count(b"\n") == 17)
        ident = pd.read_csv(os.path.join(tmp, "tpe_a", "identification.csv"))
        v = dict(zip(ident["parameter"], ident["verdict"]))
        check("identification: a parameter that moves no target is not pinned down, and the "
              "others still get a verdict", v.get("output.large_store_sales") ==
              "not pinned down: no fitted target moves with it" and
              all(v.get(k, "").endswith("pinned down") and not v[k].startswith("not")
                  for k in ("internet.t_mid", "geography.base_income_mean")), v)
        sens = pd.read_csv(os.path.join(tmp, "tpe_a", "sensitivity.csv"))
        inert = sens[sens["parameter"] == "output.large_store_sales"]
        check("sensitivity: exactly zero for every target (identical runs)",
              len(inert) == 4 and (inert["d_scaled_error_d_unit"] == 0).all(), inert)
        ident_runs = glob.glob(os.path.join(tmp, "tpe_a", "sweeps", "identification", "runs",
                                            "*.h5"))
        check("identification: 2 points per parameter x 1 replicate", len(ident_runs) == 6,
              len(ident_runs))

        # ---- interrupted during stage 2, then resumed
        out2 = os.path.join(tmp, "cal2")
        p = subprocess.Popen([binary, "calibrate", cal, "--out", out2],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
        target = os.path.join(out2, "sweeps", "stage2_b001", "runs")
        deadline = time.time() + 600
        while time.time() < deadline and p.poll() is None:
            if glob.glob(os.path.join(target, "*.h5")):
                break
            time.sleep(0.05)
        interrupted = p.poll() is None
        if interrupted:
            os.killpg(p.pid, signal.SIGINT)
        code = p.wait(timeout=120)
        check("interrupt: the calibration stops with status 130 in stage 2",
              interrupted and code == 130, (interrupted, code))
        done = run_files(out2)
        check("interrupt: stage 1 had finished, stage 2 had not",
              any("stage1" in k for k in done) and
              not os.path.exists(os.path.join(out2, "sweeps", "optimum")))
        r = run([binary, "calibrate", cal, "--out", out2], timeout=900)
        check("resume: exit 0", r.returncode == 0, r.stderr[-1000:])
        after = run_files(out2)
        check("resume: runs finished before the interruption are not made again",
              all(after.get(k) == v for k, v in done.items()), len(done))
        with open(os.path.join(out2, "trail.csv"), "rb") as f:
            check("resume: the trail equals the uninterrupted calibration's, byte for byte",
                  f.read() == trail1)
    finally:
        remove_tmp(tmp)
    return summary()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
