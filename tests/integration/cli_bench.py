#!/usr/bin/python3
"""Smoke test of `ruralsim bench`: every figure is present and a finite number (no time is
asserted).

usage: cli_bench.py RURALSIM_BINARY SOURCE_DIR
"""
import json
import math
import os
import subprocess
import sys
import tempfile

PHASES = ["adoption", "livestream", "market", "logistics", "accounting", "exit", "recognition",
          "recording"]
PHASE_KEYS = ["seconds", "share", "updates", "updates_per_second", "bytes_per_update", "gbs",
              "triad_fraction"]
RUN_KEYS = ["threads", "wall_seconds", "triad_gbs", "hdf5_bytes", "hdf5_bytes_per_second",
            "commit_seconds", "store_moves", "store_relayouts", "phases"]


def main():
    binary, src = sys.argv[1], sys.argv[2]
    problems = []

    def check(ok, what):
        if not ok:
            problems.append(what)

    def number(x):
        return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) \
            and x >= 0

    with tempfile.TemporaryDirectory(prefix="ruralsim-bench-test-") as tmp:
        out = os.path.join(tmp, "bench.json")
        p = subprocess.run([binary, "bench", os.path.join(src, "scenarios", "tiny.yaml"),
                            "--threads", "2", "--json", out], cwd=tmp, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=600)
        text = p.stdout.decode("utf-8", "replace")
        check(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr.decode()))
        for ph in PHASES:
            check(text.count("  " + ph + " ") == 2, "stdout lacks the %s row of each run" % ph)
        for frag in ["triad", "HDF5:", "speedup 1 -> 2 threads", "peak memory", "content hash"]:
            check(frag in text, "stdout lacks %r" % frag)
        check(sorted(os.listdir(tmp)) == ["bench.json"], "files left: %s" % os.listdir(tmp))
        with open(out, encoding="utf-8") as fh:
            j = json.load(fh)
    for k in ["scenario", "villages", "ticks", "geography_seconds", "peak_rss_mib",
              "content_hash", "runs", "speedup"]:
        check(k in j, "JSON lacks %r" % k)
    check(j.get("scenario") == "tiny", "scenario name")
    check(number(j.get("peak_rss_mib")) and j["peak_rss_mib"] > 0, "peak memory")
    check(len(j.get("content_hash", "")) == 64, "content hash")
    runs = j.get("runs", [])
    check([r.get("threads") for r in runs] == [1, 2], "runs at 1 and 2 threads")
    for r in runs:
        for k in RUN_KEYS:
            check(k in r, "run lacks %r" % k)
        for k in RUN_KEYS[:-1]:
            check(number(r.get(k)), "run %s: %r not a finite number" % (r.get("threads"), k))
        check(r.get("triad_gbs", 0) > 0 and r.get("hdf5_bytes", 0) > 0, "triad and HDF5 bytes")
        for ph in PHASES:
            fig = r.get("phases", {}).get(ph)
            check(fig is not None, "run %s lacks phase %s" % (r.get("threads"), ph))
            for k in PHASE_KEYS:
                check(fig is not None and number(fig.get(k)),
                      "phase %s: %r missing or not a finite number" % (ph, k))
        store_phases = ["market", "accounting", "exit"]
        for ph in store_phases:
            fig = r.get("phases", {}).get(ph, {})
            check(fig.get("updates", 0) > 0 and fig.get("bytes_per_update", 0) > 0,
                  "phase %s has no updates or bytes" % ph)
    sp = j.get("speedup", {})
    check(sp.get("threads") == 2 and number(sp.get("wall")), "speedup")
    for ph in PHASES:
        check(number(sp.get(ph)), "speedup lacks %s" % ph)
    if problems:
        print("FAIL bench smoke test")
        for x in problems:
            print("  - " + x)
        print(text)
        return 1
    print("ok   bench smoke test (every figure present)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
