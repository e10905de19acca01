#!/usr/bin/python3
"""Sweeps, the output lock, verify and archive through the command line (ctest cli.sweep).

usage: cli_sweep.py RURALSIM_BINARY SOURCE_DIR
"""
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time

import h5py
import numpy as np

BIN = os.path.abspath(sys.argv[1])
SRC = os.path.abspath(sys.argv[2])
DATA = os.path.join(SRC, "tests", "data", "sweeps")
FAILURES = []


def run(*args, ok=(0,), cwd=None):
    p = subprocess.run([BIN, *map(str, args)], capture_output=True, text=True, cwd=cwd)
    if p.returncode not in ok:
        raise AssertionError(f"ruralsim {' '.join(map(str, args))}: exit {p.returncode}\n"
                             f"{p.stdout}\n{p.stderr}")
    return p


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL:", what)


def manifest(d):
    with open(os.path.join(d, "manifest.tsv")) as f:
        head = f.readline().rstrip("\n").split("\t")
        return [dict(zip(head, line.rstrip("\n").split("\t"))) for line in f if line.strip()]


def attr(path, key):
    with h5py.File(path, "r") as f:
        v = f.attrs[key]
        return v.decode() if isinstance(v, bytes) else str(v)


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


# ---- planning -------------------------------------------------------------------------------
def test_plan_grid_list_design(tmp):
    base = os.path.join(SRC, "scenarios", "tiny.yaml")
    grid = write(os.path.join(tmp, "grid.yaml"), f"""
name: g
base: {base}
replicates: 2
master_seed: 99
grid:
  adoption.beta: [4, 6, 8]
  market.demand_growth: [0.1, 0.2]
""")
    run("sweep", "plan", grid, "--out", os.path.join(tmp, "g"))
    m = manifest(os.path.join(tmp, "g"))
    # A sweep file named relative to the working directory, its base beside it.
    shutil.copy(base, os.path.join(tmp, "tiny.yaml"))
    write(os.path.join(tmp, "rel.yaml"), "name: rel\nbase: tiny.yaml\narms: [{name: a}]\n")
    run("sweep", "plan", "rel.yaml", "--out", "rel_plan", cwd=tmp)
    check(len(manifest(os.path.join(tmp, "rel_plan"))) == 1, "relative sweep file plans")
    check(len(m) == 12, f"grid 3x2 arms x 2 replicates gives 12 runs, got {len(m)}")
    arms = list(dict.fromkeys(r["arm"] for r in m))
    check(arms == ["beta=4,demand_growth=0.1", "beta=4,demand_growth=0.2",
                   "beta=6,demand_growth=0.1", "beta=6,demand_growth=0.2",
                   "beta=8,demand_growth=0.1", "beta=8,demand_growth=0.2"], f"grid arms {arms}")
    check(all(r["seed"] == "99" for r in m), "every run has the master seed")
    check([r["replicate"] for r in m[:4]] == ["0", "1", "0", "1"], "replicates 0, 1 per arm")
    check(len({r["geography_hash"] for r in m}) == 1, "one geography for the whole grid")
    # arm 2 (beta=6, demand_growth=0.1), replicate 1
    check(m[5]["values"] == "adoption.beta=6; market.demand_growth=0.1", f"values {m[5]['values']}")
    with open(os.path.join(tmp, "g", m[5]["scenario"])) as f:
        y = f.read()
    check("  beta: 6\n" in y and "  demand_growth: 0.1\n" in y and "  replicate: 1\n" in y
          and "  seed: 99\n" in y, "the planned scenario holds the arm's values and seeds")

    lst = write(os.path.join(tmp, "list.yaml"), f"""
base: {base}
replicates: 3
arms:
  - name: none
  - name: comm
    interventions:
      - {{type: rural_commissioner, name: c, counties: [1]}}
  - name: comm_strong
    interventions:
      - {{type: rural_commissioner, name: c, counties: [1]}}
    set: {{interventions.c.tau: 2.5}}
""")
    run("sweep", "plan", lst, "--out", os.path.join(tmp, "l"))
    m = manifest(os.path.join(tmp, "l"))
    check(len(m) == 9, f"3 arms x 3 replicates, got {len(m)}")
    check(len({r["scenario_hash"] for r in m}) == 9, "every run has its own resolved scenario")
    with open(os.path.join(tmp, "l", m[8]["scenario"])) as f:
        y = f.read()
    check("tau: 2.5" in y and "name: c" in y, "intervention key set by entry name")

    for method in ("lhs", "sobol"):
        d = write(os.path.join(tmp, f"{method}.yaml"), f"""
base: {base}
master_seed: 5
design:
  method: {method}
  points: 8
  ranges: {{adoption.beta: [2, 10], market.demand_growth: [0.1, 0.3], simulation.years: [3, 6]}}
""")
        run("sweep", "plan", d, "--out", os.path.join(tmp, method))
        m = manifest(os.path.join(tmp, method))
        check(len(m) == 8, f"{method}: 8 points x 1 replicate, got {len(m)}")
        vals = np.array([[float(kv.split("=")[1]) for kv in r["values"].split("; ")] for r in m])
        u = (vals - [2, 0.1, 3]) / [8, 0.2, 3]
        check(np.all(vals[:, 2] == np.round(vals[:, 2])), f"{method}: whole-number parameter rounded")
        if method == "lhs":
            for k in range(2):
                strata = np.floor(u[:, k] * 8 + 1e-9).astype(int)
                check(sorted(strata) == list(range(8)), f"lhs: one point per stratum in dim {k}")
        else:
            from scipy.stats import qmc
            ref = qmc.Sobol(3, scramble=False).random(8)
            check(np.allclose(u[:, :2], ref[:, :2], atol=1e-12),
                  f"sobol points equal scipy's unscrambled Sobol:\n{u[:, :2]}\n{ref[:, :2]}")


def test_bad_sweep_files(tmp):
    base = os.path.join(SRC, "scenarios", "tiny.yaml")
    cases = [
        ("base: {b}\narms: [{{name: a}}]\nreplicatez: 3\n", "3:1", "unknown key 'replicatez'"),
        ("base: {b}\ngrid:\n  adoption.betta: [1, 2]\n", "3:3", "unknown parameter 'adoption.betta'"),
        ("base: {b}\narms: [{{name: a}}]\nbaseline: b\n", "3:11", "'b' is not an arm; arms: a"),
        ("base: {b}\ndesign: {{method: halton, points: 4, ranges: {{adoption.beta: [1, 2]}}}}\n",
         "2:18", "lhs, sobol"),
        ("base: {b}\nreplicates: 0\narms: [{{name: a}}]\n", "2:13", "whole number in [1, 100000]"),
        ("base: {b}\narms:\n  - name: a\n    set: {{interventions.nope.tau: 1}}\n", "3:5",
         "no intervention entry named 'nope'"),
        ("base: {b}\narms:\n  - name: a\n    interventions: [{{type: shipping_subsidy, rmb: 1}}]\n",
         "4:46", "unknown key 'interventions[0].rmb'"),
        ("base: nothere.yaml\narms: [{{name: a}}]\n", "1:7",
         "cannot open a scenario file (no such file)"),
        # found by fuzzing: a base name longer than the system allows (was an uncaught
        # filesystem error)
        ("base: " + "x" * 5000 + ".yaml\narms: [{{name: a}}]\n", "1:7", "File name too long"),
        ("base: /dev/null\narms: [{{name: a}}]\n", "1:7", "is a character device"),
        ("base: .\narms: [{{name: a}}]\n", "1:7", "is a directory"),
    ]
    for i, (text, where, msg) in enumerate(cases):
        path = write(os.path.join(tmp, f"bad{i}.yaml"), text.format(b=base))
        p = run("sweep", "plan", path, "--out", os.path.join(tmp, f"bad{i}"), ok=(2,))
        check(f"{path}:{where}:" in p.stderr and msg in p.stderr,
              f"bad sweep {i}: expected {path}:{where} and {msg!r}, got {p.stderr.strip()}")
        check(not os.path.exists(os.path.join(tmp, f"bad{i}", "manifest.tsv")),
              f"bad sweep {i}: nothing planned")


# ---- a sweep equals the same runs made one by one ---------------------------------------------
def test_sweep_matches_single_runs(tmp):
    d = os.path.join(tmp, "s")
    run("sweep", "plan", os.path.join(DATA, "tiny_2x3.yaml"), "--out", d)
    p = run("sweep", "run", d, "--jobs", "2", "--threads-per-run", "2")
    check("6 runs made (6 finished, 0 failed)" in p.stdout, f"sweep run summary: {p.stdout}")
    m = manifest(d)
    scen = os.path.join(DATA, "tiny_ship.yaml")
    for r in m:
        out = os.path.join(tmp, f"single_{r['run_id']}.h5")
        sets = []
        if r["arm"] == "subsidy":
            sets = ["--set", "interventions.ship.rmb_per_parcel=3", "--set", "adoption.beta=8"]
        run("run", scen, "--seed", r["seed"], "--replicate", r["replicate"], *sets, "--out", out,
            "--quiet", "--threads", "1")
        a, b = attr(out, "content_hash"), attr(os.path.join(d, r["output"]), "content_hash")
        check(a == b, f"run {r['run_id']}: sweep hash {b} != single run hash {a}")
    hashes = [attr(os.path.join(d, r["output"]), "content_hash") for r in m]
    check(len(set(hashes)) == 6, "six different results")
    p = run("sweep", "run", d)
    check("0 runs made" in p.stdout and "6 already finished" in p.stdout,
          f"a finished sweep runs nothing again: {p.stdout}")
    run("sweep", "collect", d)
    with h5py.File(os.path.join(d, "sweep.h5"), "r") as f:
        check(f["national/stores"].shape[0] == 6, "collect: one row per run")
        check([x.decode() for x in f["manifest/arm"][:]] == ["base"] * 3 + ["subsidy"] * 3,
              "collect: arm coordinate")
        check(list(f["manifest/replicate"][:]) == [0, 1, 2, 0, 1, 2], "collect: replicates")
        with h5py.File(os.path.join(d, m[4]["output"]), "r") as g:
            check(np.array_equal(f["county/sales_total"][4], g["county/sales_total"][:]),
                  "collect: county data of run 4 copied exactly")
    return d


# ---- kill and resume ------------------------------------------------------------------------
def sweep_file_for_kill(tmp):
    return write(os.path.join(tmp, "kill.yaml"), f"""
name: kill
base: {os.path.join(SRC, 'scenarios', 'baseline.yaml')}
replicates: 4
master_seed: 3
set: {{simulation.years: 5, output.village_snapshots: false}}
arms:
  - name: a
  - name: b
    set: {{adoption.beta: 7}}
""")


def test_kill_and_resume(tmp):
    sf = sweep_file_for_kill(tmp)
    d, ref = os.path.join(tmp, "k"), os.path.join(tmp, "kref")
    run("sweep", "plan", sf, "--out", d)
    runs = os.path.join(d, "runs")
    proc = subprocess.Popen([BIN, "sweep", "run", d, "--jobs", "1", "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline:
        if len([f for f in os.listdir(runs) if f.endswith(".h5")]) >= 2:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = sorted(f for f in os.listdir(runs) if f.endswith(".h5"))
    check(2 <= len(done_before) < 8, f"killed mid-way: {len(done_before)} of 8 finished")
    mtimes = {f: os.stat(os.path.join(runs, f)).st_mtime_ns for f in done_before}
    st = run("sweep", "status", d).stdout
    check(f"{len(done_before)} finished" in st, f"status after the kill: {st}")
    p = run("sweep", "run", d, "--jobs", "2")
    made = 8 - len(done_before)
    check(f"{made} runs made ({made} finished, 0 failed)" in p.stdout,
          f"resume runs only the {made} unfinished runs: {p.stdout}")
    check(all(os.stat(os.path.join(runs, f)).st_mtime_ns == t for f, t in mtimes.items()),
          "finished runs were not redone")
    check(not [f for f in os.listdir(runs) if f.endswith(".partial")], "no .partial left")
    run("sweep", "collect", d)
    run("sweep", "plan", sf, "--out", ref)
    run("sweep", "run", ref, "--jobs", "2")
    run("sweep", "collect", ref)
    with h5py.File(os.path.join(d, "sweep.h5"), "r") as a, \
            h5py.File(os.path.join(ref, "sweep.h5"), "r") as b:
        for g in ("national", "province", "county"):
            for k in b[g]:
                check(np.array_equal(a[g][k][()], b[g][k][()], equal_nan=True),
                      f"resumed sweep equals the uninterrupted one: {g}/{k}")
        check(list(a["manifest/content_hash"]) == list(b["manifest/content_hash"]),
              "same content hashes")
    return d


# ---- failures, damaged outputs --------------------------------------------------------------
def test_failures_and_damage(tmp, d):
    m = manifest(d)
    # damage one finished output: it is no longer finished and is redone
    victim = os.path.join(d, m[1]["output"])
    good = attr(victim, "content_hash")
    flip_data_byte(victim, "/national/stores")
    st = run("sweep", "status", d).stdout
    check("5 finished, 1 failed" in st and "does not verify" in st,
          f"a changed byte makes the run unfinished: {st}")
    p = run("sweep", "collect", d, ok=(2,))
    check("not finished" in p.stderr and "--partial" in p.stderr, f"collect refuses: {p.stderr}")
    run("sweep", "collect", d, "--partial")
    # a run whose scenario is broken fails, the others run, status lists the failure
    with open(os.path.join(d, m[2]["scenario"]), "a") as f:
        f.write("bogus_key: 1\n")
    os.remove(os.path.join(d, m[2]["output"]))
    p = run("sweep", "run", d, "--jobs", "2", ok=(1,))
    check("2 runs made (1 finished, 1 failed)" in p.stdout, f"one failure, one redone: {p.stdout}")
    check(attr(victim, "content_hash") == good, "the damaged run was redone identically")
    st = run("sweep", "status", d).stdout
    check("5 finished, 1 failed" in st and f"FAILED {m[2]['run_id']}" in st
          and "unknown key 'bogus_key'" in st, f"status lists the failure: {st}")


def flip_data_byte(path, dataset):
    """Changes one byte inside a dataset's stored data (not its metadata)."""
    with h5py.File(path, "r") as f:
        ds = f[dataset]
        off = ds.id.get_offset()
        if off is None:  # chunked: first chunk
            off = ds.id.get_chunk_info(0).byte_offset
    with open(path, "r+b") as f:
        f.seek(off + 8 * 3 + 2)
        b = f.read(1)
        f.seek(off + 8 * 3 + 2)
        f.write(bytes([b[0] ^ 0x10]))


# ---- two runs with the same --out -----------------------------------------------------------
def test_same_out_lock(tmp):
    out = os.path.join(tmp, "same.h5")
    scen = os.path.join(SRC, "scenarios", "baseline.yaml")
    a = subprocess.Popen([BIN, "run", scen, "--set", "simulation.years=4", "--out", out,
                          "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while not os.path.exists(out + ".partial") and time.time() < deadline:
        time.sleep(0.01)
    b = subprocess.run([BIN, "run", scen, "--set", "simulation.years=4", "--out", out, "--quiet",
                        "--overwrite"], capture_output=True, text=True)
    oa, ea = a.communicate()
    check(b.returncode == 2 and "another run is writing" in b.stderr,
          f"second run refused: exit {b.returncode} {b.stderr}")
    check(a.returncode == 0, f"first run succeeded: {ea}")
    p = run("verify", out)
    check("OK" in p.stdout, f"first run's file is intact: {p.stdout}")
    check(not os.path.exists(out + ".lock"), "lock file removed")


# ---- verify and archive ---------------------------------------------------------------------
def test_archive_verify(tmp, d):
    arc = os.path.join(tmp, "sweep.tar.gz")
    run("archive", d, "--out", arc)
    p = run("verify", arc)
    check("verified" in p.stdout and "0 failed" in p.stdout, f"fresh archive verifies: {p.stdout}")
    with tarfile.open(arc) as t:
        names = t.getnames()
        top = names[0].split("/")[0]
        for need in ("README.md", "SHA256SUMS", "manifest.tsv", "sweep.yaml", "inputs/base.yaml",
                     "VERSIONS"):
            check(f"{top}/{need}" in names, f"archive holds {need}")
        t.extractall(os.path.join(tmp, "x"))
    root = os.path.join(tmp, "x", top)
    m = manifest(root)
    target = os.path.join(root, m[3]["output"])
    flip_data_byte(target, "/county/stores")
    # keep the SHA256SUMS consistent so that only the content hash can catch it
    sums = os.path.join(root, "SHA256SUMS")
    lines = []
    for line in open(sums):
        h, name = line.rstrip("\n").split("  ", 1)
        if name == m[3]["output"]:
            h = hashlib.sha256(open(target, "rb").read()).hexdigest()
        lines.append(f"{h}  {name}\n")
    open(sums, "w").writelines(lines)
    arc2 = os.path.join(tmp, "damaged.tar.gz")
    with tarfile.open(arc2, "w:gz") as t:
        t.add(root, arcname=top)
    p = run("verify", arc2, ok=(1,))
    check(m[3]["output"] in p.stdout + p.stderr and "content hash" in p.stdout + p.stderr,
          f"verify names the damaged file: {p.stdout} {p.stderr}")
    p = run("reproduce", target, ok=(1,))
    check("STORED DATA DO NOT VERIFY" in p.stdout and "no re-run made" in p.stdout,
          f"reproduce checks stored data first: {p.stdout}{p.stderr}")


def main():
    tmp = tempfile.mkdtemp(prefix="ruralsim-sweep-test-")
    try:
        test_plan_grid_list_design(tmp)
        test_bad_sweep_files(tmp)
        d = test_sweep_matches_single_runs(tmp)
        test_failures_and_damage(tmp, d)
        test_same_out_lock(tmp)
        k = test_kill_and_resume(tmp)
        test_archive_verify(tmp, k)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed")
        return 1
    print("all sweep checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
