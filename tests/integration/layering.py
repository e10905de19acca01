#!/usr/bin/python3
"""The directories of sim/ form layers: a directory includes only itself and lower layers.

usage: layering.py PROJECT_SOURCE_DIR

The order, lowest first, is core < model < policy < io < run < sweep < app (docs/architecture.md,
section 2). Every `#include "dir/..."` in the sources under sim/<dir>/ is checked; an include of a
higher layer, of a directory that is not a layer, or a directory of sim/ that is not in the order
is reported with file and line. Includes without a directory (the headers CMake generates:
build_info.hpp, git_info.hpp) are not checked.
Prints `N passed, M failed` (one check per source file and one for the set of directories);
exits 1 on failure.
"""
import os
import re
import sys

LAYERS = ["core", "model", "policy", "io", "run", "sweep", "app"]
RANK = {name: i for i, name in enumerate(LAYERS)}
INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"/]+)/[^"]*"')
SUFFIXES = (".hpp", ".cpp", ".h", ".cc", ".in")


def check_file(path, rel, layer):
    """Problems of one source file of directory `layer`, as 'file:line: message' strings."""
    problems = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f, 1):
            m = INCLUDE.match(line)
            if not m:
                continue
            target = m.group(1)
            if target not in RANK:
                problems.append('%s:%d: includes "%s/...", which is not a layer (%s)'
                                % (rel, n, target, " < ".join(LAYERS)))
            elif RANK[target] > RANK[layer]:
                problems.append("%s:%d: %s/ includes the higher layer %s/: %s"
                                % (rel, n, layer, target, line.strip()))
    return problems


def main(argv):
    if len(argv) != 2:
        print("usage: layering.py PROJECT_SOURCE_DIR", file=sys.stderr)
        return 2
    sim = os.path.join(os.path.abspath(argv[1]), "sim")
    if not os.path.isdir(sim):
        print("FAIL %s is not a directory" % sim)
        print("0 passed, 1 failed")
        return 1
    passed = failed = 0
    dirs = sorted(d for d in os.listdir(sim) if os.path.isdir(os.path.join(sim, d)))
    unknown = [d for d in dirs if d not in RANK]
    if unknown:
        failed += 1
        print("FAIL sim/%s: not in the layer order %s (add it to LAYERS in %s and to "
              "docs/architecture.md)" % (", sim/".join(unknown), " < ".join(LAYERS),
                                         os.path.basename(__file__)))
    else:
        passed += 1
    for layer in dirs:
        if layer not in RANK:
            continue
        for root, _, files in os.walk(os.path.join(sim, layer)):
            for name in sorted(files):
                if not name.endswith(SUFFIXES):
                    continue
                path = os.path.join(root, name)
                rel = os.path.relpath(path, os.path.dirname(sim))
                problems = check_file(path, rel, layer)
                if problems:
                    failed += 1
                    for p in problems:
                        print("FAIL " + p)
                else:
                    passed += 1
    if passed + failed < 2:
        print("FAIL no source files found under %s" % sim)
        failed += 1
    if failed:
        print("the layer order is %s: a directory of sim/ includes only itself and lower layers"
              % " < ".join(LAYERS))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
