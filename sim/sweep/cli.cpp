// `ruralsim sweep plan|run|status|collect|compare|submit`.
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "core/error.hpp"
#include "core/progress.hpp"
#include "sweep/sweep.hpp"

namespace fs = std::filesystem;

namespace ruralsim {
namespace {

const char* const kSweepHelp = R"(usage: ruralsim sweep <command> ...

  plan SWEEP.yaml --out DIR        expand and validate every run, write DIR (manifest.tsv,
                                   scenarios/, plan.yaml); no run is made
  run DIR [--jobs N] [--threads-per-run T] [--task I [--per-task K]]
          [--checkpoint-every N] [--quiet]
                                   run what is not finished, N runs at once (default 1) with
                                   T threads each (default 1); --task runs only runs
                                   I*K .. I*K+K-1 (a Slurm array task); exit 1 if a run failed.
                                   SIGTERM: each run in progress writes runs/<id>.ckpt at the
                                   end of its tick and stops (exit 75); the next `sweep run`
                                   resumes it. --checkpoint-every N also every N ticks
  status DIR [--failed]            counts of finished / failed / running / pending runs, the runs
                                   stopped with a checkpoint, and the failures with their
                                   messages (the first 10; --failed: all)
  collect DIR [--partial]          one DIR/sweep.h5 of every finished run; refuses unfinished
                                   sweeps unless --partial
  compare DIR [--baseline ARM] [--metric M --year Y]... [--out DIR2]
                                   (collects first if sweep.h5 is missing or older than a run)
                                   per-arm means and 95% intervals over replicates, paired
                                   differences to the baseline arm; CSV, Markdown and a forest
                                   plot PNG (analysis/sweep_compare.py, /usr/bin/python3)
  submit DIR --slurm [--partition P] [--time HH:MM:SS] [--cpus-per-task C] [--mem M]
         [--max-concurrent N] [--per-task K] [--checkpoint-every N] [--requeue] [--dry-run]
                                   write DIR/slurm/array.sbatch (a Slurm job array over the
                                   runs) and submit it with sbatch; prints the job id. Slurm
                                   sends SIGTERM 120 s before the time limit: runs checkpoint;
                                   resubmitting resumes them (--requeue: the task requeues
                                   itself)

A run is finished only when its file exists and its content hash verifies against its data;
`run` after a crash, kill or time-out redoes only the rest. Sweep files: docs/sweeps.md.
)";

std::atomic<int> g_sweep_signal{0};
extern "C" void on_sweep_signal(int sig) {
  g_sweep_signal = sig;
}

struct Opts {
  std::vector<std::string> pos;
  std::map<std::string, std::vector<std::string>> kv;
  bool has(const std::string& k) const { return kv.count(k) > 0; }
  std::string get(const std::string& k, const std::string& def = "") const {
    auto it = kv.find(k);
    return it == kv.end() ? def : it->second.back();
  }
  long long num(const std::string& k, long long def, long long lo, long long hi) const {
    if (!has(k)) return def;
    const std::string v = get(k);
    try {
      std::size_t p = 0;
      const long long x = std::stoll(v, &p);
      if (p != v.size() || x < lo || x > hi) throw std::invalid_argument("");
      return x;
    } catch (const std::exception&) {
      throw UsageError("option " + k + " = '" + v + "': expected a whole number in [" +
                       std::to_string(lo) + ", " + std::to_string(hi) + "]");
    }
  }
};

Opts parse(const std::vector<std::string>& a, std::size_t from, const std::string& cmd,
           const std::vector<std::string>& with_value, const std::vector<std::string>& flags) {
  Opts o;
  for (std::size_t i = from; i < a.size(); ++i) {
    std::string s = a[i];
    if (s == "--help" || s == "-h") {
      std::fputs(kSweepHelp, stdout);
      std::exit(0);
    }
    if (s.rfind("--", 0) != 0) {
      o.pos.push_back(s);
      continue;
    }
    std::string value;
    bool has_value = false;
    if (auto eq = s.find('='); eq != std::string::npos) {
      value = s.substr(eq + 1);
      s = s.substr(0, eq);
      has_value = true;
    }
    const bool takes = std::find(with_value.begin(), with_value.end(), s) != with_value.end();
    const bool flag = std::find(flags.begin(), flags.end(), s) != flags.end();
    if (!takes && !flag) {
      std::string valid;
      for (const auto& v : with_value) valid += " " + v;
      for (const auto& v : flags) valid += " " + v;
      throw UsageError("ruralsim sweep " + cmd + ": unknown option '" + s +
                       "'; valid options:" + valid + " --help");
    }
    if (takes && !has_value) {
      if (i + 1 >= a.size())
        throw UsageError("ruralsim sweep " + cmd + ": option " + s + " needs a value");
      value = a[++i];
    }
    o.kv[s].push_back(takes ? value : "1");
  }
  return o;
}

std::string one_dir(const Opts& o, const std::string& cmd) {
  if (o.pos.size() != 1)
    throw UsageError("ruralsim sweep " + cmd + ": expected one sweep directory\n\n" + kSweepHelp);
  return o.pos[0];
}

std::string self_exe() {
  std::error_code ec;
  auto p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("ruralsim") : p.string();
}

std::string analysis_dir() {
  if (const char* e = std::getenv("RURALSIM_ANALYSIS_DIR")) return e;
  const fs::path near = fs::path(self_exe()).parent_path().parent_path() / "analysis";
  if (fs::exists(near / "sweep_compare.py")) return near.string();
  return RURALSIM_SOURCE_DIR_STR "/analysis";
}

int sweep_plan(const Opts& o) {
  if (o.pos.size() != 1 || !o.has("--out"))
    throw UsageError("ruralsim sweep plan: expected SWEEP.yaml --out DIR");
  const SweepPlan p = plan_sweep(o.pos[0], o.get("--out"));
  std::map<std::string, int> arms;
  for (const auto& r : p.runs) ++arms[r.arm];
  std::printf("planned sweep '%s': %zu arms x %zu replicates = %zu runs (baseline arm '%s')\n",
              p.name.c_str(), arms.size(), arms.empty() ? 0 : p.runs.size() / arms.size(),
              p.runs.size(), p.baseline.c_str());
  std::printf("wrote %s/manifest.tsv; next: ruralsim sweep run %s --jobs 2\n", p.dir.c_str(),
              p.dir.c_str());
  return 0;
}

int sweep_run(const Opts& o) {
  const SweepPlan p = load_plan(one_dir(o, "run"));
  SweepRunOptions ro;
  ro.jobs = static_cast<int>(o.num("--jobs", 1, 1, 1024));
  ro.threads_per_run = static_cast<int>(o.num("--threads-per-run", 1, 1, 1024));
  ro.quiet = o.has("--quiet");
  if (o.has("--task")) {
    const long long k = o.num("--per-task", 1, 1, 1000000);
    const long long t = o.num("--task", 0, 0, 100000000);
    for (long long i = t * k; i < (t + 1) * k && i < static_cast<long long>(p.runs.size()); ++i)
      ro.only.push_back(static_cast<std::size_t>(i));
    if (ro.only.empty()) {
      std::printf("task %lld: no runs (the sweep has %zu)\n", t, p.runs.size());
      return 0;
    }
  } else if (o.has("--per-task")) {
    throw UsageError("ruralsim sweep run: --per-task needs --task");
  }
  ro.checkpoint_every = static_cast<int>(o.num("--checkpoint-every", 0, 1, 100000000));
  std::stop_source stop, term;
  ro.stop = stop.get_token();
  ro.checkpoint_stop = term.get_token();
  g_sweep_signal = 0;
  auto old_int = std::signal(SIGINT, on_sweep_signal);
  auto old_term = std::signal(SIGTERM, on_sweep_signal);
  std::jthread watch([&](std::stop_token st) {
    while (!st.stop_requested()) {
      const int sig = g_sweep_signal.load();
      if (sig == SIGTERM)
        term.request_stop();
      else if (sig != 0)
        stop.request_stop();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  const SweepRunResult r = run_sweep(p, ro);
  watch.request_stop();
  watch.join();
  std::signal(SIGINT, old_int);
  std::signal(SIGTERM, old_term);
  std::printf(
      "sweep %s: %d runs made (%d finished, %d failed), %d already finished or running "
      "elsewhere, %d stopped; wall time %s, sum of run times %s\n",
      p.name.c_str(), r.ran, r.finished, r.failed, r.skipped, r.stopped,
      format_duration(r.wall).c_str(), format_duration(r.run_seconds).c_str());
  if (r.resumed) std::printf("%d runs resumed from a checkpoint\n", r.resumed);
  if (g_sweep_signal == SIGTERM) {
    std::fprintf(stderr,
                 "ruralsim: SIGTERM: %d runs wrote a checkpoint (%s/runs/<id>.ckpt) and stopped; "
                 "`ruralsim sweep run %s` resumes them\n",
                 r.checkpointed, p.dir.c_str(), p.dir.c_str());
    return 75;
  }
  if (g_sweep_signal) {
    std::fprintf(stderr, "ruralsim: interrupted by signal %d; unfinished runs kept no file\n",
                 g_sweep_signal.load());
    return 130;
  }
  if (r.failed) std::printf("see: ruralsim sweep status %s --failed\n", p.dir.c_str());
  return r.failed ? 1 : 0;
}

int sweep_status(const Opts& o) {
  const SweepPlan p = load_plan(one_dir(o, "status"));
  int n[4] = {0, 0, 0, 0};
  std::vector<std::pair<const PlannedRun*, std::string>> failures;
  std::vector<const PlannedRun*> checkpointed;
  double wall = 0;
  for (const auto& r : p.runs) {
    const RunStatus s = run_status(p, r);
    ++n[static_cast<int>(s.state)];
    if (s.state == RunState::Failed) failures.emplace_back(&r, s.message);
    if (s.state == RunState::Finished) wall += s.wall;
    if (s.checkpoint) checkpointed.push_back(&r);
  }
  std::printf("sweep %s (%s): %zu runs: %d finished, %d failed, %d running, %d pending\n",
              p.name.c_str(), p.dir.c_str(), p.runs.size(), n[0], n[1], n[2], n[3]);
  if (n[0]) std::printf("sum of the finished runs' times: %s\n", format_duration(wall).c_str());
  if (!checkpointed.empty()) {
    std::string ids;
    for (std::size_t i = 0; i < checkpointed.size() && i < 10; ++i)
      ids += (i ? ", " : "") + checkpointed[i]->id;
    if (checkpointed.size() > 10) ids += ", ...";
    std::printf(
        "%zu runs stopped with a checkpoint (%s; runs/<id>.ckpt): `ruralsim sweep run %s` "
        "resumes them\n",
        checkpointed.size(), ids.c_str(), p.dir.c_str());
  }
  const std::size_t shown =
      o.has("--failed") ? failures.size() : std::min<std::size_t>(failures.size(), 10);
  for (std::size_t i = 0; i < shown; ++i)
    std::printf("FAILED %s (arm %s, replicate %lld): %s\n", failures[i].first->id.c_str(),
                failures[i].first->arm.c_str(),
                static_cast<long long>(failures[i].first->replicate), failures[i].second.c_str());
  if (shown < failures.size())
    std::printf("... and %zu more failures (all of them: ruralsim sweep status %s --failed)\n",
                failures.size() - shown, p.dir.c_str());
  return 0;
}

int sweep_collect(const Opts& o) {
  const SweepPlan p = load_plan(one_dir(o, "collect"));
  const std::string out = collect_sweep(p, o.has("--partial"));
  std::printf("wrote %s\n", out.c_str());
  return 0;
}

int run_child(std::vector<std::string> argv) {
  std::vector<char*> cargv;
  for (auto& s : argv) cargv.push_back(s.data());
  cargv.push_back(nullptr);
  std::fflush(stdout);
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("cannot start " + argv[0]);
  if (pid == 0) {
    execv(cargv[0], cargv.data());
    std::fprintf(stderr, "error: cannot run %s\n", cargv[0]);
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

int sweep_compare(const std::vector<std::string>& args, const Opts& o) {
  const std::string dir = one_dir(o, "compare");
  const fs::path h5 = fs::path(dir) / "sweep.h5";
  // Collect first when sweep.h5 is missing or older than an output (refuses unfinished sweeps).
  if (collect_if_stale(load_plan(dir))) std::printf("collected %s\n", h5.c_str());
  std::vector<std::string> argv = {"/usr/bin/python3", analysis_dir() + "/sweep_compare.py",
                                   h5.string()};
  bool past_dir = false;
  for (std::size_t i = 2; i < args.size(); ++i) {
    if (!past_dir && args[i] == dir) {
      past_dir = true;
      continue;
    }
    argv.push_back(args[i]);
  }
  if (!o.has("--out")) {
    argv.push_back("--out");
    argv.push_back((fs::path(dir) / "compare").string());
  }
  return run_child(argv);
}

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

int sweep_submit(const Opts& o) {
  const std::string dir = one_dir(o, "submit");
  if (!o.has("--slurm"))
    throw UsageError("ruralsim sweep submit: give --slurm (the only scheduler supported)");
  const SweepPlan p = load_plan(dir);
  const long long per = o.num("--per-task", 1, 1, 1000000);
  const long long cpus = o.num("--cpus-per-task", 1, 1, 1024);
  const long long maxc = o.num("--max-concurrent", 0, 0, 100000);
  const long long tasks = (static_cast<long long>(p.runs.size()) + per - 1) / per;
  const std::string adir = fs::absolute(dir).lexically_normal().string();
  fs::create_directories(fs::path(adir) / "slurm" / "logs");
  std::string s = "#!/bin/bash\n";
  s += "# Slurm job array for sweep '" + p.name + "': " + std::to_string(p.runs.size()) +
       " runs, " + std::to_string(per) + " per task. Written by `ruralsim sweep submit`.\n";
  s += "# Each task runs its slice of the manifest; finished runs are skipped, so the array can\n";
  s += "# be resubmitted after a time-out or failure. SIGTERM (sent 120 s before the time\n";
  s += "# limit, --signal) makes each run in progress write runs/<id>.ckpt at the end of its\n";
  s += "# tick and stop (exit 75); a resubmitted or requeued task resumes from it.\n";
  s += "#SBATCH --job-name=ruralsim-" + p.name + "\n";
  s += "#SBATCH --array=0-" + std::to_string(tasks - 1) +
       (maxc > 0 ? "%" + std::to_string(maxc) : std::string()) + "\n";
  s += "#SBATCH --ntasks=1\n";
  s += "#SBATCH --cpus-per-task=" + std::to_string(cpus) + "\n";
  if (o.has("--time")) s += "#SBATCH --time=" + o.get("--time") + "\n";
  if (o.has("--mem")) s += "#SBATCH --mem=" + o.get("--mem") + "\n";
  if (o.has("--partition")) s += "#SBATCH --partition=" + o.get("--partition") + "\n";
  s += "#SBATCH --output=" + adir + "/slurm/logs/task_%a.log\n";
  s += "#SBATCH --signal=B:TERM@120\n";
  const bool requeue = o.has("--requeue");
  if (requeue) s += "#SBATCH --requeue\n";
  const std::string cmd =
      shell_quote(self_exe()) + " sweep run " + shell_quote(adir) +
      " --task \"$SLURM_ARRAY_TASK_ID\" --per-task " + std::to_string(per) + " --threads-per-run " +
      std::to_string(cpus) +
      (o.has("--checkpoint-every")
           ? " --checkpoint-every " + std::to_string(o.num("--checkpoint-every", 0, 1, 100000000))
           : std::string()) +
      " --quiet";
  if (!requeue) {
    s += "exec " + cmd + "\n";
  } else {
    // The batch shell receives the signal (B:): it passes it on, and when the runs stopped
    // with a checkpoint (exit 75) it puts the task back in the queue to resume them.
    s += cmd + " &\n";
    s += "pid=$!\n";
    s += "trap 'kill -TERM \"$pid\"' TERM\n";
    s += "wait \"$pid\"; rc=$?\n";
    s += "# a wait cut short by the trap returns >128: wait again for the run's own status\n";
    s += "if [ \"$rc\" -gt 128 ]; then wait \"$pid\"; rc=$?; fi\n";
    s += "if [ \"$rc\" -eq 75 ]; then\n";
    s += "  scontrol requeue \"${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}\"\n";
    s += "fi\n";
    s += "exit \"$rc\"\n";
  }
  const fs::path script = fs::path(adir) / "slurm" / "array.sbatch";
  std::ofstream(script) << s;
  fs::permissions(script, fs::perms::owner_exec, fs::perm_options::add);
  std::printf("wrote %s (%lld array tasks)\n", script.string().c_str(), tasks);
  if (o.has("--dry-run")) {
    std::printf("dry run: submit with  sbatch %s\n", script.string().c_str());
    return 0;
  }
  const std::string sbatch = "sbatch --parsable " + shell_quote(script.string());
  FILE* pipe = popen(sbatch.c_str(), "r");
  if (!pipe) throw std::runtime_error("cannot run sbatch");
  char buf[256] = {0};
  std::string outp;
  while (std::fgets(buf, sizeof buf, pipe)) outp += buf;
  const int rc = pclose(pipe);
  if (rc != 0)
    throw std::runtime_error("sbatch failed (exit " + std::to_string(WEXITSTATUS(rc)) +
                             "): " + outp + " (is Slurm installed and sbatch on PATH?)");
  while (!outp.empty() && (outp.back() == '\n' || outp.back() == ' ')) outp.pop_back();
  const std::string job = outp.substr(0, outp.find(';'));
  std::ofstream(fs::path(adir) / "slurm" / "job_id") << job << "\n";
  std::printf("submitted job %s\n", job.c_str());
  return 0;
}

}  // namespace

bool collect_if_stale(const SweepPlan& plan) {
  const fs::path h5 = fs::path(plan.dir) / "sweep.h5";
  bool stale = !fs::exists(h5);
  for (std::size_t i = 0; i < plan.runs.size() && !stale; ++i) {
    const fs::path out = fs::path(plan.dir) / plan.runs[i].output;
    stale = !fs::exists(out) || fs::last_write_time(out) > fs::last_write_time(h5);
  }
  if (stale) collect_sweep(plan, false);
  return stale;
}

int cmd_sweep(const std::vector<std::string>& args) {
  if (args.size() < 2 || args[1] == "--help" || args[1] == "-h" || args[1] == "help") {
    std::fputs(kSweepHelp, args.size() < 2 ? stderr : stdout);
    return args.size() < 2 ? 2 : 0;
  }
  const std::string sub = args[1];
  if (sub == "plan") return sweep_plan(parse(args, 2, sub, {"--out"}, {}));
  if (sub == "run")
    return sweep_run(parse(
        args, 2, sub, {"--jobs", "--threads-per-run", "--task", "--per-task", "--checkpoint-every"},
        {"--quiet"}));
  if (sub == "status") return sweep_status(parse(args, 2, sub, {}, {"--failed"}));
  if (sub == "collect") return sweep_collect(parse(args, 2, sub, {}, {"--partial"}));
  if (sub == "compare")
    return sweep_compare(args,
                         parse(args, 2, sub, {"--baseline", "--metric", "--year", "--out"}, {}));
  if (sub == "submit")
    return sweep_submit(parse(args, 2, sub,
                              {"--partition", "--time", "--cpus-per-task", "--mem",
                               "--max-concurrent", "--per-task", "--checkpoint-every"},
                              {"--slurm", "--dry-run", "--requeue"}));
  throw UsageError("ruralsim sweep: unknown command '" + sub +
                   "'; valid: plan, run, status, collect, compare, submit");
}

}  // namespace ruralsim
