#include "app/report_command.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#ifndef RURALSIM_SOURCE_DIR
#define RURALSIM_SOURCE_DIR "."
#endif

namespace ruralsim {

const char* const kReportHelp =
    R"(usage: ruralsim report RUN.h5 [--out DIR] [--years Y [Y ...]] [--quiet]

Writes DIR/index.html (default DIR: RUN without .h5, plus _report) with the PNG figures beside
it: national dashboard, who gains, Taobao Villages against public figures, village and county
maps, rankings, distributions, interventions on a timeline, provenance. No network is needed
to view it. --years chooses the years of the village maps.

Runs /usr/bin/python3 analysis/report.py of the source tree the binary was built from
(docs/analysis.md). Exit status: 0 success, 2 missing, damaged or foreign file or bad
arguments, 1 other failure. Reports of sweep directories are not supported yet.
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
  const std::filesystem::path script =
      std::filesystem::path(RURALSIM_SOURCE_DIR) / "analysis" / "report.py";
  std::error_code ec;
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
