#!/usr/bin/python3
"""End-to-end checks of the HDF5 file written by `ruralsim run`.

usage: cli_hdf5.py RURALSIM_BINARY PROJECT_SOURCE_DIR

  * runs scenarios/tiny.yaml, then analysis/check_h5.py on the file;
  * checks the layout with h5py: groups, shapes (tiny: 6 years x 12 ticks = 72 records),
    a `units` attribute on every dataset, the root attributes and the stored scenario;
  * `ruralsim reproduce` gives MATCH;
  * --threads 1 and --threads 2 give the same content hash, --seed 8 a different one;
  * SIGINT during a run of scenarios/baseline.yaml: exit 130, and neither the file nor its
    .partial is left.

Uses the standard library plus h5py/numpy (Debian packages). Prints one line per check and
`N passed, M failed`; exits 1 if any check failed.
"""
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

TIMEOUT_S = 300
TINY_RECORDS = 6 * 12  # tiny.yaml: 6 years x 12 ticks, output.every 1
GROUPS = ("national", "province", "county", "village_annual", "events", "geography", "provenance")
SERIES_COORDS = {"time", "tick", "year"}


class Report:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def case(self, name, problems, detail=""):
        if problems:
            self.failed += 1
            print("FAIL %s" % name)
            for p in problems:
                print("       - %s" % p)
            if detail.strip():
                print("         | " + detail.strip().replace("\n", "\n         | "))
        else:
            self.passed += 1
            print("ok   %s" % name)
        return not problems


def run(args, cwd, timeout=TIMEOUT_S):
    try:
        p = subprocess.run(args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, "", "timed out after %d s" % timeout
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def status(code):
    if code is None:
        return "hung"
    if code < 0:
        return "killed by signal %d" % -code
    return "exit %d" % code


def attr_text(value):
    """Text of an attribute or scalar dataset value (str, bytes, numpy scalar or 0-d array)."""
    if type(value).__name__ == "ndarray" and value.shape == ():
        value = value[()]
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def run_scenario(rep, binary, scenario, out, cwd, extra, label):
    code, stdout, stderr = run([binary, "run", scenario, "--out", out, "--quiet"] + extra, cwd)
    problems = []
    if code != 0:
        problems.append("%s, expected exit 0" % status(code))
    elif not os.path.isfile(out):
        problems.append("no file %s" % out)
    elif stdout.strip() != out:
        problems.append("--quiet should print only the file name, printed %r" % stdout.strip())
    if os.path.exists(out + ".partial"):
        problems.append("%s.partial left behind" % out)
    return rep.case(label, problems, stderr if problems else "")


def output_variable_names(binary, cwd):
    code, stdout, _ = run([binary, "outputs"], cwd)
    if code != 0:
        return []
    return [line.split()[0] for line in stdout.splitlines() if line.strip()]


def check_layout(rep, h5py, path, var_names):
    problems = []
    try:
        f = h5py.File(path, "r")
    except Exception as e:  # noqa: BLE001 - report any failure to open
        rep.case("h5py: open the file", ["cannot open %s: %s" % (path, e)])
        return None
    with f:
        missing = [g for g in GROUPS if not isinstance(f.get(g), h5py.Group)]
        rep.case("h5py: groups %s exist" % "/".join(GROUPS),
                 ["missing group(s): %s" % ", ".join(missing)] if missing else [])

        # Sizes of the geography.
        n_counties = n_provinces = n_villages = None
        try:
            n_counties = f["geography/counties/code"].shape[0]
            n_provinces = f["geography/provinces/name"].shape[0]
            n_villages = f["geography/villages/code"].shape[0]
        except KeyError as e:
            problems.append("geography table missing: %s" % e)
        rep.case("h5py: geography tables (%s provinces, %s counties, %s villages)"
                 % (n_provinces, n_counties, n_villages), problems)

        # Series groups.
        for group, extra_dim, n_extra in (("national", None, None),
                                          ("province", "province", n_provinces),
                                          ("county", "county", n_counties)):
            problems = []
            g = f.get(group)
            if g is None:
                rep.case("h5py: /%s shapes" % group, ["group missing"])
                continue
            want = (TINY_RECORDS,) if extra_dim is None else (TINY_RECORDS, n_extra)
            for name in var_names:
                if name not in g:
                    problems.append("variable %s missing" % name)
                elif g[name].shape != want:
                    problems.append("%s has shape %s, expected %s" % (name, g[name].shape, want))
            for name, ds in g.items():
                if name in SERIES_COORDS and ds.shape != (TINY_RECORDS,):
                    problems.append("coordinate %s has shape %s, expected (%d,)"
                                    % (name, ds.shape, TINY_RECORDS))
                elif name == extra_dim and ds.shape != (n_extra,):
                    problems.append("coordinate %s has shape %s, expected (%s,)"
                                    % (name, ds.shape, n_extra))
                elif name not in SERIES_COORDS and name != extra_dim and name not in var_names:
                    problems.append("unexpected dataset %s (not in `ruralsim outputs`)" % name)
            if not var_names:
                problems.append("`ruralsim outputs` listed no variables")
            rep.case("h5py: /%s variables are %s" % (group, "x".join(str(d) for d in want)),
                     problems)

        # village_annual (tiny has output.village_snapshots: true): (year, village).
        problems = []
        g = f.get("village_annual")
        if g is not None:
            for name, ds in g.items():
                if name in ("year", "village") or not isinstance(ds, h5py.Dataset):
                    continue
                if ds.shape != (6, n_villages):
                    problems.append("%s has shape %s, expected (6, %s)" % (name, ds.shape, n_villages))
            if "stores" not in g:
                problems.append("variable stores missing")
        rep.case("h5py: /village_annual variables are 6x%s" % n_villages, problems)

        # Every dataset carries units.
        no_units = []

        def visit(name, obj):
            if isinstance(obj, h5py.Dataset) and "units" not in obj.attrs:
                no_units.append("/" + name)

        f.visititems(visit)
        rep.case("h5py: every dataset has a units attribute",
                 ["no units on: %s" % ", ".join(no_units[:20])] if no_units else [])

        # Root attributes and provenance.
        problems = []
        attrs = {k: attr_text(v) for k, v in f.attrs.items()}
        h = attrs.get("content_hash", "")
        if not re.fullmatch(r"[0-9a-f]{64}", h):
            problems.append("content_hash %r is not 64 hex digits" % h)
        for key in ("git_commit", "seed", "threads"):
            if not attrs.get(key, "").strip():
                problems.append("root attribute %s missing or empty" % key)
        if attrs.get("seed") not in (None, "7"):
            problems.append("seed attribute is %r, tiny.yaml sets 7" % attrs.get("seed"))
        try:
            resolved = attr_text(f["provenance/scenario_resolved"][()])
            if not resolved.strip():
                problems.append("/provenance/scenario_resolved is empty")
            elif "simulation:" not in resolved or "ticks_per_year: 12" not in resolved:
                problems.append("/provenance/scenario_resolved does not look like the resolved "
                                "tiny scenario")
        except KeyError:
            problems.append("dataset /provenance/scenario_resolved missing")
        rep.case("h5py: root attributes and /provenance/scenario_resolved", problems)
        return attrs


def read_attrs(h5py, path):
    try:
        with h5py.File(path, "r") as f:
            return {k: attr_text(v) for k, v in f.attrs.items()}
    except Exception:  # noqa: BLE001
        return {}


def interrupt_case(rep, binary, src, tmp):
    out = os.path.join(tmp, "killed.h5")
    partial = out + ".partial"
    problems = []
    # 80 years instead of 13: long enough (several seconds) that the signal arrives mid-run
    # on a fast, idle machine too.
    p = subprocess.Popen([binary, "run", os.path.join(src, "scenarios", "baseline.yaml"),
                          "--set", "simulation.years=80", "--out", out, "--quiet"], cwd=tmp,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    t0 = time.monotonic()
    while not os.path.exists(partial) and p.poll() is None and time.monotonic() - t0 < 120:
        time.sleep(0.02)
    time.sleep(0.5)
    if p.poll() is not None:
        problems.append("the run ended (%s) before SIGINT could be sent; .partial seen: %s"
                        % (status(p.returncode), os.path.exists(partial)))
        _, err = p.communicate()
    else:
        p.send_signal(signal.SIGINT)
        try:
            _, err = p.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            p.kill()
            _, err = p.communicate()
            problems.append("did not stop within 120 s of SIGINT")
        if p.returncode != 130:
            problems.append("%s after SIGINT, expected exit 130" % status(p.returncode))
    for f in (out, partial):
        if os.path.exists(f):
            problems.append("%s left behind" % os.path.basename(f))
    err = err.decode("utf-8", "replace")
    return rep.case("SIGINT during a baseline run: exit 130, no file, no .partial", problems, err)


def main(argv):
    if len(argv) != 3:
        print("usage: cli_hdf5.py RURALSIM_BINARY PROJECT_SOURCE_DIR", file=sys.stderr)
        return 2
    binary, src = os.path.abspath(argv[1]), os.path.abspath(argv[2])
    rep = Report()
    try:
        import h5py  # noqa: PLC0415 - reported as a failed check if missing
    except ImportError as e:
        h5py = None
        rep.case("import h5py", ["%s (install python3-h5py)" % e])

    tiny = os.path.join(src, "scenarios", "tiny.yaml")
    check_h5 = os.path.join(src, "analysis", "check_h5.py")
    with tempfile.TemporaryDirectory(prefix="ruralsim-h5-") as tmp:
        t = os.path.join(tmp, "t.h5")
        ok = run_scenario(rep, binary, tiny, t, tmp, [], "run tiny.yaml --out t.h5")

        if ok:
            if not os.path.isfile(check_h5):
                rep.case("analysis/check_h5.py t.h5", ["%s does not exist" % check_h5])
            else:
                code, stdout, stderr = run(["/usr/bin/python3", check_h5, t], tmp)
                rep.case("analysis/check_h5.py t.h5",
                         [] if code == 0 else ["%s, expected exit 0" % status(code)],
                         stdout + stderr if code != 0 else "")
                rep.case("analysis/check_h5.py t.h5 checks the store snapshot of the last year",
                         [] if "snapshots: 2014 (" in stdout else ["no snapshot line"], stdout)

        attrs = {}
        if ok and h5py is not None:
            try:
                attrs = check_layout(rep, h5py, t, output_variable_names(binary, tmp)) or {}
            except Exception as e:  # noqa: BLE001 - an unexpected layout is a failed check
                rep.case("h5py: layout of t.h5", ["unexpected error: %r" % e])

        if ok:
            code, stdout, stderr = run([binary, "reproduce", t, "--quiet"], tmp)
            problems = []
            if code != 0:
                problems.append("%s, expected exit 0" % status(code))
            if "MATCH" not in stdout or "MISMATCH" in stdout:
                problems.append("stdout does not say MATCH")
            rep.case("reproduce t.h5 --quiet: MATCH", problems, stdout + stderr if problems else "")

        # Thread count must not change the results; the seed must.
        t1, t2, s8 = (os.path.join(tmp, n) for n in ("threads1.h5", "threads2.h5", "seed8.h5"))
        ok1 = run_scenario(rep, binary, tiny, t1, tmp, ["--threads", "1"], "run tiny.yaml --threads 1")
        ok2 = run_scenario(rep, binary, tiny, t2, tmp, ["--threads", "2"], "run tiny.yaml --threads 2")
        ok8 = run_scenario(rep, binary, tiny, s8, tmp, ["--seed", "8"], "run tiny.yaml --seed 8")
        if h5py is not None and ok1 and ok2:
            a1, a2 = read_attrs(h5py, t1), read_attrs(h5py, t2)
            h1, h2 = a1.get("content_hash"), a2.get("content_hash")
            problems = []
            if not h1 or h1 != h2:
                problems.append("content_hash differs: threads 1 %s, threads 2 %s" % (h1, h2))
            if attrs.get("content_hash") and h1 != attrs.get("content_hash"):
                problems.append("content_hash differs from the default-threads run: %s vs %s"
                                % (h1, attrs.get("content_hash")))
            if a1.get("threads") != "1" or a2.get("threads") != "2":
                problems.append("threads attributes are %r and %r, expected '1' and '2'"
                                % (a1.get("threads"), a2.get("threads")))
            rep.case("same content_hash with --threads 1 and --threads 2", problems)
        if h5py is not None and ok1 and ok8:
            h1 = read_attrs(h5py, t1).get("content_hash")
            h8 = read_attrs(h5py, s8).get("content_hash")
            problems = []
            if not h8 or h8 == h1:
                problems.append("content_hash with --seed 8 (%s) equals that of seed 7 (%s)" % (h8, h1))
            if read_attrs(h5py, s8).get("seed") != "8":
                problems.append("seed attribute of the --seed 8 run is not 8")
            rep.case("different content_hash with --seed 8", problems)

        interrupt_case(rep, binary, src, tmp)

    print("%d passed, %d failed" % (rep.passed, rep.failed))
    return 0 if rep.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
