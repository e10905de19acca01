#include "run/run.hpp"

#include <fcntl.h>
#include <hdf5.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/version.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/version.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "build_info.hpp"
#include "core/error.hpp"
#include "core/sha256.hpp"
#include "git_info.hpp"
#include "io/input_file.hpp"
#include "io/recorder.hpp"
#include "run/checkpoint.hpp"
#include "run/simulation.hpp"

namespace ruralsim {
namespace {

std::string iso_now() {
  const auto t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

std::string host_name() {
  char buf[256] = {0};
  if (gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

std::string hdf5_version() {
  unsigned a = 0, b = 0, c = 0;
  H5get_libversion(&a, &b, &c);
  return std::to_string(a) + "." + std::to_string(b) + "." + std::to_string(c);
}

// Exclusive lock on `<out>.lock`, held for the whole run. flock() locks die with the process,
// so a lock file left behind by a killed run does not block the next one.
class OutputLock {
 public:
  explicit OutputLock(const std::string& out) : path_(out + ".lock") {
    const auto parent = std::filesystem::path(path_).parent_path();
    if (!parent.empty()) {
      std::error_code ec;
      std::filesystem::create_directories(parent, ec);
      if (ec)
        throw InputError(out + ": cannot create directory '" + parent.string() +
                         "': " + ec.message());
    }
    for (int attempt = 0; attempt < 100; ++attempt) {
      fd_ = ::open(path_.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
      if (fd_ < 0)
        throw InputError(out + ": cannot create the lock file '" + path_ +
                         "': " + std::strerror(errno));
      if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        const int err = errno;
        ::close(fd_);
        fd_ = -1;
        if (err == EWOULDBLOCK)
          throw OutputBusy(out + ": another run is writing this file (lock " + path_ +
                           " is held); choose another output");
        throw InputError(out + ": cannot lock '" + path_ + "': " + std::strerror(err));
      }
      // The holder before us may have removed the lock file after we opened it: then our lock
      // is on a deleted file, and we start again with a fresh one.
      struct stat a {
      }, b{};
      if (::fstat(fd_, &a) == 0 && ::stat(path_.c_str(), &b) == 0 && a.st_ino == b.st_ino &&
          a.st_dev == b.st_dev)
        return;
      ::close(fd_);
      fd_ = -1;
    }
    throw InputError(out + ": cannot take the lock '" + path_ + "'");
  }
  ~OutputLock() {
    if (fd_ < 0) return;
    ::unlink(path_.c_str());  // still holding the lock: nobody else can be using this file
    ::close(fd_);
  }
  OutputLock(const OutputLock&) = delete;
  OutputLock& operator=(const OutputLock&) = delete;

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace

double peak_rss_mib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024.0;
}

RunOutcome run_scenario(const Scenario& sc, const std::string& out_path, const RunOptions& opt) {
  const auto t0 = std::chrono::steady_clock::now();
  std::string start_time = iso_now();
  if (opt.resume) opt.resume->check_compatible(sc);
  OutputLock lock(out_path);
  if (std::filesystem::exists(out_path) && !opt.overwrite)
    throw InputError(out_path + ": exists already; choose another output or allow overwriting");
  Provenance prov;
  // The village table is read for the provenance before the run, as the model reads it.
  if (sc.params.geography.source != "generate") {
    prov.geography_csv = read_input_file(sc.csv_path, "the village table", kMaxVillageTableBytes);
    prov.attrs["geography_csv_sha256"] = sha256_hex(prov.geography_csv);
    prov.attrs["geography_csv_path"] = std::filesystem::absolute(sc.csv_path).string();
  }

  tbb::task_arena arena(opt.threads > 0 ? opt.threads : tbb::task_arena::automatic);
  arena.initialize();
  const int used_threads = arena.max_concurrency();
  RunOutcome outcome;
  outcome.threads = used_threads;
  arena.execute([&] {
    Simulation sim(sc);
    Recorder rec(out_path, sim.world(), static_cast<int>(sc.params.simulation.ticks_per_year),
                 static_cast<int>(sc.params.simulation.start_year));
    sim.set_recorder(&rec);
    double wall_before = 0;
    if (opt.resume) {
      opt.resume->restore(sim, &rec);
      outcome.years = opt.resume->info().years;
      outcome.resumed_at = opt.resume->info().tick;
      wall_before = opt.resume->info().wall;
      start_time = opt.resume->info().start_time;
    }
    const auto wall_now = [&] {
      return wall_before +
             std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    };
    const auto checkpoint = [&](const Simulation& s) {
      const auto c0 = std::chrono::steady_clock::now();
      CheckpointInfo info;
      info.scenario_path = sc.path;
      std::error_code ec;
      info.scenario_dir =
          std::filesystem::absolute(std::filesystem::path(sc.path).parent_path(), ec).string();
      if (opt.resume) info.scenario_dir = opt.resume->info().scenario_dir;
      info.scenario_input = sc.text;
      info.scenario_resolved = resolved_yaml(sc);
      info.overrides = sc.overrides;
      info.out_path = std::filesystem::absolute(out_path, ec).string();
      info.checkpoint_every = opt.checkpoint_every;
      info.start_time = start_time;
      info.wall = wall_now();
      info.years = outcome.years;
      outcome.checkpoint_bytes = write_checkpoint(opt.checkpoint_path, sc, s, &rec, info);
      ++outcome.checkpoints;
      outcome.checkpoint_seconds +=
          std::chrono::duration<double>(std::chrono::steady_clock::now() - c0).count();
    };
    const auto iv = [&](const char* n) { return sim.var_index(n); };
    const std::size_t i_stores = iv("stores"), i_tv = iv("taobao_villages"),
                      i_towns = iv("taobao_towns"), i_sales = iv("sales_total"),
                      i_live = iv("sales_livestream"), i_st = iv("stations"),
                      i_cc = iv("county_centres"), i_ls = iv("livestreamers"),
                      i_inc = iv("mean_household_income"), i_gini = iv("gini_income");
    sim.run([&](const Simulation& s) {
      if (opt.stop.stop_requested()) throw RunStopped("stopped");
      const Record& r = s.last_record();
      const int done = s.clock().tick;
      if (r.tick == done - 1) {
        const int year =
            static_cast<int>(sc.params.simulation.start_year) + r.tick / s.clock().ticks_per_year;
        if (outcome.years.empty() || outcome.years.back().year != year)
          outcome.years.push_back({year});
        YearRow& y = outcome.years.back();
        y.stores = r.national[i_stores];
        y.tv = r.national[i_tv];
        y.towns = r.national[i_towns];
        y.sales += r.national[i_sales];
        y.live += r.national[i_live];
        y.stations = r.national[i_st];
        y.centres = r.national[i_cc];
        y.streamers = r.national[i_ls];
        y.income = r.national[i_inc];
        y.gini = r.national[i_gini];
        if (opt.progress)
          opt.progress({done, s.clock().total_ticks, year, (done - 1) % s.clock().ticks_per_year,
                        y.stores, y.tv});
      }
      // At a tick boundary: a checkpoint when due or asked for (not after the last tick).
      const bool term = opt.checkpoint_stop.stop_requested();
      if (term && opt.checkpoint_path.empty() && !s.finished()) throw RunStopped("stopped");
      if (!s.finished() && !opt.checkpoint_path.empty()) {
        const bool due = opt.checkpoint_every > 0 && done % opt.checkpoint_every == 0;
        if (due || term) checkpoint(s);
        if (term) throw RunCheckpointed(opt.checkpoint_path, done, s.clock().total_ticks);
      }
    });
    outcome.wall = wall_now();
    prov.scenario_input = sc.text;
    prov.scenario_resolved = resolved_yaml(sc);
    auto& a = prov.attrs;
    a["ruralsim_version"] = build::kVersion;
    a["git_commit"] = build::kGitCommit;
    a["build_type"] = build::kBuildType;
    a["compiler"] = build::kCompiler;
    a["hdf5_version"] = hdf5_version();
    a["tbb_version"] =
        std::to_string(TBB_runtime_interface_version()) + " (" + TBB_VERSION_STRING + ")";
    a["boost_version"] = BOOST_LIB_VERSION;
    a["yaml_cpp_version"] = build::kYamlCppVersion;
    a["seed"] = std::to_string(sc.params.simulation.seed);
    a["replicate"] = std::to_string(sc.params.simulation.replicate);
    a["threads"] = std::to_string(used_threads);
    a["host"] = host_name();
    a["start_time"] = start_time;
    a["end_time"] = iso_now();
    a["wall_seconds"] = std::to_string(outcome.wall);
    a["peak_rss_mib"] = std::to_string(peak_rss_mib());
    a["scenario_name"] = sc.name;
    a["scenario_file"] = sc.path;
    std::error_code ec;
    a["scenario_dir"] =
        opt.resume
            ? opt.resume->info().scenario_dir
            : std::filesystem::absolute(std::filesystem::path(sc.path).parent_path(), ec).string();
    if (opt.resume) a["resumed_from"] = opt.resume->path();
    std::string ovs;
    for (const auto& o : sc.overrides) ovs += (ovs.empty() ? "" : " ") + o;
    a["overrides"] = ovs;
    a["command_line"] = opt.command_line;
    outcome.hash = rec.commit(sim.world().events, prov);
    outcome.path = rec.final_path();
  });
  // The run is complete: its checkpoint is of no further use.
  if (!opt.checkpoint_path.empty()) {
    std::error_code ec;
    std::filesystem::remove(opt.checkpoint_path, ec);
  }
  return outcome;
}

}  // namespace ruralsim
