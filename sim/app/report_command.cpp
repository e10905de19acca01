#include "app/report_command.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "sweep/sweep.hpp"

#ifndef RURALSIM_SOURCE_DIR
#define RURALSIM_SOURCE_DIR "."
#endif

namespace ruralsim {

const char* const kReportHelp =
    R"(usage: ruralsim report RUN.h5 [--out DIR] [--years Y [Y ...]] [--quiet]
       ruralsim report SWEEP_DIR [--out DIR] [--baseline ARM] [--metric M]... [--quiet]

Writes DIR/index.html (default DIR: RUN without .h5, plus _report) with the PNG figures beside
it: national dashboard, who gains, Taobao Villages against public figures, village and county
maps, rankings, distributions, interventions on a timeline, provenance. No network is needed
to view it. --years chooses the years of the village maps.

Runs /usr/bin/python3 analysis/report.py of the source tree the binary was built from
(docs/analysis.md). Exit status: 0 success, 2 missing, damaged or foreign file or bad
arguments, 1 other failure.

For a sweep directory (ruralsim sweep plan), collects the sweep first when DIR/sweep.h5 is
missing or older than a run's output (refusing unfinished sweeps, exit status 2), then writes
DIR/index.html (default DIR: SWEEP_DIR/report) with time paths per arm with replicate bands,
the effects of `sweep compare` (table and forest plot) and, for a Latin hypercube or Sobol
design, a sensitivity table (SRC and PRCC) with a tornado plot (analysis/sweep_report.py).
)";

namespace {
constexpr const char* kPython = "/usr/bin/python3";

// Replaces the process with /usr/bin/python3 SCRIPT ARGS[1:]; returns 1 only when that fails.
// PROG_ENV names the command for the script's messages; RURALSIM_BIN is this binary, so that a
// script that calls ruralsim runs the same build.
int exec_python_tool(const std::filesystem::path& script, const std::vector<std::string>& args,
                     const char* prog, const char* prog_env) {
  std::vector<std::string> argv_s = {kPython, script.string()};
  argv_s.insert(argv_s.end(), args.begin() + 1, args.end());
  std::vector<char*> argv;
  argv.reserve(argv_s.size() + 1);
  for (auto& s : argv_s) argv.push_back(s.data());
  argv.push_back(nullptr);
  ::setenv(prog_env, prog, 1);
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) ::setenv("RURALSIM_BIN", self.c_str(), 1);
  std::fflush(stdout);
  std::fflush(stderr);
  ::execv(kPython, argv.data());
  std::fprintf(stderr, "error: %s: cannot start %s: %s\n", prog, kPython, std::strerror(errno));
  return 1;
}

// The script of this source tree, or an error naming what is missing (1).
bool tool_available(const std::filesystem::path& script, const char* prog) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(script, ec)) {
    std::fprintf(stderr,
                 "error: %s: %s not found (the command needs the source tree this binary was "
                 "built from)\n",
                 prog, script.c_str());
    return false;
  }
  if (::access(kPython, X_OK) != 0) {
    std::fprintf(stderr,
                 "error: %s: %s not found; install the Debian packages listed in run.sh "
                 "(./run.sh build)\n",
                 prog, kPython);
    return false;
  }
  return true;
}
}  // namespace

int cmd_report(const std::vector<std::string>& args) {
  for (std::size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--help" || args[i] == "-h") {
      std::fputs(kReportHelp, stdout);
      return 0;
    }
  }
  // The first argument that is not an option (or an option's value) is the file or directory.
  std::error_code ec;
  std::string target;
  for (std::size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--out" || args[i] == "--baseline" || args[i] == "--metric") {
      ++i;
      continue;
    }
    if (args[i].rfind("--", 0) == 0) continue;
    target = args[i];
    break;
  }
  const bool sweep = !target.empty() && std::filesystem::is_directory(target, ec);
  const std::filesystem::path script = std::filesystem::path(RURALSIM_SOURCE_DIR) / "analysis" /
                                       (sweep ? "sweep_report.py" : "report.py");
  if (!tool_available(script, "ruralsim report")) return 1;
  // A sweep is collected first when needed (refuses unfinished runs: exit status 2).
  if (sweep && collect_if_stale(load_plan(target)))
    std::fprintf(stderr, "collected %s\n", (std::filesystem::path(target) / "sweep.h5").c_str());
  return exec_python_tool(script, args, "ruralsim report", "RURALSIM_REPORT_PROG");
}

const char* const kCalibrateHelp =
    R"(usage: ruralsim calibrate CALIBRATION.yaml [--out DIR] [--jobs N] [--threads-per-run T]
                          [--slurm] [--check] [--quiet]

Fits free parameters of a base scenario to targets (docs/calibration.md): a space-filling
first stage (Sobol or Latin hypercube) and a second stage of Optuna trials (TPE or CMA-ES) in
batches, every point run for several replicates with common random numbers through the sweep
commands (ruralsim sweep plan/run/collect, or sweep submit with --slurm). Writes DIR (default:
the calibration file's name under calibrations/): trail.csv, fitted.yaml, targets.csv,
targets.md, figures/ and the sweeps. Running the same command again continues where it
stopped; a changed calibration file is refused for an existing DIR.

--check validates the calibration file and prints the plan without running anything.
Runs /usr/bin/python3 analysis/calibrate.py of the source tree the binary was built from (needs
the Debian package python3-optuna). Exit status: 0 success, 2 bad calibration file or
arguments, 1 failed runs or other failure, 130 interrupted.
)";

int cmd_calibrate(const std::vector<std::string>& args) {
  for (std::size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--help" || args[i] == "-h") {
      std::fputs(kCalibrateHelp, stdout);
      return 0;
    }
  }
  const std::filesystem::path script =
      std::filesystem::path(RURALSIM_SOURCE_DIR) / "analysis" / "calibrate.py";
  if (!tool_available(script, "ruralsim calibrate")) return 1;
  return exec_python_tool(script, args, "ruralsim calibrate", "RURALSIM_CALIBRATE_PROG");
}

}  // namespace ruralsim
