#pragma once
#include <string>
#include <vector>

namespace ruralsim {

// Help text of `ruralsim report`.
extern const char* const kReportHelp;

// `ruralsim report RUN.h5 [--out DIR] [--years Y...] [--quiet]`: replaces the process with
// /usr/bin/python3 <source dir>/analysis/report.py and the arguments after `report`, so the
// exit status is the script's (0 ok, 2 unusable file or bad arguments). Returns only on error
// (1: the interpreter or the script cannot be started).
int cmd_report(const std::vector<std::string>& args);

// Help text of `ruralsim calibrate`.
extern const char* const kCalibrateHelp;

// `ruralsim calibrate CALIBRATION.yaml [options]`: replaces the process with /usr/bin/python3
// <source dir>/analysis/calibrate.py (docs/calibration.md), which drives the sweep commands of
// this binary (its path is passed in RURALSIM_BIN). Returns only on error (1).
int cmd_calibrate(const std::vector<std::string>& args);

}  // namespace ruralsim
