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

For each file the script runs, in a fresh temporary directory (also the working directory),
    ruralsim run FILE --out TMP/out.h5 --quiet
and checks the exit status, that stderr holds every fragment, the file name and the location,
and that TMP holds no .h5 or .partial file afterwards. Then it runs `ruralsim validate FILE`
and expects the same exit status and messages. Finally it checks command-line usage errors
(missing scenario file, empty file, unknown command/option, bad --set, --threads 0, ...).

Uses only the standard library. Prints one line per case and `N passed, M failed`; exits 1 if
any case failed.
"""
import os
import re
import subprocess
import sys
import tempfile

TIMEOUT_S = 120
HEADER_KEYS = ("expect", "location", "exit", "file", "validate")

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
    spec = {"expect": [], "location": None, "exit": 2, "file": None, "validate": None}
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            s = line.strip()
            if not s:
                continue
            if not s.startswith("#"):
                break
            m = re.match(r"#\s*([a-z]+)\s*:\s*(.*?)\s*$", s)
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


def run(binary, args, cwd):
    """Runs the binary; returns (exit status, stdout, stderr). Status None means it hung."""
    try:
        p = subprocess.run([binary] + args, cwd=cwd, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=TIMEOUT_S)
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
        with tempfile.TemporaryDirectory(prefix="ruralsim-bad-") as tmp:
            result = run(binary, ["run", path, "--out", os.path.join(tmp, "out.h5"), "--quiet"], tmp)
            check_result(case, "run", result, spec["exit"], spec["expect"], name, spec["location"])
            left = leftovers(tmp)
            case.check(not left, "run: left files behind: %s" % ", ".join(left))
        results.append(report(case, result[2]))

        case = Case("validate " + fname)
        if (spec["validate"] or "").lower() == "skip":
            print("skip %s (fault shows only at run time)" % case.name)
            continue
        with tempfile.TemporaryDirectory(prefix="ruralsim-bad-") as tmp:
            result = run(binary, ["validate", path], tmp)
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
    results = scenario_cases(binary, bad_dir) + usage_cases(binary)
    passed = sum(1 for r in results if r)
    failed = len(results) - passed
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
