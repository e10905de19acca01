#!/usr/bin/python3
"""Tests of `ruralsim report SWEEP_DIR` (analysis/sweep_report.py).

usage: test_sweep_report.py RURALSIM_BINARY PROJECT_DIR

In a temporary directory (kept if RURALSIM_KEEP_TMP is set) it plans and runs two sweeps of
scenarios/tiny.yaml over three years: 2 arms x 2 replicates and a 6-point Latin hypercube of
adoption.beta and market.demand_growth, then checks that
  * `ruralsim report DIR` collects a finished sweep that is not collected yet, writes
    index.html, time_paths.png, forest.png and effects.csv (and for the design also
    tornado.png and sensitivity.csv), the PNGs are non-empty, the HTML parses (html.parser),
    references only files that exist in the report directory and nothing on the network,
    and shows the effects and the provenance;
  * SRC and PRCC (sweep_report.src, .prcc, .design_matrix) recover the signs and the ranking of
    a known linear response on a synthetic design;
  * an unfinished sweep, a directory that is not a sweep and an uncollected sweep given to
    analysis/sweep_report.py directly give exit status 2 and one line on stderr, no traceback.
Ends with "N passed, M failed" (exit status 1 if any check failed).
"""
import os
import sys
import tempfile

import numpy as np

from checks import PNG_MAGIC, Refs, check, remove_tmp, run, summary

ARMS = """name: arms2x2
base: {base}
replicates: 2
master_seed: 3
set: {{simulation.years: 3}}
arms:
  - name: base
  - name: beta8
    set: {{adoption.beta: 8}}
"""
LHS = """name: lhs6
base: {base}
replicates: 1
master_seed: 3
set: {{simulation.years: 3}}
design:
  method: lhs
  points: 6
  ranges:
    adoption.beta: [3, 9]
    market.demand_growth: [0.1, 0.3]
"""


def check_report(name, rdir, files):
    index = os.path.join(rdir, "index.html")
    if not check(f"{name}: index.html written", os.path.isfile(index)):
        return
    for f in files:
        p = os.path.join(rdir, f)
        check(f"{name}: {f} exists", os.path.isfile(p))
        if f.endswith(".png") and os.path.isfile(p):
            with open(p, "rb") as fh:
                head = fh.read(8)
            check(f"{name}: {f} is a non-empty PNG",
                  head == PNG_MAGIC and os.path.getsize(p) > 2000, os.path.getsize(p))
    with open(index, encoding="utf-8") as fh:
        text = fh.read()
    parser = Refs()
    parser.feed(text)
    parser.close()
    bad = [r for r in parser.refs if not r.startswith("#")
           and not os.path.isfile(os.path.join(rdir, r))]
    check(f"{name}: HTML references only existing files", not bad, bad)
    net = [r for r in parser.refs if "://" in r or r.startswith("//")]
    check(f"{name}: nothing on the network", not net, net)
    anchors = [r[1:] for r in parser.refs if r.startswith("#")]
    check(f"{name}: internal links resolve", all(a in parser.ids for a in anchors), anchors)
    for word in ("Time paths per arm", "Effects against", "Provenance", "commit"):
        check(f"{name}: page shows {word!r}", word in text)
    for f in ("time_paths.png", "forest.png"):
        check(f"{name}: page shows {f}", f in parser.refs)
    return text, parser


def main(argv):
    if len(argv) != 3:
        print("usage: test_sweep_report.py RURALSIM_BINARY PROJECT_DIR", file=sys.stderr)
        return 2
    binary, src = os.path.abspath(argv[1]), os.path.abspath(argv[2])
    sys.path.insert(0, os.path.join(src, "analysis"))
    import sweep_report as sr  # noqa: E402

    # -- SRC and PRCC on a known response -----------------------------------------------------
    rng = np.random.default_rng(1)
    n = 40
    X = np.column_stack([rng.uniform(0, 1, n), rng.uniform(10, 20, n), rng.uniform(-1, 1, n)])
    # standardised effects: a strong +, b moderate -, c weak +
    y = 3.0 * X[:, 0] - 0.08 * X[:, 1] + 0.1 * X[:, 2] + rng.normal(0, 0.05, n)
    b, r2 = sr.src(X, y)
    p = sr.prcc(X, y)
    check("SRC signs (+, -, +)", list(np.sign(b)) == [1, -1, 1], b)
    check("SRC ranking a > b > c", abs(b[0]) > abs(b[1]) > abs(b[2]), b)
    check("SRC: linear fit R² near 1", r2 > 0.95, r2)
    check("PRCC signs (+, -, +)", list(np.sign(p)) == [1, -1, 1], p)
    check("PRCC ranking a > b > c", abs(p[0]) > abs(p[1]) > abs(p[2]), p)
    check("SRC of a constant outcome is NaN", np.all(np.isnan(sr.src(X, np.ones(n))[0])))
    names, M = sr.design_matrix(["s.years=3; a.x=1; b.y=5", "s.years=3; a.x=2; b.y=4",
                                 "s.years=3; a.x=3; b.y=6"])
    check("design_matrix keeps only the varied parameters", names == ["a.x", "b.y"], names)
    check("design_matrix values", M.tolist() == [[1, 5], [2, 4], [3, 6]], M)

    tmp = tempfile.mkdtemp(prefix="ruralsim_sweep_report_")
    try:
        base = os.path.join(src, "scenarios", "tiny.yaml")
        for nm, body in (("arms", ARMS), ("lhs", LHS)):
            with open(os.path.join(tmp, f"{nm}.yaml"), "w") as fh:
                fh.write(body.format(base=base))
            r = run([binary, "sweep", "plan", os.path.join(tmp, f"{nm}.yaml"), "--out",
                     os.path.join(tmp, nm)])
            check(f"plan {nm}", r.returncode == 0, r.stderr)
        # unfinished: nothing run yet
        for cmd, label in (([binary, "report", os.path.join(tmp, "arms")], "ruralsim report"),
                           (["/usr/bin/python3", os.path.join(src, "analysis", "sweep_report.py"),
                             os.path.join(tmp, "arms")], "sweep_report.py")):
            r = run(cmd)
            lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
            check(f"unfinished sweep ({label}): exit status 2", r.returncode == 2,
                  f"{r.returncode}: {r.stderr[-300:]}")
            check(f"unfinished sweep ({label}): one line, no traceback",
                  len(lines) == 1 and "Traceback" not in r.stderr, r.stderr[-300:])
            check(f"unfinished sweep ({label}): says the runs are not finished",
                  "not finished" in r.stderr, r.stderr[-300:])
        os.makedirs(os.path.join(tmp, "empty"))
        r = run(["/usr/bin/python3", os.path.join(src, "analysis", "sweep_report.py"),
                 os.path.join(tmp, "empty")])
        check("not a sweep directory: exit 2, one line",
              r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr)
        for nm in ("arms", "lhs"):
            r = run([binary, "sweep", "run", os.path.join(tmp, nm), "--jobs", "2", "--quiet"])
            check(f"run {nm}", r.returncode == 0, r.stderr[-300:])
        r = run(["/usr/bin/python3", os.path.join(src, "analysis", "sweep_report.py"),
                 os.path.join(tmp, "arms")])
        check("uncollected sweep given to sweep_report.py: exit 2, one line naming collect",
              r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
              and "sweep collect" in r.stderr, r.stderr)

        # arms: `ruralsim report` collects first
        r = run([binary, "report", os.path.join(tmp, "arms")])
        check("report arms: exit 0", r.returncode == 0, r.stderr[-500:])
        check("report arms: collected first",
              os.path.isfile(os.path.join(tmp, "arms", "sweep.h5")), r.stderr)
        res = check_report("arms", os.path.join(tmp, "arms", "report"),
                           ["time_paths.png", "forest.png", "effects.csv"])
        if res:
            text, _ = res
            check("arms: effects table names the other arm", "beta8" in text)
            check("arms: no tornado for an arms sweep",
                  not os.path.exists(os.path.join(tmp, "arms", "report", "tornado.png")))

        # lhs, with --out
        out = os.path.join(tmp, "lhs_report")
        r = run([binary, "report", os.path.join(tmp, "lhs"), "--out", out, "--quiet"])
        check("report lhs: exit 0", r.returncode == 0, r.stderr[-500:])
        res = check_report("lhs", out, ["time_paths.png", "forest.png", "effects.csv",
                                        "tornado.png", "sensitivity.csv"])
        if res:
            text, parser = res
            check("lhs: page shows tornado.png", "tornado.png" in parser.refs)
            check("lhs: sensitivity table names both parameters",
                  "adoption.beta" in text and "market.demand_growth" in text)
            import pandas as pd
            s = pd.read_csv(os.path.join(out, "sensitivity.csv"))
            check("lhs: sensitivity.csv has SRC and PRCC per outcome and parameter",
                  {"outcome", "parameter", "src", "prcc"} <= set(s.columns) and len(s) >= 2,
                  s.columns)
    finally:
        remove_tmp(tmp)
    return summary()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
