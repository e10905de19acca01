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
}

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
  if (!std::filesystem::is_regular_file(script, ec)) {
    std::fprintf(stderr,
                 "error: ruralsim report: %s not found (the report needs the source tree this "
                 "binary was built from)\n",
                 script.c_str());
    return 1;
  }
  if (::access(kPython, X_OK) != 0) {
    std::fprintf(stderr,
                 "error: ruralsim report: %s not found; install the Debian packages listed in "
                 "run.sh (./run.sh build)\n",
                 kPython);
    return 1;
  }
  // A sweep is collected first when needed (refuses unfinished runs: exit status 2).
  if (sweep && collect_if_stale(load_plan(target)))
    std::fprintf(stderr, "collected %s\n", (std::filesystem::path(target) / "sweep.h5").c_str());
  std::vector<std::string> argv_s = {kPython, script.string()};
  argv_s.insert(argv_s.end(), args.begin() + 1, args.end());
  std::vector<char*> argv;
  argv.reserve(argv_s.size() + 1);
  for (auto& s : argv_s) argv.push_back(s.data());
  argv.push_back(nullptr);
  // Messages of the script then name the command the user typed.
  ::setenv("RURALSIM_REPORT_PROG", "ruralsim report", 1);
  std::fflush(stdout);
  std::fflush(stderr);
  ::execv(kPython, argv.data());
  std::fprintf(stderr, "error: ruralsim report: cannot start %s: %s\n", kPython,
               std::strerror(errno));
  return 1;
}

}  // namespace ruralsim
