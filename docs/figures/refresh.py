#!/usr/bin/python3
"""Regenerates the figures of docs/analysis.md from the baseline, or checks that they are current.

usage: docs/figures/refresh.py [--check] [--binary PATH]

Runs scenarios/baseline.yaml and scenarios/policy_mix.yaml (seed 1) with the binary (default
build/ruralsim) in a temporary directory, and plans, runs (--jobs 2) and collects the sweeps
docs/figures/sweep_policy.yaml (the arms of scenarios/sweeps/policy_comparison.yaml on the
baseline, 2 replicates) and docs/figures/sweep_design.yaml (a 12-point Latin hypercube on
scenarios/tiny.yaml), then draws
  report_<figure>.png   analysis/report.py of the baseline (all of report.FIGURES except
                        interventions.png, which is that of policy_mix)
  plot_county_stores.png, plot_national_income.png
                        analysis/plot_run.py of the baseline (--level county; national)
  compare_stores.png    analysis/compare_runs.py, baseline against policy_mix
  sweep_time_paths.png, sweep_forest.png
                        analysis/sweep_report.py of the policy sweep
  sweep_tornado.png     analysis/sweep_report.py of the design sweep
into docs/figures/ and writes docs/figures/MANIFEST.json.

Staleness is decided without comparing pixels (matplotlib output may differ in the last bit
between versions and fonts). MANIFEST.json records what the figures were made from:
  * the content hash of each input run, and for each sweep a SHA-256 over its runs' content
    hashes (changes whenever the model's results change),
  * the SHA-256 of the scenario files and of the scripts that draw (analysis/report.py,
    plot_run.py, compare_runs.py, ruralsim_io.py, data/calibration_targets.yaml, this file),
  * the SHA-256 of every figure file written (catches a missing, replaced or edited PNG).
--check reruns the two scenarios and the two sweeps (about 15 s on two busy cores), recomputes
these hashes and exits 1 with the list of differences if any, 0 if the figures are current. It
does not redraw anything.
"""
import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PY = "/usr/bin/python3"
RUNS = {"baseline": "scenarios/baseline.yaml", "policy_mix": "scenarios/policy_mix.yaml"}
SWEEPS = {"policy": "docs/figures/sweep_policy.yaml", "design": "docs/figures/sweep_design.yaml"}
#: figure of a sweep report -> (sweep, name in docs/figures)
SWEEP_FIGURES = {("policy", "time_paths.png"): "sweep_time_paths.png",
                 ("policy", "forest.png"): "sweep_forest.png",
                 ("design", "tornado.png"): "sweep_tornado.png"}
SOURCES = ["analysis/report.py", "analysis/plot_run.py", "analysis/compare_runs.py",
           "analysis/ruralsim_io.py", "analysis/sweep_report.py", "analysis/sweep_compare.py",
           "data/calibration_targets.yaml", "docs/figures/refresh.py",
           "scenarios/tiny.yaml"] + sorted(RUNS.values()) + sorted(SWEEPS.values())
MANIFEST = os.path.join(HERE, "MANIFEST.json")
PLOT_RUN = [("county", "stores"), ("national", "income")]


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def run_inputs(binary, tmp):
    """Runs the input scenarios; returns {name: (path, content hash)}."""
    out = {}
    for name, scen in RUNS.items():
        path = os.path.join(tmp, f"{name}_seed1.h5")
        p = subprocess.run([binary, "run", os.path.join(ROOT, scen), "--seed", "1", "--out", path,
                            "--overwrite", "--quiet"], capture_output=True, text=True)
        if p.returncode != 0:
            raise SystemExit(f"refresh.py: {scen} failed: {p.stderr.strip()}")
        import h5py
        with h5py.File(path, "r") as f:
            h = f.attrs["content_hash"]
            out[name] = (path, h.decode() if isinstance(h, bytes) else str(h))
    return out


def run_sweeps(binary, tmp):
    """Plans, runs and collects the input sweeps; returns {name: (directory, runs, hash over
    the runs' content hashes in manifest order)}."""
    import h5py
    out = {}
    for name, spec in SWEEPS.items():
        d = os.path.join(tmp, f"sweep_{name}")
        for cmd in (["sweep", "plan", os.path.join(ROOT, spec), "--out", d],
                    ["sweep", "run", d, "--jobs", "2"], ["sweep", "collect", d]):
            p = subprocess.run([binary] + cmd, capture_output=True, text=True)
            if p.returncode != 0:
                raise SystemExit(f"refresh.py: {' '.join(cmd[:2])} {spec} failed: "
                                 f"{p.stderr.strip()[-500:]}")
        with h5py.File(os.path.join(d, "sweep.h5"), "r") as f:
            hashes = [h.decode() if isinstance(h, bytes) else str(h)
                      for h in f["manifest/content_hash"][:]]
        out[name] = (d, len(hashes), hashlib.sha256("\n".join(hashes).encode()).hexdigest())
    return out


def inputs_record(runs, sweeps):
    return {"runs": {n: {"scenario": RUNS[n], "seed": 1, "content_hash": h}
                     for n, (_, h) in runs.items()},
            "sweeps": {n: {"sweep": SWEEPS[n], "runs": k, "content_hashes": h}
                       for n, (_, k, h) in sweeps.items()},
            "sources": {s: sha256_file(os.path.join(ROOT, s)) for s in SOURCES}}


def draw(runs, sweeps, tmp):
    """Draws every figure into docs/figures; returns the file names written."""
    sys.path.insert(0, os.path.join(ROOT, "analysis"))
    import report
    import sweep_report
    base = runs["baseline"][0]
    written = []
    rep = os.path.join(tmp, "report")
    report.make_report(base, rep)
    # The baseline has no interventions: that figure comes from the policy_mix report.
    rep_policy = os.path.join(tmp, "report_policy")
    report.make_report(runs["policy_mix"][0], rep_policy)
    for name in report.FIGURES:
        d = rep_policy if name == "interventions.png" else rep
        shutil.copy(os.path.join(d, name), os.path.join(HERE, f"report_{name}"))
        written.append(f"report_{name}")
    for level, fig in PLOT_RUN:
        d = os.path.join(tmp, f"plot_{level}")
        subprocess.run([PY, os.path.join(ROOT, "analysis", "plot_run.py"), base, "--out", d,
                        "--level", level], check=True, capture_output=True)
        shutil.copy(os.path.join(d, f"{level}_{fig}.png"),
                    os.path.join(HERE, f"plot_{level}_{fig}.png"))
        written.append(f"plot_{level}_{fig}.png")
    d = os.path.join(tmp, "compare")
    subprocess.run([PY, os.path.join(ROOT, "analysis", "compare_runs.py"), base,
                    runs["policy_mix"][0], "--out", d, "--var", "stores"], check=True,
                   capture_output=True)
    shutil.copy(os.path.join(d, "compare_stores.png"), os.path.join(HERE, "compare_stores.png"))
    written.append("compare_stores.png")
    for name, (sweep_dir, _, _) in sweeps.items():
        d = os.path.join(tmp, f"sweep_report_{name}")
        sweep_report.make_report(sweep_dir, d)
        for (sweep, fig), target in SWEEP_FIGURES.items():
            if sweep == name:
                shutil.copy(os.path.join(d, fig), os.path.join(HERE, target))
                written.append(target)
    return written


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="only check; exit 1 if stale")
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "ruralsim"))
    args = ap.parse_args(argv)
    binary = os.path.abspath(args.binary)
    if not os.path.exists(binary):
        print(f"refresh.py: {binary} not found (./run.sh build)", file=sys.stderr)
        return 2
    tmp = tempfile.mkdtemp(prefix="ruralsim_doc_figures_")
    try:
        runs = run_inputs(binary, tmp)
        sweeps = run_sweeps(binary, tmp)
        now = inputs_record(runs, sweeps)
        if args.check:
            try:
                with open(MANIFEST, encoding="utf-8") as fh:
                    old = json.load(fh)
            except (OSError, ValueError) as e:
                print(f"docs/figures/MANIFEST.json unreadable: {e}")
                return 1
            diffs = []
            for n, r in now["runs"].items():
                was = old.get("runs", {}).get(n, {}).get("content_hash")
                if was != r["content_hash"]:
                    diffs.append(f"results of {r['scenario']} changed (content hash "
                                 f"{str(was)[:12]} -> {r['content_hash'][:12]})")
            for n, r in now["sweeps"].items():
                was = old.get("sweeps", {}).get(n, {})
                if (was.get("content_hashes"), was.get("runs")) != (r["content_hashes"],
                                                                    r["runs"]):
                    diffs.append(f"results of the sweep {r['sweep']} changed")
            for s, h in now["sources"].items():
                if old.get("sources", {}).get(s) != h:
                    diffs.append(f"{s} changed since the figures were drawn")
            for name, h in old.get("figures", {}).items():
                p = os.path.join(HERE, name)
                if not os.path.isfile(p):
                    diffs.append(f"docs/figures/{name} missing")
                elif sha256_file(p) != h:
                    diffs.append(f"docs/figures/{name} differs from the one recorded")
            if not old.get("figures"):
                diffs.append("MANIFEST.json lists no figures")
            if diffs:
                print("docs/figures are stale:")
                for d in diffs:
                    print(f"  - {d}")
                print("refresh with: /usr/bin/python3 docs/figures/refresh.py")
                return 1
            print(f"docs/figures current ({len(old['figures'])} figures)")
            return 0
        written = draw(runs, sweeps, tmp)
        now["figures"] = {n: sha256_file(os.path.join(HERE, n)) for n in sorted(written)}
        stale = sorted(set(f for f in os.listdir(HERE) if f.endswith(".png")) - set(written))
        for f in stale:
            os.remove(os.path.join(HERE, f))
        with open(MANIFEST, "w", encoding="utf-8") as fh:
            json.dump(now, fh, indent=1, sort_keys=True)
            fh.write("\n")
        for n in sorted(written):
            print(os.path.join("docs", "figures", n))
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
