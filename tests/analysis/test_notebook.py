#!/usr/bin/python3
"""Executes analysis/notebooks/quickstart.ipynb headless, so that it cannot rot.

usage: test_notebook.py RURALSIM_BINARY PROJECT_DIR

Runs every cell with nbclient (Debian package python3-nbclient, kernel python3 from
python3-ipykernel) in analysis/notebooks/, with RURALSIM_BINARY set to the binary under test and
QUICKSTART_OUT to a temporary directory (kept if RURALSIM_KEEP_TMP is set). Checks that no cell
raises, that the two figures are drawn (image/png outputs) and that the notebook is stored
without outputs (so that diffs stay readable). Ends with "N passed, M failed".
"""
import os
import sys
import tempfile

from checks import check, remove_tmp, summary


def main(argv):
    if len(argv) != 3:
        print("usage: test_notebook.py RURALSIM_BINARY PROJECT_DIR", file=sys.stderr)
        return 2
    binary, src = os.path.abspath(argv[1]), os.path.abspath(argv[2])
    try:
        import nbformat
        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError
    except ImportError as e:
        print(f"FAIL python3-nbclient / python3-nbformat missing ({e}); ./run.sh installs them")
        print("0 passed, 1 failed")
        return 1
    nbdir = os.path.join(src, "analysis", "notebooks")
    path = os.path.join(nbdir, "quickstart.ipynb")
    nb = nbformat.read(path, as_version=4)
    check("notebook is stored without outputs",
          all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"))
    tmp = tempfile.mkdtemp(prefix="ruralsim_notebook_test_")
    old_env = dict(os.environ)
    os.environ["RURALSIM_BINARY"] = binary
    os.environ["QUICKSTART_OUT"] = tmp
    os.environ["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"  # quiet debugger start-up warning
    try:
        client = NotebookClient(nb, timeout=240, kernel_name="python3",
                                resources={"metadata": {"path": nbdir}})
        try:
            client.execute()
            ok, detail = True, ""
        except CellExecutionError as e:
            ok, detail = False, str(e)[-2000:]
        check("every cell executes", ok, detail)
        pngs = sum(1 for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                   if "image/png" in o.get("data", {}))
        check("two figures drawn", pngs >= 2, f"{pngs} image outputs")
        errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                  if o.get("output_type") == "error"]
        check("no error outputs", not errors, errors[:1])
    finally:
        os.environ.clear()
        os.environ.update(old_env)
        remove_tmp(tmp)
    return summary()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
