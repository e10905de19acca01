#!/usr/bin/python3
"""A real single-node Slurm on localhost runs a sweep as a job array (ctest cli.slurm_sweep).

usage: slurm_sweep.py RURALSIM_BINARY SOURCE_DIR

Starts munged (unless one already answers) and a private slurmctld + slurmd with their own
slurm.conf, spool and state directories in a temporary directory; plans the tiny 2 x 3 sweep,
submits it with `ruralsim sweep submit --slurm`, waits for the array, collects, and checks that
the result is bit-identical to the same sweep run locally. Then it sends SIGTERM to a running
task submitted with --requeue (as Slurm does before a time limit) and checks that the run
checkpoints, the task requeues itself and the resumed run equals a local one; then it runs a
small calibration with `ruralsim calibrate --slurm` (each of its four sweeps a job array) and
checks that its trail equals the same calibration run locally (when python3-optuna is
installed). It stops the daemons it started by their pid. Needs root and the Debian packages
slurmctld, slurmd, slurm-client and munge
(`./run.sh test` installs them when run as root); otherwise it exits 77 (ctest: skipped) and
says why.
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

SKIP = 77
BIN, SRC = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
SWEEP = os.path.join(SRC, "tests", "data", "sweeps", "tiny_2x3.yaml")


def skip(why):
    print(f"SKIPPED: {why}")
    sys.exit(SKIP)


def sh(*args, env=None, check=True, timeout=60):
    p = subprocess.run(list(map(str, args)), capture_output=True, text=True, env=env,
                       timeout=timeout)
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, args))}: exit {p.returncode}\n{p.stdout}\n{p.stderr}")
    return p


def free_port():
    """A TCP port of 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_pid(path, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with open(path) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            time.sleep(0.1)
    raise RuntimeError(f"no pid file {path}")


def stop(pid, name):
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    print(f"{name} (pid {pid}) did not stop on SIGTERM; sending SIGKILL")
    os.kill(pid, signal.SIGKILL)


def munge_works():
    try:
        enc = subprocess.run(["munge", "-n"], capture_output=True, timeout=10)
        if enc.returncode != 0:
            return False
        dec = subprocess.run(["unmunge"], input=enc.stdout, capture_output=True, timeout=10)
        return dec.returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


CALIBRATION = """name: slurm_cal
base: {base}
set: {{simulation.years: 4}}
parameters:
  internet.t_mid: {{low: 2009, high: 2016}}
targets:
  - fact: rural_internet_penetration
    year: 2021
    sim_year: 2012
    output: internet_access
    tolerance: {{relative: 0.05}}
replicates: 1
seed: 3
stage1: {{method: lhs, points: 4}}
stage2: {{sampler: tpe, trials: 4, batch: 2}}
optimum_replicates: 2
slurm: {{time: "00:05:00", cpus_per_task: 1, max_concurrent: 2, per_task: 1, poll_seconds: 1}}
"""


def calibrate_on_slurm(tmp, env):
    """`ruralsim calibrate --slurm` (every sweep a job array) gives the trail of a local run."""
    try:
        import optuna  # noqa: F401
    except ImportError:
        print("calibrate --slurm not checked: python3-optuna is not installed")
        return
    cal = os.path.join(tmp, "slurm_cal.yaml")
    with open(cal, "w") as f:
        f.write(CALIBRATION.format(base=os.path.join(SRC, "scenarios", "tiny.yaml")))
    t = time.time()
    p = sh(BIN, "calibrate", cal, "--out", os.path.join(tmp, "cal_slurm"), "--slurm", env=env,
           timeout=600)
    assert "on Slurm" in p.stderr or "Submitted" in p.stderr or "job" in p.stderr, p.stderr
    for sweep in ("stage1", "stage2_b000", "stage2_b001", "optimum"):
        assert os.path.exists(os.path.join(tmp, "cal_slurm", "sweeps", sweep, "slurm",
                                           "array.sbatch")), sweep
    sh(BIN, "calibrate", cal, "--out", os.path.join(tmp, "cal_local"), timeout=600)
    with open(os.path.join(tmp, "cal_slurm", "trail.csv")) as a, \
            open(os.path.join(tmp, "cal_local", "trail.csv")) as b:
        ta, tb = a.read(), b.read()
    assert ta == tb and ta.count("\n") == 9, (ta, tb)
    print(f"calibrate --slurm (4 sweeps as job arrays) gives the local trail; "
          f"{time.time() - t:.1f}s")


def checkpoint_and_requeue(tmp, env):
    """SIGTERM to a running task, as Slurm sends before a time limit: its run writes a
    checkpoint, the task (submitted with --requeue) requeues itself, and the requeued task
    resumes the run; the result equals a local run."""
    t0 = time.time()
    sf = os.path.join(tmp, "ck.yaml")
    with open(sf, "w") as f:
        f.write(f"name: ck\nbase: {os.path.join(SRC, 'scenarios', 'baseline.yaml')}\n"
                "replicates: 1\nmaster_seed: 5\n"
                "set: {simulation.years: 40, output.village_snapshots: false}\n"
                "arms:\n  - name: a\n")
    remote, local = os.path.join(tmp, "ck_remote"), os.path.join(tmp, "ck_local")
    sh(BIN, "sweep", "plan", sf, "--out", remote)
    p = sh(BIN, "sweep", "submit", remote, "--slurm", "--time", "00:10:00", "--cpus-per-task", "1",
           "--requeue", env=env)
    job = p.stdout.strip().splitlines()[-1].split()[-1]
    runs = os.path.join(remote, "runs")
    deadline = time.time() + 120
    while time.time() < deadline and not any(f.endswith(".partial") for f in os.listdir(runs)):
        time.sleep(0.05)
    time.sleep(0.5)
    sh("scancel", "--batch", "--signal=TERM", job, env=env)
    saw_checkpoint = False
    deadline = time.time() + 400
    while time.time() < deadline:
        saw_checkpoint = saw_checkpoint or any(f.endswith(".ckpt") for f in os.listdir(runs))
        q = sh("squeue", "-h", "-j", job, "-o", "%T %r", env=env, check=False).stdout.strip()
        if not q and os.path.exists(os.path.join(runs, "r0000.h5")):
            break
        if "BeginTime" in q:  # a requeued job waits about two minutes; this test need not
            sh("scontrol", "update", f"JobId={job}", "StartTime=now", env=env, check=False)
        time.sleep(0.2)
    else:
        raise RuntimeError(f"job {job} did not finish after the requeue: {q}")
    log = open(os.path.join(remote, "slurm", "logs", "task_0.log")).read()
    assert saw_checkpoint, "no checkpoint was written after SIGTERM:\n" + log
    assert "1 runs resumed from a checkpoint" in log, log
    assert not [f for f in os.listdir(runs) if f.endswith(".ckpt")], os.listdir(runs)
    sh(BIN, "sweep", "plan", sf, "--out", local)
    sh(BIN, "sweep", "run", local)
    with h5py.File(os.path.join(remote, "runs", "r0000.h5"), "r") as a, \
            h5py.File(os.path.join(local, "runs", "r0000.h5"), "r") as b:
        assert a.attrs["content_hash"] == b.attrs["content_hash"]
    print(f"SIGTERM to a Slurm task: checkpoint, requeue, resume; result bit-identical to a local "
          f"run ({time.time() - t0:.1f}s)")


def main():
    if os.geteuid() != 0:
        skip("needs root to start munged, slurmctld and slurmd (CI runs it as root)")
    missing = [b for b in ("munged", "slurmctld", "slurmd", "sbatch", "sinfo", "squeue")
               if shutil.which(b) is None and not os.path.exists(f"/usr/sbin/{b}")]
    if missing:
        skip(f"Slurm is not installed (missing {', '.join(missing)}); as root, ./run.sh test "
             "installs slurmctld slurmd slurm-client munge")
    t0 = time.time()
    tmp = tempfile.mkdtemp(prefix="ruralsim-slurm-")
    started = []  # (pid, name)
    ok = False
    try:
        if not munge_works():
            os.makedirs("/run/munge", exist_ok=True)
            shutil.chown("/run/munge", "munge", "munge")
            os.chmod("/run/munge", 0o755)
            sh("runuser", "-u", "munge", "--", "/usr/sbin/munged")
            started.append((read_pid("/run/munge/munged.pid"), "munged"))
            for _ in range(50):
                if munge_works():
                    break
                time.sleep(0.1)
        host = socket.gethostname().split(".")[0]
        cpus = os.cpu_count() or 1
        with open("/proc/meminfo") as f:
            mem_mib = int(f.readline().split()[1]) // 1024
        for d in ("state", "spool", "logs"):
            os.makedirs(os.path.join(tmp, d))
        conf = os.path.join(tmp, "slurm.conf")
        # Ports free now, not Slurm's defaults: another test run (or a Slurm) on this machine
        # may hold those.
        ctld_port = free_port()
        slurmd_port = free_port()
        while slurmd_port == ctld_port:
            slurmd_port = free_port()
        with open(conf, "w") as f:
            f.write(f"""ClusterName=ruralsimtest
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
StateSaveLocation={tmp}/state
SlurmdSpoolDir={tmp}/spool
SlurmctldPidFile={tmp}/slurmctld.pid
SlurmdPidFile={tmp}/slurmd.pid
SlurmctldLogFile={tmp}/slurmctld.log
SlurmdLogFile={tmp}/slurmd.log
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
NodeName={host} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={int(mem_mib * 0.9)} State=UNKNOWN
PartitionName=test Nodes={host} Default=YES MaxTime=INFINITE State=UP
""")
        env = dict(os.environ, SLURM_CONF=conf)
        sh("slurmctld", "-f", conf, env=env)
        started.append((read_pid(f"{tmp}/slurmctld.pid"), "slurmctld"))
        sh("slurmd", "-N", host, "-f", conf, env=env)
        started.append((read_pid(f"{tmp}/slurmd.pid"), "slurmd"))
        deadline = time.time() + 60
        state = ""
        while time.time() < deadline:
            state = sh("sinfo", "-h", "-o", "%t", env=env, check=False).stdout.strip()
            if state == "idle":
                break
            time.sleep(0.5)
        if state != "idle":
            raise RuntimeError(f"the node did not become idle (sinfo: {state!r})")
        t_up = time.time() - t0

        remote, local = os.path.join(tmp, "remote"), os.path.join(tmp, "local")
        sh(BIN, "sweep", "plan", SWEEP, "--out", remote)
        p = sh(BIN, "sweep", "submit", remote, "--slurm", "--time", "00:05:00",
               "--cpus-per-task", "1", "--per-task", "2", "--max-concurrent", "2", env=env)
        job = p.stdout.strip().splitlines()[-1].split()[-1]
        print(p.stdout.strip())
        with open(os.path.join(remote, "slurm", "array.sbatch")) as f:
            script = f.read()
        assert "#SBATCH --array=0-2%2" in script, script
        assert "--signal=B:TERM@" in script, script
        deadline = time.time() + 300
        while time.time() < deadline:
            q = sh("squeue", "-h", "-j", job, env=env, check=False).stdout.strip()
            if not q:
                break
            time.sleep(0.5)
        else:
            raise RuntimeError(f"job {job} did not finish: {q}")
        logs = sorted(os.listdir(os.path.join(remote, "slurm", "logs")))
        assert logs == ["task_0.log", "task_1.log", "task_2.log"], logs
        st = sh(BIN, "sweep", "status", remote).stdout
        assert "6 finished, 0 failed" in st, st + "".join(
            open(os.path.join(remote, "slurm", "logs", name)).read() for name in logs)
        sh(BIN, "sweep", "collect", remote)
        sh(BIN, "sweep", "plan", SWEEP, "--out", local)
        sh(BIN, "sweep", "run", local, "--jobs", "2")
        sh(BIN, "sweep", "collect", local)
        with h5py.File(os.path.join(remote, "sweep.h5"), "r") as a, \
                h5py.File(os.path.join(local, "sweep.h5"), "r") as b:
            assert list(a["manifest/content_hash"]) == list(b["manifest/content_hash"])
            for g in ("national", "province", "county"):
                for k in b[g]:
                    assert np.array_equal(a[g][k][()], b[g][k][()], equal_nan=True), f"{g}/{k}"
        print(f"Slurm sweep of 6 runs bit-identical to the local sweep; daemons up in "
              f"{t_up:.1f}s, whole cycle {time.time() - t0:.1f}s")
        checkpoint_and_requeue(tmp, env)
        calibrate_on_slurm(tmp, env)
        ok = True
    finally:
        for pid, name in reversed(started):
            stop(pid, name)
        if not ok:
            for name in ("slurmctld.log", "slurmd.log"):
                path = os.path.join(tmp, name)
                if os.path.exists(path):
                    print(f"---- {name} (last lines)")
                    print("".join(open(path).readlines()[-15:]))
        shutil.rmtree(tmp, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
