// Running a planned sweep: what is not finished, several runs at once (each in its own task
// arena), failures recorded per run; status from the files themselves.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "core/error.hpp"
#include "core/progress.hpp"
#include "io/scenario.hpp"
#include "run/checkpoint.hpp"
#include "run/run.hpp"
#include "run/verify.hpp"
#include "sweep/sweep.hpp"

namespace fs = std::filesystem;

namespace ruralsim {
namespace {

fs::path failed_file(const SweepPlan& plan, const PlannedRun& r) {
  return fs::path(plan.dir) / "failed" / (r.id + ".txt");
}

// runs/<id>.ckpt next to runs/<id>.h5.
fs::path checkpoint_file(const SweepPlan& plan, const PlannedRun& r) {
  return (fs::path(plan.dir) / r.output).replace_extension(".ckpt");
}

// True when a live process holds the run's output lock.
bool lock_held(const std::string& out) {
  const std::string path = out + ".lock";
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return false;
  const bool held = ::flock(fd, LOCK_EX | LOCK_NB) != 0;
  if (!held) ::flock(fd, LOCK_UN);
  ::close(fd);
  return held;
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

RunStatus run_status(const SweepPlan& plan, const PlannedRun& r, bool verify) {
  RunStatus st;
  const std::string out = (fs::path(plan.dir) / r.output).string();
  if (lock_held(out)) {
    st.state = RunState::Running;
    return st;
  }
  if (fs::exists(out)) {
    const auto attrs = result_attrs(out);
    if (!verify) {
      st.state = attrs.count("content_hash") ? RunState::Finished : RunState::Failed;
    } else {
      const FileCheck c = verify_result_file(out);
      st.state = c.ok ? RunState::Finished : RunState::Failed;
      st.message = c.ok ? "" : "output does not verify: " + c.message;
    }
    if (attrs.count("content_hash")) st.content_hash = attrs.at("content_hash");
    if (attrs.count("wall_seconds")) st.wall = std::atof(attrs.at("wall_seconds").c_str());
    return st;
  }
  const fs::path ff = failed_file(plan, r);
  if (fs::exists(ff)) {
    st.state = RunState::Failed;
    st.message = read_text(ff);
    while (!st.message.empty() && st.message.back() == '\n') st.message.pop_back();
  }
  st.checkpoint = fs::exists(checkpoint_file(plan, r));
  return st;
}

SweepRunResult run_sweep(const SweepPlan& plan, const SweepRunOptions& opt) {
  const auto t0 = std::chrono::steady_clock::now();
  SweepRunResult res;
  std::vector<std::size_t> todo;
  std::vector<std::size_t> consider = opt.only;
  if (consider.empty())
    for (std::size_t i = 0; i < plan.runs.size(); ++i) consider.push_back(i);
  for (std::size_t i : consider) {
    const RunStatus st = run_status(plan, plan.runs[i]);
    if (st.state == RunState::Finished || st.state == RunState::Running)
      ++res.skipped;
    else
      todo.push_back(i);
  }
  fs::create_directories(fs::path(plan.dir) / "failed");
  std::atomic<std::size_t> next{0};
  std::atomic<int> running{0}, done{0}, failed{0}, stopped{0}, checkpointed{0}, resumed{0};
  const auto halted = [&] {
    return opt.stop.stop_requested() || opt.checkpoint_stop.stop_requested();
  };
  std::mutex mu;
  double run_seconds = 0;
  auto worker = [&] {
    for (;;) {
      const std::size_t k = next.fetch_add(1);
      if (k >= todo.size() || halted()) return;
      const PlannedRun& r = plan.runs[todo[k]];
      const fs::path out = fs::path(plan.dir) / r.output;
      const fs::path ff = failed_file(plan, r);
      ++running;
      try {
        const fs::path scen = fs::path(plan.dir) / r.scenario_file;
        const Scenario sc = parse_scenario(read_text(scen), scen.string(), plan.scenario_dir);
        RunOptions ro;
        ro.threads = opt.threads_per_run;
        ro.stop = opt.stop;
        ro.overwrite = true;  // an output that does not verify is replaced
        ro.command_line = "ruralsim sweep run " + plan.dir + " (run " + r.id + ")";
        ro.checkpoint_path = checkpoint_file(plan, r).string();
        ro.checkpoint_every = opt.checkpoint_every;
        ro.checkpoint_stop = opt.checkpoint_stop;
        // A checkpoint left by a stopped task: continue from it. One that cannot be used (another
        // build, a damaged file) is set aside and the run starts again (same result).
        if (fs::exists(ro.checkpoint_path)) {
          try {
            ro.resume = Checkpoint::load(ro.checkpoint_path);
            ro.resume->check_compatible(sc);
            ++resumed;
          } catch (const CheckpointRefused& e) {
            ro.resume.reset();
            if (!opt.quiet)
              std::fprintf(stderr, "%s; run %s starts again\n", e.what(), r.id.c_str());
          }
        }
        const auto r0 = std::chrono::steady_clock::now();
        run_scenario(sc, out.string(), ro);
        // the whole call, with writing the content hash and closing the file
        const double secs =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - r0).count();
        std::error_code ec;
        fs::remove(ff, ec);
        std::lock_guard<std::mutex> g(mu);
        run_seconds += secs;
        ++done;
      } catch (const RunCheckpointed&) {
        ++stopped;
        ++checkpointed;
      } catch (const RunStopped&) {
        ++stopped;
      } catch (const OutputBusy&) {
        // another process runs it: not ours to record
      } catch (const std::exception& e) {
        std::ofstream(ff) << e.what() << "\n";
        ++failed;
      }
      --running;
    }
  };
  const int jobs = std::max(1, std::min<int>(opt.jobs, static_cast<int>(todo.size())));
  std::vector<std::jthread> pool;
  for (int j = 0; j < jobs && !todo.empty(); ++j) pool.emplace_back(worker);
  const bool tty = isatty(fileno(stderr));
  const std::size_t total = plan.runs.size();
  auto line = [&](bool final) {
    if (opt.quiet) return;
    const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const int d = done, f = failed, run = running;
    const std::size_t left = todo.size() - std::min<std::size_t>(todo.size(), d + f);
    std::string eta = "?";
    if (d + f > 0) {
      // runs finish about `jobs` at a time: remaining runs x time per run / jobs
      const double per_run = el / (d + f);
      eta = format_duration(per_run * static_cast<double>(left));
    }
    std::fprintf(
        stderr,
        "%ssweep %s: done %zu/%zu | running %d | failed %d | left %zu | elapsed %s | ETA %s%s",
        tty ? "\r" : "", plan.name.c_str(), static_cast<std::size_t>(res.skipped + d), total, run,
        f, left, format_duration(el).c_str(), final ? "0s" : eta.c_str(),
        tty && !final ? "\033[K" : "\n");
    std::fflush(stderr);
  };
  int ticks = 0;
  while (true) {
    if (done + failed + stopped >= static_cast<int>(todo.size()) || todo.empty()) break;
    if (halted() && running == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (++ticks % (tty ? 5 : 100) == 0) line(false);
  }
  pool.clear();  // joins
  line(true);
  res.ran = done + failed;
  res.finished = done;
  res.failed = failed;
  res.stopped = stopped;
  res.checkpointed = checkpointed;
  res.resumed = resumed;
  res.run_seconds = run_seconds;
  res.wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return res;
}

}  // namespace ruralsim
