#!/usr/bin/python3
"""Checkpoint and restart through the command line (ctest cli.checkpoint).

usage: cli_checkpoint.py RURALSIM_BINARY SOURCE_DIR

  * SIGTERM during `ruralsim run`: exit 75, a checkpoint named on stderr with the command that
    resumes it, no output or .partial left; `ruralsim run --resume` (other thread count)
    completes with the content hash of an uninterrupted run and removes the checkpoint;
  * --checkpoint-every leaves the content hash unchanged;
  * a checkpoint of another scenario or seed, of another version, truncated, damaged or not a
    checkpoint at all: exit 2 with a message naming the reason;
  * SIGTERM during `ruralsim sweep run`: exit 75, runs/<id>.ckpt; the next `sweep run` resumes
    it, and every run's content hash equals that of an uninterrupted sweep;
  * `sweep submit --dry-run`: the batch script asks for an early SIGTERM, and with --requeue
    requeues the task after a checkpoint.
"""
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import h5py

BIN = os.path.abspath(sys.argv[1])
SRC = os.path.abspath(sys.argv[2])
BASELINE = os.path.join(SRC, "scenarios", "baseline.yaml")
YEARS = "simulation.years=40"  # long enough for a signal to arrive mid-run
FAILURES = []


def run(*args, ok=(0,), cwd=None):
    p = subprocess.run([BIN, *map(str, args)], capture_output=True, text=True, cwd=cwd,
                       timeout=600)
    if p.returncode not in ok:
        raise AssertionError(f"ruralsim {' '.join(map(str, args))}: exit {p.returncode}\n"
                             f"{p.stdout}\n{p.stderr}")
    return p


def check(cond, what, detail=""):
    print("ok  " if cond else "FAIL", what)
    if not cond:
        if detail:
            print("      ", detail.strip()[-600:].replace("\n", "\n       "))
        FAILURES.append(what)


def content_hash(path):
    with h5py.File(path, "r") as f:
        v = f.attrs["content_hash"]
        return v.decode() if isinstance(v, bytes) else str(v)


def wait_for(cond, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return True
        time.sleep(0.02)
    return False


def sigterm_when(proc, cond, delay):
    """Sends SIGTERM once cond() holds and `delay` seconds more have passed."""
    wait_for(cond)
    time.sleep(delay)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=600)
    return proc.returncode, out, err


def reseal(data):
    return data[:-32] + hashlib.sha256(data[:-32]).digest()


def test_run_sigterm_and_resume(tmp):
    ref = os.path.join(tmp, "ref.h5")
    run("run", BASELINE, "--set", YEARS, "--out", ref, "--threads", "2", "--quiet")
    href = content_hash(ref)

    out = os.path.join(tmp, "x.h5")
    ckpt = out + ".ckpt"
    proc = subprocess.Popen([BIN, "run", BASELINE, "--set", YEARS, "--out", out, "--threads", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    rc, _, err = sigterm_when(proc, lambda: os.path.exists(out + ".partial"), 0.3)
    check(rc == 75, f"SIGTERM: exit 75 (got {rc})", err)
    check(f"wrote the checkpoint {ckpt}" in err, "SIGTERM: the checkpoint is named")
    check(f"resume with: ruralsim run --resume {ckpt}" in err, "SIGTERM: how to resume")
    check(os.path.exists(ckpt), "SIGTERM: the checkpoint exists")
    check(not os.path.exists(out) and not os.path.exists(out + ".partial"),
          "SIGTERM: no output and no .partial left")
    if not os.path.exists(ckpt):
        return None
    saved = os.path.join(tmp, "saved.ckpt")
    shutil.copy(ckpt, saved)

    p = run("run", "--resume", ckpt, "--threads", "1")
    check("resumed at tick" in p.stdout, "resume: summary says where it resumed")
    check(os.path.exists(out), "resume: output written")
    check(content_hash(out) == href, "resume: content hash equals the uninterrupted run's")
    check(not os.path.exists(ckpt), "resume: checkpoint removed at the end")
    p = run("run", "--resume", saved, "--quiet", ok=(2,))
    check("exists already" in p.stderr, "resume of a completed run refuses to overwrite")

    per = os.path.join(tmp, "p.h5")
    p = run("run", BASELINE, "--set", YEARS, "--out", per, "--checkpoint-every", "520")
    check(content_hash(per) == href, "--checkpoint-every 520: same content hash")
    check("3 checkpoints written" in p.stdout, "--checkpoint-every: 3 checkpoints written",
          p.stdout)
    check(not os.path.exists(per + ".ckpt"), "--checkpoint-every: removed at the end")
    return saved


def test_refusals(tmp, saved):
    tiny = os.path.join(SRC, "scenarios", "tiny.yaml")
    out = os.path.join(tmp, "r.h5")
    p = run("run", tiny, "--resume", saved, "--out", out, ok=(2,))
    check("another scenario" in p.stderr and "baseline" in p.stderr, "other scenario refused",
          p.stderr)
    p = run("run", "--resume", saved, "--seed", "9", "--out", out, ok=(2,))
    check("another scenario" in p.stderr and "seed 9" in p.stderr, "other seed refused", p.stderr)
    data = open(saved, "rb").read()
    version = run("--version").stdout.split()[1]
    assert data[32:32 + len(version)] == version.encode()
    other = version[:-1] + ("8" if version[-1] == "9" else "9")
    bad = os.path.join(tmp, "bad.ckpt")
    image_at = data.find(b"\x89HDF\r\n\x1a\n")
    check(image_at > 0, "the checkpoint holds an HDF5 output image")
    cases = [
        ("another version", reseal(data[:32] + other.encode() + data[32 + len(version):]),
         f"written by ruralsim {other}"),
        ("truncated", data[: len(data) // 2], "truncated"),
        ("one byte changed", data[:1000] + bytes([data[1000] ^ 1]) + data[1001:], "checksum"),
        ("not a checkpoint", b"name: baseline\n", "not a ruralsim checkpoint"),
        # a hostile output image under a valid checksum: the HDF5 signature of the image broken
        ("output image broken, checksum valid",
         reseal(data[:image_at] + b"XXXXXXXX" + data[image_at + 8:]),
         "its image of the output written so far is not a readable HDF5 file"),
        ("empty", b"", "not a ruralsim checkpoint"),
    ]
    for what, content, message in cases:
        with open(bad, "wb") as f:
            f.write(content)
        p = run("run", "--resume", bad, "--out", out, ok=(2,))
        check(message in p.stderr and bad in p.stderr, f"{what}: exit 2, '{message}'", p.stderr)
    check(not os.path.exists(out), "refused checkpoints wrote no output")


def test_sweep_sigterm_and_resume(tmp):
    sf = os.path.join(tmp, "ck.yaml")
    with open(sf, "w") as f:
        f.write(f"""name: ck
base: {BASELINE}
replicates: 1
master_seed: 5
set: {{simulation.years: 30, output.village_snapshots: false}}
arms:
  - name: a
  - name: b
    set: {{adoption.beta: 7}}
""")
    d, ref = os.path.join(tmp, "s"), os.path.join(tmp, "sref")
    run("sweep", "plan", sf, "--out", d)
    run("sweep", "plan", sf, "--out", ref)
    runs = os.path.join(d, "runs")
    proc = subprocess.Popen([BIN, "sweep", "run", d, "--jobs", "1", "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    rc, _, err = sigterm_when(
        proc, lambda: any(f.endswith(".partial") for f in os.listdir(runs)), 0.3)
    check(rc == 75, f"sweep SIGTERM: exit 75 (got {rc})", err)
    ckpts = [f for f in os.listdir(runs) if f.endswith(".ckpt")]
    check(len(ckpts) == 1, f"sweep SIGTERM: one runs/<id>.ckpt ({ckpts})")
    check(not [f for f in os.listdir(runs) if f.endswith(".partial")], "sweep: no .partial left")
    st = run("sweep", "status", d).stdout
    rid = ckpts[0][:-len(".ckpt")] if ckpts else "?"
    check(f"1 runs stopped with a checkpoint ({rid}; runs/<id>.ckpt)" in st
          and f"ruralsim sweep run {d}` resumes them" in st,
          "sweep status: lists the run stopped with a checkpoint", st)
    p = run("sweep", "run", d, "--jobs", "1")
    check("1 runs resumed from a checkpoint" in p.stdout, "sweep resumes the checkpointed run",
          p.stdout)
    check(not [f for f in os.listdir(runs) if f.endswith(".ckpt")], "sweep: checkpoints removed")
    st = run("sweep", "status", d).stdout
    check("checkpoint" not in st, "sweep status: no checkpoint listed once resumed", st)
    run("sweep", "run", ref, "--jobs", "2")
    for f in sorted(os.listdir(os.path.join(ref, "runs"))):
        if f.endswith(".h5"):
            check(content_hash(os.path.join(runs, f)) == content_hash(os.path.join(ref, "runs", f)),
                  f"sweep run {f}: same content hash as the uninterrupted sweep")

    p = run("sweep", "submit", d, "--slurm", "--dry-run", "--time", "01:00:00")
    script = open(os.path.join(d, "slurm", "array.sbatch")).read()
    check("#SBATCH --signal=B:TERM@120" in script and "exec " in script,
          "submit: early SIGTERM requested")
    run("sweep", "submit", d, "--slurm", "--dry-run", "--requeue", "--checkpoint-every", "52")
    script = open(os.path.join(d, "slurm", "array.sbatch")).read()
    check("#SBATCH --requeue" in script and "scontrol requeue" in script and
          "--checkpoint-every 52" in script and 'kill -TERM "$pid"' in script,
          "submit --requeue: the task passes SIGTERM on and requeues itself after a checkpoint")
    r = subprocess.run(["bash", "-n", os.path.join(d, "slurm", "array.sbatch")])
    check(r.returncode == 0, "submit --requeue: the script is valid bash")


def main():
    tmp = tempfile.mkdtemp(prefix="ruralsim-ckpt-test-")
    try:
        saved = test_run_sigterm_and_resume(tmp)
        if saved:
            test_refusals(tmp, saved)
        test_sweep_sigterm_and_resume(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed")
        return 1
    print("all checkpoint checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
