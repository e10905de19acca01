"""Shared helpers of the analysis test scripts: named checks with a running tally, and running
a command with a time limit. Each script imports them (its own directory is on sys.path when it
is run as `python3 tests/analysis/test_x.py`) and ends with `return summary()`."""
import subprocess


class _Tally:
    passed = 0
    failed = 0


def check(name, cond, detail=""):
    """Prints `ok NAME` or `FAIL NAME: DETAIL` and counts it; returns cond."""
    if cond:
        _Tally.passed += 1
        print(f"ok   {name}")
    else:
        _Tally.failed += 1
        print(f"FAIL {name}" + (f": {detail}" if detail else ""))
    return cond


def run(cmd, timeout=300, **kw):
    """subprocess.run with captured text output and a time limit (seconds)."""
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)


def summary():
    """Prints "N passed, M failed"; the script's exit status (1 if any check failed)."""
    print(f"{_Tally.passed} passed, {_Tally.failed} failed")
    return 1 if _Tally.failed else 0
