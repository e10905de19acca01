#!/usr/bin/python3
"""Bad input must give a clear error and exit status 2, never a crash, a hang or an output file.

usage: cli_bad_input.py RURALSIM_BINARY BAD_DATA_DIR

Every BAD_DATA_DIR/*.yaml is a small scenario with one fault. Its first comment lines declare
what must happen:

    # expect: unknown key 'adoption.alpah'   fragment stderr must contain (repeatable: all must)
    # location: 5:3                          line:column (or line) the message must name, as
                                             NAME:5:3: with NAME the file named in the message;
                                             omitted for errors without a location
    # exit: 2                                exit status (default 2)
    # file: table.csv                        the message names this file instead of the
                                             scenario (faults in a village table)
    # validate: skip                         the fault only shows at run time
    # args: --max-memory 16G                 extra arguments for run and validate
    # max-seconds: 5                         the refusal must come within this time

For each file the script runs, in a fresh temporary directory (also the working directory),
    ruralsim run FILE --out TMP/out.h5 --quiet
and checks the exit status, that stderr holds every fragment, the file name and the location,
and that TMP holds no .h5 or .partial file afterwards. Then it runs `ruralsim validate FILE`
and expects the same exit status and messages. Then it checks command-line usage errors
(missing scenario file, empty file, unknown command/option, bad --set, --threads 0, ...) and
hostile files and faults (FIFO, device, over-size, UTF-16 and Latin-1 scenarios; bad --out
names; damaged, foreign and truncated HDF5 files for reproduce; a full disk; stale and busy
.partial files; reproduce --keep and the temporary village table).

Uses the standard library, and h5py (Debian python3-h5py) to build the damaged HDF5 files. Prints one line per case and `N passed, M failed`; exits 1 if
any case failed.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

TIMEOUT_S = 120
HEADER_KEYS = ("expect", "location", "exit", "file", "validate", "args", "max-seconds")

VALID_SCENARIO = """\
# A small valid scenario for the command-line usage checks.
name: usage_check
simulation:
  seed: 7
  start_year: 2009
  years: 2
  ticks_per_year: 12
geography:
  counties_per_province: 1
  towns_per_county: 2
  villages_per_town: 3
"""


class Case:
    def __init__(self, name):
        self.name = name
        self.problems = []

    def check(self, ok, what):
        if not ok:
            self.problems.append(what)


def read_header(path):
    """Reads the '# key: value' lines at the top of a scenario file."""
    spec = {"expect": [], "location": None, "exit": 2, "file": None, "validate": None,
            "args": "", "max-seconds": None}
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            s = line.strip()
            if not s:
                continue
            if not s.startswith("#"):
                break
            m = re.match(r"#\s*([a-z-]+)\s*:\s*(.*?)\s*$", s)
            if not m or m.group(1) not in HEADER_KEYS:
                continue
            key, value = m.group(1), m.group(2)
            if key == "expect":
                spec["expect"].append(value)
            elif key == "exit":
                spec["exit"] = int(value)
            else:
                spec[key] = value
    return spec


def run(binary, args, cwd, env=None, timeout=TIMEOUT_S):
    """Runs the binary; returns (exit status, stdout, stderr). Status None means it hung."""
    try:
        p = subprocess.run([binary] + args, cwd=cwd, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout, env=env)
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode("utf-8", "replace")
        err = (e.stderr or b"").decode("utf-8", "replace")
        return None, out, err
    return (p.returncode, p.stdout.decode("utf-8", "replace"),
            p.stderr.decode("utf-8", "replace"))


def describe_status(code):
    if code is None:
        return "hung (killed after %d s)" % TIMEOUT_S
    if code < 0:
        return "crashed with signal %d" % -code
    return "exit %d" % code


def leftovers(tmp):
    found = []
    for root, _dirs, files in os.walk(tmp):
        for f in files:
            if f.endswith(".h5") or f.endswith(".partial"):
                found.append(os.path.relpath(os.path.join(root, f), tmp))
    return sorted(found)


def check_result(case, label, result, want_exit, fragments, name=None, location=None):
    code, _out, err = result
    case.check(code == want_exit, "%s: %s, expected exit %d" % (label, describe_status(code), want_exit))
    for frag in fragments:
        case.check(frag in err, "%s: stderr lacks %r" % (label, frag))
    if name:
        case.check(name in err, "%s: stderr does not name the file %r" % (label, name))
    if location:
        # NAME:LINE:COL: (or NAME:LINE: when only the line is declared)
        case.check((name + ":" + location + ":") in err,
                   "%s: stderr does not give the location %s:%s" % (label, name, location))
    if code is not None and code < 0 or "terminate called" in err or "Assertion" in err:
        case.check(False, "%s: the program crashed" % label)


def report(case, stderr_text):
    if case.problems:
        print("FAIL %s" % case.name)
        for p in case.problems:
            print("       - %s" % p)
        shown = stderr_text.strip().replace("\n", "\n         | ")
        print("         stderr | %s" % (shown if shown else "(empty)"))
        return False
    print("ok   %s" % case.name)
    return True


def scenario_cases(binary, bad_dir):
    files = sorted(f for f in os.listdir(bad_dir) if f.endswith(".yaml"))
    results = []
    if not files:
        c = Case("scenario files")
        c.check(False, "no *.yaml files in %s" % bad_dir)
        results.append(report(c, ""))
        return results
    for fname in files:
        path = os.path.join(bad_dir, fname)
        spec = read_header(path)
        name = spec["file"] or fname
        case = Case("run      " + fname)
        if not spec["expect"]:
            case.check(False, "the file declares no '# expect:' line")
        extra = spec["args"].split()
        limit = float(spec["max-seconds"]) if spec["max-seconds"] else None
        with tempfile.TemporaryDirectory(prefix="ruralsim-bad-") as tmp:
            t0 = time.monotonic()
            result = run(binary, ["run", path, "--out", os.path.join(tmp, "out.h5"), "--quiet"]
                         + extra, tmp)
            took = time.monotonic() - t0
            check_result(case, "run", result, spec["exit"], spec["expect"], name, spec["location"])
            if limit is not None:
                case.check(took <= limit, "run: took %.1f s, more than %g s" % (took, limit))
            left = leftovers(tmp)
            case.check(not left, "run: left files behind: %s" % ", ".join(left))
        results.append(report(case, result[2]))

        case = Case("validate " + fname)
        if (spec["validate"] or "").lower() == "skip":
            print("skip %s (fault shows only at run time)" % case.name)
            continue
        with tempfile.TemporaryDirectory(prefix="ruralsim-bad-") as tmp:
            t0 = time.monotonic()
            result = run(binary, ["validate", path] + extra, tmp)
            took = time.monotonic() - t0
            if limit is not None:
                case.check(took <= limit, "validate: took %.1f s, more than %g s" % (took, limit))
            check_result(case, "validate", result, spec["exit"], spec["expect"], name, spec["location"])
            left = leftovers(tmp)
            case.check(not left, "validate: left files behind: %s" % ", ".join(left))
        results.append(report(case, result[2]))
    return results


def usage_cases(binary):
    """Command-line errors that need no scenario file of their own."""
    results = []
    with tempfile.TemporaryDirectory(prefix="ruralsim-usage-") as tmp:
        good = os.path.join(tmp, "usage_check.yaml")
        with open(good, "w", encoding="utf-8") as fh:
            fh.write(VALID_SCENARIO)
        empty = os.path.join(tmp, "zero_bytes.yaml")
        open(empty, "w").close()
        missing = os.path.join(tmp, "no_such_scenario.yaml")
        out = os.path.join(tmp, "out.h5")
        cases = [
            # (label, args, fragments that stderr must hold)
            ("missing scenario file (run)", ["run", missing, "--out", out, "--quiet"],
             ["no_such_scenario.yaml", "cannot open the scenario file"]),
            ("missing scenario file (validate)", ["validate", missing],
             ["no_such_scenario.yaml", "cannot open the scenario file"]),
            ("0-byte scenario file (run)", ["run", empty, "--out", out, "--quiet"],
             ["zero_bytes.yaml", "the scenario is empty"]),
            ("0-byte scenario file (validate)", ["validate", empty],
             ["zero_bytes.yaml", "the scenario is empty"]),
            ("directory as scenario", ["run", tmp, "--out", out, "--quiet"],
             ["is a directory"]),
            ("no scenario given", ["run", "--out", out, "--quiet"],
             ["expected one scenario file"]),
            ("unknown command", ["frobnicate", good],
             ["unknown command 'frobnicate'", "valid commands: run, validate"]),
            ("unknown option", ["run", good, "--out", out, "--quiet", "--colour"],
             ["unknown option '--colour'", "valid options:", "--out"]),
            ("option without its value", ["run", good, "--quiet", "--out"],
             ["--out needs a value"]),
            ("--set unknown section", ["run", good, "--out", out, "--quiet", "--set", "nosuch.key=1"],
             ["unknown key 'nosuch.key'", "valid keys:", "adoption."]),
            ("--set unknown key in a section", ["validate", good, "--set", "adoption.nosuch=1"],
             ["unknown key 'adoption.nosuch'", "valid keys:", "adoption.beta"]),
            ("--set text for a number", ["run", good, "--out", out, "--quiet", "--set", "adoption.beta=abc"],
             ["'adoption.beta'", "'abc'", "not a finite number"]),
            ("--set out of range", ["validate", good, "--set", "adoption.h_max=2"],
             ["'adoption.h_max'", "out of range; valid range [0, 1]"]),
            ("--set without '='", ["validate", good, "--set", "adoption.beta"],
             ["expected key.path=value"]),
            ("--threads 0", ["run", good, "--out", out, "--quiet", "--threads", "0"],
             ["--threads", "'0'", "[1, 1024]"]),
            ("--seed not a number", ["run", good, "--out", out, "--quiet", "--seed", "abc"],
             ["--seed", "'abc'"]),
            ("reproduce a file that is not HDF5", ["reproduce", good],
             ["usage_check.yaml", "not an HDF5 file"]),
        ]
        for label, args, fragments in cases:
            case = Case("usage    " + label)
            result = run(binary, args, tmp)
            check_result(case, "ruralsim " + " ".join(os.path.basename(a) if a.startswith(tmp) else a
                                                       for a in args),
                         result, 2, fragments)
            left = leftovers(tmp)
            case.check(not left, "left files behind: %s" % ", ".join(left))
            for f in left:
                os.remove(os.path.join(tmp, f))
            results.append(report(case, result[2]))
    return results


CSV_SCENARIO = """\
name: csv_check
simulation: {seed: 7, start_year: 2009, years: 1, ticks_per_year: 12}
geography: {source: csv, csv: villages.csv}
"""
CSV_TABLE = """\
id,town,county,province,x,y,households
1,10,100,1,0.0,0.0,300
2,10,100,1,1.0,0.5,250
3,11,100,1,4.0,2.0,260
"""


def write(path, data, mode="w"):
    with open(path, mode) as fh:
        fh.write(data)
    return path


def damaged_h5_files(good, out_dir):
    """(label, path, message fragment) for result files damaged in ways reproduce must refuse."""
    import h5py
    import numpy as np
    made = []

    def variant(name, change):
        path = os.path.join(out_dir, name + ".h5")
        shutil.copy(good, path)
        with h5py.File(path, "r+") as f:
            change(f)
        return path

    def resolved_array(f):
        del f["/provenance/scenario_resolved"]
        f["/provenance/scenario_resolved"] = np.array([b"x" * 4000, b"y" * 4000],
                                                      dtype=h5py.string_dtype())
    made.append(("scenario_resolved is an array of strings", variant("arr", resolved_array),
                 "/provenance/scenario_resolved holds 2 values, expected one string"))

    def resolved_int(f):
        del f["/provenance/scenario_resolved"]
        f["/provenance/scenario_resolved"] = np.arange(100000)
    made.append(("scenario_resolved is an integer dataset", variant("int", resolved_int),
                 "/provenance/scenario_resolved is an integer, not a string"))

    def hash_array(f):
        f.attrs["content_hash"] = np.array([b"z" * 100] * 50, dtype="S100")
    made.append(("content_hash is an array", variant("hasharr", hash_array),
                 "attribute content_hash holds 50 values, expected one string"))

    def hash_int(f):
        f.attrs["content_hash"] = np.int64(7)
    made.append(("content_hash is an integer", variant("hashint", hash_int),
                 "attribute content_hash is an integer, not a string"))

    def no_provenance(f):
        del f["/provenance"]
    made.append(("no /provenance group", variant("noprov", no_provenance),
                 "no dataset /provenance/scenario_resolved"))

    with open(good, "rb") as fh:
        data = fh.read()
    made.append(("truncated file", write(os.path.join(out_dir, "truncated.h5"),
                                        data[:len(data) // 2], "wb"),
                 "damaged or truncated HDF5 file"))
    made.append(("foreign HDF5 file", os.path.join(out_dir, "foreign.h5"),
                 "no dataset /provenance/scenario_resolved"))
    with h5py.File(made[-1][1], "w") as f:
        f["x"] = np.arange(3)
    made.append(("random bytes", write(os.path.join(out_dir, "random.h5"),
                                       bytes(range(256)) * 64, "wb"),
                 "not an HDF5 file"))
    return made


def hostile_cases(binary):
    """Hostile files and injected faults that need more than one scenario file."""
    results = []
    tmp = tempfile.mkdtemp(prefix="ruralsim-hostile-")
    keep = os.path.join(tmp, "keep")   # reference files made once
    work = os.path.join(tmp, "work")   # emptied after every case; must hold no result file
    os.makedirs(keep)
    os.makedirs(work)
    good = write(os.path.join(keep, "usage_check.yaml"), VALID_SCENARIO)

    def finish(case, result, allowed=()):
        left = [f for f in leftovers(work) if f not in allowed]
        case.check(not left, "left files behind: %s" % ", ".join(left))
        results.append(report(case, result[2]))
        shutil.rmtree(work)
        os.makedirs(work)

    def case(label, args, code, fragments, env=None, timeout=TIMEOUT_S, more=None, cwd=None,
             allowed=()):
        c = Case("hostile  " + label)
        r = run(binary, args, cwd or work, env, timeout)
        check_result(c, label, r, code, fragments)
        if code != 0:
            c.check("Traceback" not in r[2], "a traceback on stderr")
        if more:
            more(c, r)
        finish(c, r, allowed)

    try:
        # ---- files that are not scenarios ------------------------------------------------
        def fifo_case(cmd):
            fifo = os.path.join(work, "pipe.yaml")
            os.mkfifo(fifo)
            args = [cmd, fifo] + (["--out", os.path.join(work, "o.h5")] if cmd == "run" else [])
            case("FIFO as scenario (%s)" % cmd, args, 2, ["pipe.yaml", "is a FIFO"], timeout=20)
        fifo_case("validate")
        fifo_case("run")
        case("/dev/zero as scenario", ["validate", "/dev/zero"], 2,
             ["/dev/zero: is a character device, not the scenario file"], timeout=20)
        write(os.path.join(work, "devzero.yaml"), "name: z\ngeography: {source: csv, csv: /dev/zero}\n")
        case("/dev/zero as village table", ["validate", os.path.join(work, "devzero.yaml")], 2,
             ["devzero.yaml:2:31", "'/dev/zero': is not a regular file"], timeout=20)
        big = write(os.path.join(work, "big.yaml"), "# padding\n" * (17 * 1024 * 1024 // 10 + 1))
        case("17 MiB scenario", ["validate", big], 2, ["big.yaml", "the limit is 16 MiB"])
        u16 = write(os.path.join(work, "u16.yaml"), VALID_SCENARIO.encode("utf-16"), "wb")
        case("UTF-16 scenario", ["validate", u16], 2,
             ["u16.yaml: the scenario is UTF-16 text; save it as UTF-8"])
        u16le = write(os.path.join(work, "u16le.yaml"), VALID_SCENARIO.encode("utf-16-le"), "wb")
        case("UTF-16 scenario without byte-order mark", ["validate", u16le], 2,
             ["u16le.yaml:1:2", "NUL byte"])
        latin = write(os.path.join(work, "latin1.yaml"),
                      (VALID_SCENARIO + "description: caf\xe9\n").encode("latin-1"), "wb")
        case("Latin-1 scenario", ["validate", latin], 2,
             ["latin1.yaml:12:17", "not valid UTF-8 (byte \\xE9)"])

        # ---- command line --------------------------------------------------------------
        case("help for an unknown command", ["help", "bogus"], 2,
             ["unknown command 'bogus'", "valid commands:"])
        for cmd in ("params", "outputs", "interventions"):
            case("%s with an extra argument" % cmd, [cmd, "extra"], 2,
                 ["ruralsim %s: unexpected argument 'extra'" % cmd])
        ref = os.path.join(keep, "ref.h5")
        r = run(binary, ["run", good, "--out", ref, "--quiet"], keep)
        assert r[0] == 0, r[2]
        with open(ref, "rb") as fh:
            ref_bytes = fh.read()

        def unchanged(c, _r):
            with open(ref, "rb") as fh:
                c.check(fh.read() == ref_bytes, "the existing file was changed")
        case("--overwrite=no", ["run", good, "--out", ref, "--quiet", "--overwrite=no"], 2,
             ["option --overwrite takes no value"], more=unchanged)
        case("--seed above the range", ["run", good, "--out", os.path.join(work, "o.h5"),
                                        "--seed", "9000000000000000100"], 2,
             ["--seed", "9000000000000000100", "[0, 9000000000000000000]"])
        case("--out ''", ["run", good, "--out", ""], 2, ["--out '': empty file name"],
             timeout=10)
        case("--out dir/", ["run", good, "--out", "sub/"], 2,
             ["--out 'sub/': ends with '/'"], timeout=10)
        case("--out over-long name", ["run", good, "--out", "n" * 250 + ".h5"], 2,
             ["the file name is 253 bytes long; the limit is"], timeout=10)
        write(os.path.join(work, "plainfile"), "x")
        case("--out under a file", ["run", good, "--out", "plainfile/x.h5"], 2,
             ["'plainfile' is not a directory"], timeout=10)
        case("--max-memory below the estimate", ["validate", good, "--max-memory", "2M"], 2,
             ["the run could need up to about", "more than the limit of 2 MiB (--max-memory 2M)"])
        case("--max-memory not a size", ["validate", good, "--max-memory", "lots"], 2,
             ["--max-memory = 'lots'", "expected a size such as 512M"])

        # ---- reproduce: damaged, foreign and truncated files ------------------------------
        for label, path, frag in damaged_h5_files(ref, keep):
            case("reproduce: " + label, ["reproduce", path, "--quiet"], 2,
                 [os.path.basename(path), frag])
        for name in ("'-'", "'null'", "'~'", "'true'"):
            scen = write(os.path.join(keep, "named.yaml"),
                         VALID_SCENARIO.replace("name: usage_check", "name: " + name))
            out = os.path.join(keep, "named.h5")
            r = run(binary, ["run", scen, "--out", out, "--quiet", "--overwrite"], keep)
            case("reproduce a scenario named %s" % name, ["reproduce", out, "--quiet"], 0,
                 [], more=lambda c, r: c.check("MATCH" in r[1], "no MATCH: " + r[1]))

        def keep_twice(c, r):
            first = os.path.join(keep, "ref.reproduced.h5")
            second = os.path.join(keep, "ref.reproduced_2.h5")
            c.check(os.path.exists(first), "no ref.reproduced.h5")
            if os.path.exists(first):
                before = os.stat(first)
                r2 = run(binary, ["reproduce", ref, "--keep", "--quiet"], keep)
                c.check(r2[0] == 0 and os.path.exists(second),
                        "second --keep: exit %s, ref.reproduced_2.h5 %s" %
                        (r2[0], "exists" if os.path.exists(second) else "missing"))
                after = os.stat(first)
                c.check(before.st_mtime_ns == after.st_mtime_ns and before.st_ino == after.st_ino,
                        "the second --keep replaced ref.reproduced.h5")
        case("reproduce --keep never replaces a file", ["reproduce", ref, "--keep", "--quiet"],
             0, [], more=keep_twice)

        write(os.path.join(keep, "villages.csv"), CSV_TABLE)
        csv_scen = write(os.path.join(keep, "csv_check.yaml"), CSV_SCENARIO)
        csv_out = os.path.join(keep, "csv.h5")
        r = run(binary, ["run", csv_scen, "--out", csv_out, "--quiet"], keep)
        assert r[0] == 0, r[2]
        tmpdir = os.path.join(work, "tmpdir")
        os.makedirs(tmpdir)
        env = dict(os.environ, TMPDIR=tmpdir)

        def tmp_empty(c, _r):
            left = os.listdir(tmpdir)
            c.check(not left, "temporary files left in TMPDIR: %s" % ", ".join(left))
        case("reproduce with a village table fails: no temporary copy left",
             ["reproduce", csv_out, "--quiet", "--max-memory", "2M"], 2,
             ["the run could need up to about"], env=env, more=tmp_empty)

        # ---- .partial files ---------------------------------------------------------------
        stale = write(os.path.join(work, "out.h5.partial"), "left by a killed run")
        case("stale .partial of --out is replaced",
             ["run", good, "--out", os.path.join(work, "out.h5"), "--quiet"], 0, [],
             more=lambda c, r: c.check(os.path.exists(os.path.join(work, "out.h5")) and
                                       not os.path.exists(stale), "out.h5 missing or .partial left"),
             allowed=("out.h5",))
        os.makedirs(os.path.join(work, "outputs"))
        write(os.path.join(work, "outputs", "usage_check_seed7.h5.partial"), "stale")
        case("stale .partial of the default name is reused", ["run", good, "--quiet"], 0, [],
             more=lambda c, r: c.check(r[1].strip() == "outputs/usage_check_seed7.h5",
                                       "wrote %r, expected outputs/usage_check_seed7.h5" % r[1]),
             allowed=("outputs/usage_check_seed7.h5",))
        import fcntl
        busy = write(os.path.join(work, "busy.h5.partial"), "being written")
        holder = open(busy, "rb")
        fcntl.flock(holder, fcntl.LOCK_EX | fcntl.LOCK_NB)

        def busy_untouched(c, _r):
            with open(busy) as fh:
                c.check(fh.read() == "being written", "the busy .partial was changed")
        try:
            case("a .partial another process writes is left alone",
                 ["run", good, "--out", os.path.join(work, "busy.h5"), "--quiet"], 1,
                 ["busy.h5.partial' is being written by another running ruralsim process"],
                 more=busy_untouched, allowed=("busy.h5.partial",))
        finally:
            holder.close()

        # ---- full disk ---------------------------------------------------------------------
        full = os.path.join(work, "full")
        os.makedirs(full)
        mounted = os.geteuid() == 0 and subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", full],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0
        if not mounted:
            print("skip hostile  full disk (needs root to mount a small tmpfs)")
        else:
            try:
                def one_line(c, r):
                    lines = [ln for ln in r[2].splitlines() if ln.strip()]
                    c.check(len(lines) == 1, "stderr has %d lines, expected 1" % len(lines))
                    c.check(not os.listdir(full), "left in the full file system: %s" %
                            ", ".join(os.listdir(full)))
                c = Case("hostile  full disk: one line, exit 1, no crash")
                r = run(binary, ["run", good, "--out", os.path.join(full, "x.h5"), "--quiet"],
                        work)
                check_result(c, "full disk", r, 1, ["No space left on device", "x.h5.partial"])
                one_line(c, r)
                results.append(report(c, r[2]))
                # A block of the time series written by the recorder's writer thread fails: the
                # error crosses to the run and reads as one written in place.
                baseline = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                        "scenarios", "baseline.yaml")
                subprocess.run(["umount", full])
                subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", full],
                               check=True)
                c = Case("hostile  full disk in a block write: one line, exit 1, no crash")
                # Under the sanitizers: HDF5's own leak after a failed write is suppressed.
                supp = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data",
                                    "sanitizers", "hdf5_failed_write.supp")
                env = dict(os.environ,
                           LSAN_OPTIONS="print_suppressions=0:suppressions=" + os.path.abspath(supp))
                r = run(binary, ["run", baseline, "--out", os.path.join(full, "x.h5"), "--quiet"],
                        work, env=env)
                check_result(c, "full disk", r, 1,
                             ["No space left on device", "x.h5.partial", "appending to /"])
                one_line(c, r)
                results.append(report(c, r[2]))
            finally:
                subprocess.run(["umount", full])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return results


def main(argv):
    if len(argv) != 3:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    binary, bad_dir = os.path.abspath(argv[1]), os.path.abspath(argv[2])
    if not os.access(binary, os.X_OK):
        print("cli_bad_input.py: %s is not an executable" % binary, file=sys.stderr)
        return 2
    if not os.path.isdir(bad_dir):
        print("cli_bad_input.py: %s is not a directory" % bad_dir, file=sys.stderr)
        return 2
    results = scenario_cases(binary, bad_dir) + usage_cases(binary) + hostile_cases(binary)
    passed = sum(1 for r in results if r)
    failed = len(results) - passed
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
