#!/usr/bin/python3
"""Refresh the generated blocks of the docs from the ruralsim binary.

usage: docs/generate.py [--check] [--binary PATH]

A generated block is everything between a line

    <!-- BEGIN GENERATED: ruralsim ARGS -->

and the next line `<!-- END GENERATED -->`; it holds the standard output of `ruralsim ARGS`.
docs/parameters.md holds `ruralsim params --markdown` and docs/outputs.md holds
`ruralsim outputs --markdown`; any other docs/*.md may hold blocks too. Text outside the
markers is never changed. A missing parameters.md or outputs.md is created with a short
heading and introduction around its block.

  --binary PATH  the ruralsim binary (default: build/ruralsim next to docs/)
  --check        change nothing; print a unified diff for each stale block and exit 1 if any
                 block is stale or missing

Run it after changing the parameter table or the output variables:
    /usr/bin/python3 docs/generate.py
"""
import argparse
import difflib
import os
import re
import shlex
import subprocess
import sys
import tempfile

DOCS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(DOCS)
END = "<!-- END GENERATED -->"
BEGIN_RE = re.compile(r"^<!-- BEGIN GENERATED: ruralsim (?P<args>.*?) -->$")
REFRESH = "/usr/bin/python3 docs/generate.py"


def begin_marker(args):
    return "<!-- BEGIN GENERATED: ruralsim %s -->" % args


PARAMETERS_INTRO = """\
# Parameters

Every model parameter of ruralsim, with its default, unit, valid range, meaning and source. A
parameter is set in a scenario file in YAML as `section: {key: value}` (for example
`adoption: {beta: 5}`) or on the command line with `--set section.key=value` (for example
`ruralsim run scenarios/baseline.yaml --set adoption.beta=5`). Values outside the valid range,
unknown keys and wrong types are rejected with the file, line and column. `ruralsim params`
prints the same list; the table below is generated from the binary (refresh it with
`%s`).
""" % REFRESH

OUTPUTS_INTRO = """\
# Outputs

`ruralsim run` writes one HDF5 file per run (default `outputs/<name>_seed<seed>.h5`). The file
is written under a temporary name (`.partial`) and renamed only when complete. Its layout:

| group | dimensions | content |
|---|---|---|
| `/national` | (time) | every output variable for the whole scenario |
| `/province` | (time, province) | every output variable per province |
| `/county` | (time, county) | every output variable per county |
| `/village_annual` | (year, village) | annual village snapshots of the variables marked "yes" below; only when `output.village_snapshots` is true |
| `/snapshots/<year>` | (store), (livestreamer) | every store and livestreamer alive at the end of the years of `output.snapshot_years` |
| `/events` | (event) | discrete events (Taobao Village/Town recognised or lost, stations opened or closed, county centres opened, interventions starting and ending) |
| `/geography` | per table | the static geography: provinces, counties, towns, villages and product categories |
| `/provenance` | - | the scenario as given and resolved (every default filled in); run metadata (version, git commit, seed, threads, host, times, content hash) are attributes of the root group |

`time` is the decimal calendar year at the end of the recorded tick (`tick` holds the 0-based
tick); a record is written every `output.every` ticks and at the last tick. Flows (sales,
parcels, stores opened or closed, ... "during the interval") are totals over the recording
interval, i.e. since the previous record; stocks (stores, stations, households, means and
shares) are values at the end of the recorded tick. In `/village_annual`, flows are totals
over the year and stocks are values at the end of the year. Every dataset carries `units` and
`description` attributes.

Open a file with h5py or xarray (engine h5netcdf):

```python
import h5py
import xarray as xr

with h5py.File("outputs/baseline_seed1.h5", "r") as f:
    stores = f["national/stores"][:]          # one value per record
    print(f.attrs["content_hash"], f.attrs["seed"])

county = xr.open_dataset("outputs/baseline_seed1.h5", group="county", engine="h5netcdf")
county["sales_total"].sel(county=0).plot()
```

`python3 analysis/check_h5.py FILE.h5` checks that a file is complete and that its content
hash is right; `ruralsim reproduce FILE.h5` re-runs the stored scenario and compares hashes.

The output variables (generated from the binary; refresh with `%s`):
""" % REFRESH

INTERVENTIONS_INTRO = """\
# Interventions

Every intervention type and every key it reads, with kind, default, valid values and meaning.
The table is generated from the types' own readers (the intervention key table,
`sim/policy/intervention_keys.cpp`); refresh it with `%s`.
`ruralsim interventions --keys` prints the same. How entries are written, the time window and the targeting rules are described in
[scenario_format.md](scenario_format.md#interventions); what each type does in
[ODD.md section 7](ODD.md#7-interventions-policies-as-data).

Every entry may have a `name:` (default: its type). Any key of a named entry can be set from the
command line or in a sweep with `interventions.<name>.<key>`, e.g.
`ruralsim run scenarios/policy_mix.yaml --set interventions.rural_commissioner.tau=0.8`; two
entries of the same type need distinct names to be addressed this way. Keys whose default is
"unchanged" are optional: left out, they keep the scenario's value.
""" % REFRESH

# File name -> (arguments of the generated block, text written before the block when the file
# does not exist yet).
KNOWN = {
    "parameters.md": ("params --markdown", PARAMETERS_INTRO),
    "outputs.md": ("outputs --markdown", OUTPUTS_INTRO),
    "interventions.md": ("interventions --markdown", INTERVENTIONS_INTRO),
}


class DocError(Exception):
    pass


def binary_output(binary, args):
    cmd = [binary] + shlex.split(args)
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    except OSError as e:
        raise DocError("cannot run %s: %s (build it with `cmake --build build --target ruralsim`)"
                       % (binary, e))
    except subprocess.TimeoutExpired:
        raise DocError("`%s` did not finish within 120 s" % " ".join(cmd))
    if p.returncode != 0:
        raise DocError("`%s` failed with exit %d:\n%s"
                       % (" ".join(cmd), p.returncode, p.stderr.decode("utf-8", "replace")))
    text = p.stdout.decode("utf-8")
    return text if text.endswith("\n") or not text else text + "\n"


def block_text(generated):
    """What stands between the markers: a blank line, the generated text, a blank line."""
    return "\n" + generated.strip("\n") + "\n\n"


def normalise(block):
    return block.strip("\n") + "\n"


def find_blocks(lines, path):
    """Returns [(args, begin_index, end_index)] of the generated blocks of a file."""
    blocks = []
    i = 0
    while i < len(lines):
        m = BEGIN_RE.match(lines[i].rstrip("\r\n"))
        if m:
            j = i + 1
            while j < len(lines) and lines[j].rstrip("\r\n") != END:
                if BEGIN_RE.match(lines[j].rstrip("\r\n")):
                    raise DocError("%s:%d: BEGIN GENERATED without an END GENERATED before the "
                                   "next BEGIN" % (path, i + 1))
                j += 1
            if j == len(lines):
                raise DocError("%s:%d: BEGIN GENERATED without a matching `%s`" % (path, i + 1, END))
            blocks.append((m.group("args"), i, j))
            i = j
        i += 1
    return blocks


def write_atomically(path, text):
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".generate-", suffix=".md")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        if os.path.exists(path):
            os.chmod(tmp, os.stat(path).st_mode & 0o7777)
        else:
            os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def process(path, binary, check, required_args=None, intro=None):
    """Refreshes (or checks) one file. Returns the list of problems found in check mode."""
    rel = os.path.relpath(path, ROOT)
    problems = []
    cache = {}

    def generated(args):
        if args not in cache:
            cache[args] = binary_output(binary, args)
        return cache[args]

    if not os.path.exists(path):
        if required_args is None:
            return problems
        if check:
            problems.append("%s does not exist" % rel)
            return problems
        text = intro.rstrip("\n") + "\n\n" + begin_marker(required_args) + "\n" + \
            block_text(generated(required_args)) + END + "\n"
        write_atomically(path, text)
        print("created %s" % rel)
        return problems

    with open(path, encoding="utf-8", newline="") as fh:
        text = fh.read()
    lines = text.splitlines(keepends=True)
    blocks = find_blocks(lines, rel)
    if required_args is not None and required_args not in [b[0] for b in blocks]:
        if check:
            problems.append("%s has no block `%s` ... `%s`" % (rel, begin_marker(required_args), END))
        else:
            # Append the missing block; the text already in the file stays as it is.
            sep = "" if text.endswith("\n\n") or not text else ("\n" if text.endswith("\n") else "\n\n")
            text = text + sep + begin_marker(required_args) + "\n" + \
                block_text(generated(required_args)) + END + "\n"
            write_atomically(path, text)
            print("%s: appended the missing block `ruralsim %s`" % (rel, required_args))
            lines = text.splitlines(keepends=True)
            blocks = find_blocks(lines, rel)

    out = []
    prev = 0
    changed = False
    for args, b, e in blocks:
        current = "".join(lines[b + 1:e])
        fresh = generated(args)
        if normalise(current) != normalise(fresh):
            if check:
                diff = difflib.unified_diff(
                    normalise(current).splitlines(keepends=True),
                    normalise(fresh).splitlines(keepends=True),
                    fromfile="%s (block `ruralsim %s`, line %d)" % (rel, args, b + 1),
                    tofile="output of `ruralsim %s`" % args)
                problems.append("%s: the block `ruralsim %s` (line %d) is out of date:\n%s"
                                % (rel, args, b + 1, "".join(diff)))
            changed = True
        out.extend(lines[prev:b + 1])
        out.append(block_text(fresh))
        prev = e
    out.extend(lines[prev:])
    if changed and not check:
        write_atomically(path, "".join(out))
        print("updated %s" % rel)
    return problems


def main(argv=None):
    ap = argparse.ArgumentParser(description="Refresh the generated blocks of docs/*.md.")
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "ruralsim"),
                    help="ruralsim binary (default: build/ruralsim)")
    ap.add_argument("--check", action="store_true",
                    help="change nothing; exit 1 and show a diff if a block is stale")
    a = ap.parse_args(argv)
    binary = os.path.abspath(a.binary)
    if not os.access(binary, os.X_OK):
        print("generate.py: %s is not an executable; build it first "
              "(cmake --build build --target ruralsim)" % binary, file=sys.stderr)
        return 2
    problems = []
    try:
        for name, (args, intro) in KNOWN.items():
            problems += process(os.path.join(DOCS, name), binary, a.check, args, intro)
        for name in sorted(os.listdir(DOCS)):
            if name.endswith(".md") and name not in KNOWN:
                problems += process(os.path.join(DOCS, name), binary, a.check)
    except DocError as e:
        print("generate.py: %s" % e, file=sys.stderr)
        return 2
    if problems:
        for p in problems:
            print(p.rstrip("\n"))
        print("\nThe generated documentation is out of date. Refresh it with:\n    %s" % REFRESH)
        return 1
    if a.check:
        print("generated blocks are current (%s)" % ", ".join(sorted(KNOWN)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
