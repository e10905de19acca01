#!/usr/bin/python3
"""The generated blocks of docs/parameters.md and docs/outputs.md must match the binary.

usage: docs_current.py RURALSIM_BINARY PROJECT_SOURCE_DIR

Runs `docs/generate.py --check --binary RURALSIM_BINARY`: each block between
`<!-- BEGIN GENERATED: ruralsim params --markdown -->` (resp. `ruralsim outputs --markdown`)
and `<!-- END GENERATED -->` must equal the current output of that command. On a mismatch it
prints a unified diff and how to refresh the docs (/usr/bin/python3 docs/generate.py).
Prints `N passed, M failed`; exits 1 on failure.
"""
import os
import subprocess
import sys


def main(argv):
    if len(argv) != 3:
        print("usage: docs_current.py RURALSIM_BINARY PROJECT_SOURCE_DIR", file=sys.stderr)
        return 2
    binary, src = os.path.abspath(argv[1]), os.path.abspath(argv[2])
    generate = os.path.join(src, "docs", "generate.py")
    if not os.path.isfile(generate):
        print("FAIL docs/generate.py does not exist")
        print("0 passed, 1 failed")
        return 1
    try:
        p = subprocess.run(["/usr/bin/python3", generate, "--check", "--binary", binary],
                           cwd=src, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
        code, out = p.returncode, p.stdout.decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        code, out = None, "docs/generate.py --check did not finish within 300 s\n"
    if code == 0:
        print("ok   docs/parameters.md and docs/outputs.md match `ruralsim params --markdown` "
              "and `ruralsim outputs --markdown`")
        print("1 passed, 0 failed")
        return 0
    print("FAIL generated documentation is not current (docs/generate.py --check: %s)"
          % ("timeout" if code is None else "exit %d" % code))
    print(out.rstrip("\n"))
    print("To refresh: cd %s && /usr/bin/python3 docs/generate.py" % src)
    print("0 passed, 1 failed")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
