"""Shared helpers of the analysis test scripts: named checks with a running tally, running a
command with a time limit, removing a temporary directory, and checks of PNG files and HTML
pages (their references and ids). Each script imports them (its own directory is on sys.path when it
is run as `python3 tests/analysis/test_x.py`) and ends with `return summary()`."""
import html.parser
import os
import shutil
import struct
import subprocess

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


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


def remove_tmp(tmp):
    """Removes a test's temporary directory, unless RURALSIM_KEEP_TMP is set (then says where)."""
    if os.environ.get("RURALSIM_KEEP_TMP"):
        print(f"kept {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)


class Refs(html.parser.HTMLParser):
    """Collects src/href references and the ids of the page; counts unclosed sections."""

    def __init__(self):
        super().__init__()
        self.refs, self.ids, self.stack, self.errors = [], set(), [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for k in ("src", "href"):
            if a.get(k):
                self.refs.append(a[k])
        if a.get("id"):
            self.ids.add(a["id"])
        if tag in ("section", "table", "div", "p", "nav", "body", "html", "head"):
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in ("section", "table", "div", "p", "nav", "body", "html", "head"):
            if not self.stack or self.stack[-1] != tag:
                self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else '-'}>")
            else:
                self.stack.pop()


def png_size(path):
    with open(path, "rb") as fh:
        head = fh.read(24)
    if len(head) < 24 or head[:8] != PNG_MAGIC:
        return None
    return struct.unpack(">II", head[16:24])
