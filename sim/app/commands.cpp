#include "app/commands.hpp"

#include "app/bench.hpp"

#include <hdf5.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <stop_token>
#include <thread>

#include "app/report_command.hpp"
#include "build_info.hpp"
#include "core/error.hpp"
#include "core/params.hpp"
#include "core/progress.hpp"
#include "git_info.hpp"
#include "io/h5_read.hpp"
#include "io/input_file.hpp"
#include "io/output_path.hpp"
#include "io/provinces.hpp"
#include "io/recorder.hpp"
#include "io/scenario.hpp"
#include "model/outputs.hpp"
#include "policy/intervention.hpp"
#include "policy/intervention_keys.hpp"
#include "run/checkpoint.hpp"
#include "run/limits.hpp"
#include "run/run.hpp"
#include "run/simulation.hpp"
#include "run/verify.hpp"
#include "sweep/archive.hpp"
#include "sweep/sweep.hpp"

namespace ruralsim {
namespace {

std::atomic<int> g_signal{0};
extern "C" void on_signal(int sig) {
  g_signal = sig;
}

struct Interrupted : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Exit status of a run stopped by SIGTERM after writing a checkpoint (EX_TEMPFAIL: try again,
// with --resume).
constexpr int kExitCheckpointed = 75;

const char* const kMainHelp = R"(ruralsim - agent-based simulation of rural e-commerce development

usage: ruralsim <command> [options]

commands:
  run SCENARIO.yaml       run a scenario and write an HDF5 file under outputs/
  validate SCENARIO.yaml  check a scenario (and its village table) without running it
  reproduce FILE.h5       re-run the scenario stored in an output file and compare hashes
  bench SCENARIO.yaml     time a scenario per phase at 1 and N threads (bandwidth, memory)
  report RUN.h5|SWEEP_DIR write an HTML report with figures of a run or a collected sweep
                          (needs /usr/bin/python3)
  calibrate CALIB.yaml    fit parameters to targets through sweeps (docs/calibration.md)
  params [--markdown|--tsv]  list every model parameter (default, unit, range, source)
  outputs [--markdown]    list every output variable
  interventions           list the intervention types (--keys: with every key)
  sweep COMMAND ...       policy sweeps: plan, run, status, collect, compare, submit
                          (ruralsim sweep --help; docs/sweeps.md)
  archive DIR --out F.tar.gz  pack a sweep directory with SHA-256 list, versions, README
  verify PATH             recompute every content hash (archive, directory or .h5 file)
  help [COMMAND]          help for a command

options:
  --version               print the version and exit
  --help                  this text

Exit status: 0 success, 2 bad input or usage, 1 other failure, 130 interrupted,
75 stopped by SIGTERM after writing a checkpoint (run: resume with --resume).
)";

const char* const kRunHelp = R"(usage: ruralsim run SCENARIO.yaml [options]
       ruralsim run [SCENARIO.yaml] --resume CHECKPOINT [options]

  --out FILE          output file (default outputs/<name>_seed<seed>.h5; an existing default
                      file is never overwritten: a numbered name is used instead)
  --overwrite         allow --out to replace an existing file
  --max-memory SIZE   refuse a run whose estimated memory exceeds SIZE (e.g. 8G; default: the
                      memory available on this machine), before building anything
  --seed N            override simulation.seed
  --replicate N       override simulation.replicate
  --threads N         worker threads (default: all cores); results do not depend on it
  --set KEY=VALUE     override any parameter, e.g. --set adoption.beta=5 (repeatable)
  --quiet             no progress line and no summary (errors are still printed)
  --geography-cache DIR  keep built province-table geographies in DIR and reuse them
                      (default: the environment variable RURALSIM_CACHE; unset: no cache)

  --checkpoint-every N  write a checkpoint every N ticks (e.g. 52: yearly), atomically
  --checkpoint FILE   where checkpoints go (default: the output file + .ckpt; with --resume,
                      the checkpoint resumed from); removed when the run completes
  --resume FILE       continue the run saved in checkpoint FILE: the scenario, overrides,
                      output and checkpoint interval come from it (a SCENARIO.yaml, --set,
                      --seed, --replicate given as well must match it). The result is
                      bit-identical to an uninterrupted run (same content hash), for any
                      --threads. A checkpoint of another ruralsim build or scenario, or a
                      damaged one, is refused (exit 2).

The run prints a progress line on stderr and a summary on stdout, and names the HDF5 file.
The file is written under a temporary name and renamed only when complete.
Ctrl-C (SIGINT) stops the run and keeps no file. SIGTERM (what Slurm sends before a time
limit) writes a checkpoint at the end of the tick being run, names it and how to resume, and
exits with status 75.
)";

const char* const kValidateHelp =
    R"(usage: ruralsim validate SCENARIO.yaml [--set KEY=VALUE]... [--max-memory SIZE]

Parses and checks the scenario, builds its geography (reads the village table if any) and
resolves intervention targets. Prints a short description; exit 0 if valid, 2 if not.
)";

const char* const kReproduceHelp =
    R"(usage: ruralsim reproduce FILE.h5 [--threads N] [--keep] [--quiet] [--max-memory SIZE]

First recomputes the content hash of FILE.h5 from its data (exit 1 if it does not match the
stored hash). Then re-runs the resolved scenario stored in FILE.h5 (same seed, replicate and
parameters) and compares the content hash of the new result with the stored one. Exit 0 if they
match, 1 if not. The re-run's file is deleted unless --keep is given (then it is
FILE.reproduced.h5, or FILE.reproduced_2.h5, ... if that exists: an existing file is never
replaced).
--max-memory SIZE as for run.
--quiet drops the progress line.
)";

const char* const kParamsHelp =
    "usage: ruralsim params [--markdown | --tsv]\n\nLists every parameter; --markdown prints "
    "docs/parameters.md; --tsv prints key, kind (real, integer, boolean, text), default, min, "
    "max and unit separated by tabs, for tools.\n";
const char* const kInterventionsHelp =
    "usage: ruralsim interventions [--keys] [--markdown]\n\nLists the intervention types; --keys "
    "adds every key, --markdown prints docs/interventions.md.\n";
const char* const kOutputsHelp =
    "usage: ruralsim outputs [--snapshots] [--markdown]\n\nLists every output variable; "
    "--snapshots lists the fields of the store and livestreamer snapshots (/snapshots/<year>, "
    "output.snapshot_years) instead; --markdown prints the table of docs/outputs.md.\n";

struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> opts;
  std::vector<std::string> sets;
  bool help = false;
};

Args parse_args(const std::vector<std::string>& a, std::size_t from,
                const std::vector<std::string>& with_value, const std::vector<std::string>& flags,
                const std::string& cmd) {
  Args out;
  for (std::size_t i = from; i < a.size(); ++i) {
    const std::string& s = a[i];
    if (s == "--help" || s == "-h") {
      out.help = true;
      continue;
    }
    if (s.rfind("--", 0) == 0) {
      std::string key = s, value;
      const auto eq = s.find('=');
      bool has_value = false;
      if (eq != std::string::npos && s != "--set") {
        key = s.substr(0, eq);
        value = s.substr(eq + 1);
        has_value = true;
      }
      const bool takes = std::find(with_value.begin(), with_value.end(), key) != with_value.end();
      const bool flag = std::find(flags.begin(), flags.end(), key) != flags.end();
      if (!takes && !flag) {
        std::string valid;
        for (const auto& v : with_value) valid += " " + v;
        for (const auto& v : flags) valid += " " + v;
        throw UsageError("ruralsim " + cmd + ": unknown option '" + key +
                         "'; valid options:" + valid + " --help");
      }
      if (flag && has_value)
        throw UsageError("ruralsim " + cmd + ": option " + key + " takes no value (got '" + s +
                         "')");
      if (takes && !has_value) {
        if (i + 1 >= a.size())
          throw UsageError("ruralsim " + cmd + ": option " + key + " needs a value");
        value = a[++i];
      }
      if (key == "--set")
        out.sets.push_back(value);
      else
        out.opts[key] = takes ? value : "1";
    } else {
      out.positional.push_back(s);
    }
  }
  return out;
}

long long int_opt(const Args& a, const std::string& key, long long def, long long lo,
                  long long hi) {
  auto it = a.opts.find(key);
  if (it == a.opts.end()) return def;
  try {
    std::size_t pos = 0;
    const long long v = std::stoll(it->second, &pos);
    if (pos != it->second.size() || v < lo || v > hi) throw std::invalid_argument("range");
    return v;
  } catch (const std::exception&) {
    throw UsageError("option " + key + " = '" + it->second + "': expected a whole number in [" +
                     std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
}

// Refuses a scenario whose estimated memory exceeds --max-memory (default: what is available).
void check_memory(const Args& a, const Scenario& sc) {
  if (a.opts.count("--max-memory")) {
    const std::string& v = a.opts.at("--max-memory");
    enforce_memory_limit(sc, parse_memory_size(v, "--max-memory"), "--max-memory " + v);
  } else {
    enforce_memory_limit(sc, available_memory_bytes(),
                         "the memory available on this machine; --max-memory sets another");
  }
}

std::string default_out(const Scenario& sc) {
  std::string base = "outputs/" + sc.name + "_seed" + std::to_string(sc.params.simulation.seed);
  if (sc.params.simulation.replicate)
    base += "_rep" + std::to_string(sc.params.simulation.replicate);
  std::string path = base + ".h5";
  // A .partial left by a killed run is stale and reused; one being written is skipped.
  for (int k = 2; std::filesystem::exists(path) || file_in_use(path + ".partial"); ++k)
    path = base + "_" + std::to_string(k) + ".h5";
  return path;
}

// The CLI layer over run_scenario(): Ctrl-C stops the run; SIGTERM stops it too, after a
// checkpoint when `base.checkpoint_path` is set; progress on stderr.
RunOutcome execute(const Scenario& sc, const std::string& out_path, int threads, bool quiet,
                   const std::string& command_line, bool overwrite = true,
                   RunOptions opt = RunOptions{}) {
  std::stop_source stop, term;
  opt.threads = threads;
  opt.stop = stop.get_token();
  opt.checkpoint_stop = term.get_token();
  opt.command_line = command_line;
  opt.overwrite = overwrite;
  std::unique_ptr<Progress> shown;
  opt.progress = [&](const RunProgress& p) {
    if (!shown) shown = std::make_unique<Progress>(p.total_ticks, quiet);
    shown->update(p.ticks_done, p.year, p.tick_in_year, p.stores, p.taobao_villages);
  };
  g_signal = 0;
  auto old_int = std::signal(SIGINT, on_signal);
  auto old_term = std::signal(SIGTERM, on_signal);
  // Signals become stop requests, seen by the run at the next tick boundary.
  std::jthread watch([&](std::stop_token st) {
    while (!st.stop_requested()) {
      const int sig = g_signal.load();
      if (sig == SIGTERM)
        term.request_stop();
      else if (sig != 0)
        stop.request_stop();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  auto restore = [&] {
    watch.request_stop();
    watch.join();
    if (shown) shown->finish();
    std::signal(SIGINT, old_int);
    std::signal(SIGTERM, old_term);
  };
  try {
    RunOutcome o = run_scenario(sc, out_path, opt);
    restore();
    return o;
  } catch (const RunStopped&) {
    restore();
    throw Interrupted("interrupted by signal " + std::to_string(g_signal.load()));
  } catch (...) {
    restore();
    throw;
  }
}

void print_summary(const Scenario& sc, const RunOutcome& o) {
  std::printf("\nruralsim %s | scenario '%s' | seed %lld | %lld years x %lld ticks\n",
              build::kVersion, sc.name.c_str(), static_cast<long long>(sc.params.simulation.seed),
              static_cast<long long>(sc.params.simulation.years),
              static_cast<long long>(sc.params.simulation.ticks_per_year));
  std::printf("%6s %10s %8s %6s %14s %14s %9s %8s %12s %10s %6s\n", "year", "stores", "TaobaoV",
              "towns", "sales RMB", "livestream RMB", "stations", "centres", "streamers",
              "income/hh", "gini");
  for (const auto& y : o.years)
    std::printf("%6d %10.0f %8.0f %6.0f %14.4g %14.4g %9.0f %8.0f %12.0f %10.0f %6.3f\n", y.year,
                y.stores, y.tv, y.towns, y.sales, y.live, y.stations, y.centres, y.streamers,
                y.income, y.gini);
  std::printf("\nwall time %s, peak memory %.0f MiB\n", format_duration(o.wall).c_str(),
              peak_rss_mib());
  if (o.resumed_at > 0) std::printf("resumed at tick %d\n", o.resumed_at);
  if (o.checkpoints > 0)
    std::printf("%d checkpoints written in %s (the last %.1f MiB); removed at the end\n",
                o.checkpoints, format_duration(o.checkpoint_seconds).c_str(),
                static_cast<double>(o.checkpoint_bytes) / (1024.0 * 1024.0));
  std::printf("wrote %s\ncontent hash %s\n", o.path.c_str(), o.hash.c_str());
}

int cmd_run(const std::vector<std::string>& argv) {
  const Args a = parse_args(argv, 1,
                            {"--out", "--seed", "--replicate", "--threads", "--set", "--max-memory",
                             "--geography-cache", "--checkpoint-every", "--checkpoint", "--resume"},
                            {"--quiet", "--overwrite"}, "run");
  if (a.opts.count("--geography-cache")) set_geography_cache_dir(a.opts.at("--geography-cache"));
  if (a.help) {
    std::fputs(kRunHelp, stdout);
    return 0;
  }
  const bool resume = a.opts.count("--resume") > 0;
  if (a.positional.size() != 1 && !(resume && a.positional.empty()))
    throw UsageError("ruralsim run: expected one scenario file\n\n" + std::string(kRunHelp));
  std::vector<std::string> sets;
  if (a.opts.count("--seed"))
    sets.push_back("simulation.seed=" +
                   std::to_string(int_opt(a, "--seed", 0, 0, 9000000000000000000LL)));
  if (a.opts.count("--replicate"))
    sets.push_back("simulation.replicate=" +
                   std::to_string(int_opt(a, "--replicate", 0, 0, 1000000000)));
  sets.insert(sets.end(), a.sets.begin(), a.sets.end());
  const int threads = static_cast<int>(int_opt(a, "--threads", 0, 1, 1024));
  const bool quiet = a.opts.count("--quiet") > 0;
  if (a.opts.count("--out")) check_output_path(a.opts.at("--out"), "--out");
  RunOptions ro;
  ro.checkpoint_every = static_cast<int>(int_opt(a, "--checkpoint-every", 0, 1, 100000000));
  if (resume) {
    ro.resume = Checkpoint::load(a.opts.at("--resume"));
    if (!a.opts.count("--checkpoint-every"))
      ro.checkpoint_every = ro.resume->info().checkpoint_every;
  }
  Scenario sc = resume && a.positional.empty() ? ro.resume->scenario(sets)
                                               : load_scenario(a.positional[0], sets);
  if (resume) ro.resume->check_compatible(sc);
  check_memory(a, sc);
  std::string out;
  if (a.opts.count("--out")) {
    out = a.opts.at("--out");
    if (std::filesystem::exists(out) && !a.opts.count("--overwrite"))
      throw InputError("--out " + out +
                       ": exists already; choose another --out or add --overwrite");
  } else if (resume) {
    out = ro.resume->info().out_path;
    if (std::filesystem::exists(out) && !a.opts.count("--overwrite"))
      throw InputError("--resume " + ro.resume->path() + ": the output " + out +
                       " exists already (the run was completed); add --overwrite to replace it");
  } else {
    out = default_out(sc);
  }
  ro.checkpoint_path = a.opts.count("--checkpoint") ? a.opts.at("--checkpoint")
                       : resume                     ? ro.resume->path()
                                                    : out + ".ckpt";
  std::string cmdline = "ruralsim";
  for (const auto& s : argv) cmdline += " " + s;
  RunOutcome o;
  try {
    o = execute(sc, out, threads, quiet, cmdline, a.opts.count("--overwrite") > 0, ro);
  } catch (const RunCheckpointed& c) {
    std::fprintf(stderr,
                 "\nruralsim: SIGTERM: stopped after tick %d of %d and wrote the checkpoint %s\n"
                 "resume with: ruralsim run --resume %s\n",
                 c.ticks_done, c.total_ticks, c.checkpoint.c_str(), c.checkpoint.c_str());
    return kExitCheckpointed;
  }
  if (!quiet)
    print_summary(sc, o);
  else
    std::printf("%s\n", o.path.c_str());
  return 0;
}

// One line per intervention entry: name, type, window and what it targets.
void print_intervention_targets(const Scenario& sc, const World& w) {
  for (const auto& iv : sc.interventions) {
    auto value = [&](const char* key) -> std::string {
      for (const auto& k : iv->keys)
        if (k.key == key) return k.value;
      return "";
    };
    std::string window;
    const std::string start = value("start_year"), years = value("years"),
                      from = value("from_year");
    if (!start.empty()) {
      window = start + " for " + years + " years";
      if (!value("half_life_years").empty() && value("half_life_years") != "0")
        window += ", then decays (half-life " + value("half_life_years") + " years)";
    } else if (!from.empty()) {
      window = "from " + from;
    }
    std::string targets = "national rules";
    const std::size_t i = static_cast<std::size_t>(iv->index);
    if (i < w.intervention_targets.size() && !start.empty()) {
      const auto& t = w.intervention_targets[i];
      targets = std::to_string(t.size()) + " counties (" + value("rule") + "):";
      std::size_t villages = 0;
      for (std::size_t k = 0; k < t.size(); ++k) {
        if (k < 12) targets += " " + std::to_string(w.geo.county_code[t[k]]);
        villages += w.geo.county_village_end[t[k]] - w.geo.county_village_begin[t[k]];
      }
      if (t.size() > 12) targets += " ...";
      targets += "; " + std::to_string(villages) + " villages";
    }
    std::printf("  interventions[%d] '%s' (%s): %s; targets %s\n", iv->index, iv->name.c_str(),
                iv->type().c_str(), window.c_str(), targets.c_str());
  }
}

int cmd_validate(const std::vector<std::string>& argv) {
  const Args a =
      parse_args(argv, 1, {"--set", "--max-memory", "--geography-cache"}, {}, "validate");
  if (a.opts.count("--geography-cache")) set_geography_cache_dir(a.opts.at("--geography-cache"));
  if (a.help) {
    std::fputs(kValidateHelp, stdout);
    return 0;
  }
  if (a.positional.size() != 1) throw UsageError("ruralsim validate: expected one scenario file");
  Scenario sc = load_scenario(a.positional[0], a.sets);
  check_memory(a, sc);
  World w = build_world(sc);
  for (const auto& iv : sc.interventions) iv->initialize(w, sc.params, run_seed(sc.params));
  long long hh = 0;
  for (auto h : w.geo.households) hh += h;
  std::printf(
      "%s: valid. scenario '%s': %zu provinces, %zu counties, %zu towns, %zu villages, %lld "
      "households; "
      "%lld-%lld, %lld ticks/year; %zu interventions\n",
      sc.path.c_str(), sc.name.c_str(), w.geo.provinces(), w.geo.counties(), w.geo.towns(),
      w.geo.villages(), hh, static_cast<long long>(sc.params.simulation.start_year),
      static_cast<long long>(sc.params.simulation.start_year + sc.params.simulation.years - 1),
      static_cast<long long>(sc.params.simulation.ticks_per_year), sc.interventions.size());
  print_intervention_targets(sc, w);
  return 0;
}

// Removes a file when the scope ends (the temporary copies made by `reproduce`).
struct RemoveAtExit {
  std::filesystem::path path;
  ~RemoveAtExit() {
    std::error_code ec;
    if (!path.empty()) std::filesystem::remove(path, ec);
  }
};

// FILE.reproduced.h5, or FILE.reproduced_2.h5, ... : an existing file is never replaced.
std::filesystem::path keep_path(const std::string& file) {
  const std::filesystem::path base = std::filesystem::path(file).replace_extension("");
  std::filesystem::path p = base.string() + ".reproduced.h5";
  for (int k = 2; std::filesystem::exists(p) || file_in_use(p.string() + ".partial"); ++k)
    p = base.string() + ".reproduced_" + std::to_string(k) + ".h5";
  return p;
}

int cmd_reproduce(const std::vector<std::string>& argv) {
  const Args a = parse_args(argv, 1, {"--threads", "--max-memory", "--geography-cache"},
                            {"--keep", "--quiet"}, "reproduce");
  if (a.opts.count("--geography-cache")) set_geography_cache_dir(a.opts.at("--geography-cache"));
  if (a.help) {
    std::fputs(kReproduceHelp, stdout);
    return 0;
  }
  if (a.positional.size() != 1) throw UsageError("ruralsim reproduce: expected one .h5 file");
  const std::string file = a.positional[0];
  const int threads = static_cast<int>(int_opt(a, "--threads", 0, 1, 1024));
  // Every read checks class, rank and size first, in a child process that a hostile file
  // cannot crash or hang the command through.
  const ProvenanceStrings prov = read_provenance(file);
  // The stored data must match the stored hash before a re-run is compared with it.
  if (const FileCheck c = verify_result_file(file); !c.ok && !c.stored.empty()) {
    std::printf(
        "%s\nSTORED DATA DO NOT VERIFY: the file's data do not match its own content "
        "hash; no re-run made\n",
        c.message.c_str());
    return 1;
  }
  const std::string &resolved = prov.scenario_resolved, &stored_hash = prov.content_hash,
                    &dir = prov.scenario_dir, &version = prov.ruralsim_version,
                    &commit = prov.git_commit, &csv_text = prov.geography_csv;
  const bool has_csv = prov.has_geography_csv;
  // The village table travels inside the file: the re-run reads that copy, so a moved or
  // edited CSV cannot change the result. The copy is removed however the re-run ends.
  RemoveAtExit csv_copy;
  if (has_csv) {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "ruralsim-reproduce-XXXXXX.csv").string();
    const int fd = mkstemps(tmpl.data(), 4);
    if (fd < 0) throw std::runtime_error("cannot create a temporary file in " + tmpl);
    csv_copy.path = tmpl;
    const bool ok =
        ::write(fd, csv_text.data(), csv_text.size()) == static_cast<ssize_t>(csv_text.size());
    if (::close(fd) != 0 || !ok)
      throw std::runtime_error("cannot write the temporary village table " + tmpl);
  }
  std::vector<std::string> sets;
  if (has_csv) sets.push_back("geography.csv=" + csv_copy.path.string());
  Scenario sc = parse_scenario(resolved, file + ":/provenance/scenario_resolved", dir, sets);
  check_memory(a, sc);
  const bool keep = a.opts.count("--keep") > 0;
  RemoveAtExit rerun;
  std::filesystem::path out;
  if (keep) {
    out = keep_path(file);
  } else {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "ruralsim-reproduce-XXXXXX.h5").string();
    const int fd = mkstemps(tmpl.data(), 3);
    if (fd < 0) throw std::runtime_error("cannot create a temporary file in " + tmpl);
    ::close(fd);
    out = tmpl;
    rerun.path = out;
  }
  const RunOutcome o =
      execute(sc, out.string(), threads, a.opts.count("--quiet") > 0, "ruralsim reproduce " + file);
  if (keep) std::printf("kept the re-run as %s\n", out.string().c_str());
  const bool same = o.hash == stored_hash;
  std::printf("stored   %s (ruralsim %s, commit %s)\nrerun    %s (ruralsim %s, commit %s)\n%s\n",
              stored_hash.c_str(), version.c_str(), commit.c_str(), o.hash.c_str(), build::kVersion,
              build::kGitCommit,
              same ? "MATCH: the run is reproduced bit for bit" : "MISMATCH: the results differ");
  return same ? 0 : 1;
}

// The listing commands take no positional arguments.
void no_positional(const Args& a, const char* cmd, const char* usage) {
  if (!a.positional.empty())
    throw UsageError(std::string("ruralsim ") + cmd + ": unexpected argument '" +
                     escape_bytes(a.positional[0]) + "'\n\n" + usage);
}

int cmd_params(const std::vector<std::string>& argv) {
  const Args a = parse_args(argv, 1, {}, {"--markdown", "--tsv"}, "params");
  if (a.help) {
    std::fputs(kParamsHelp, stdout);
    return 0;
  }
  no_positional(a, "params", kParamsHelp);
  if (a.opts.count("--markdown")) {
    std::fputs(params_markdown().c_str(), stdout);
    return 0;
  }
  Params d;
  if (a.opts.count("--tsv")) {
    for (const auto& s : param_table()) {
      const ParamRef r = s.ref(d);
      const char* kind = std::holds_alternative<double*>(r)         ? "real"
                         : std::holds_alternative<std::int64_t*>(r) ? "integer"
                         : std::holds_alternative<bool*>(r)         ? "boolean"
                                                                    : "text";
      std::printf("%s\t%s\t%s\t%.17g\t%.17g\t%s\n", s.key, kind, param_value_text(s, d).c_str(),
                  s.min, s.max, s.unit);
    }
    return 0;
  }
  for (const auto& s : param_table())
    std::printf("%-40s %-14s %-15s %s\n", s.key, param_value_text(s, d).c_str(), s.unit, s.doc);
  return 0;
}

int cmd_outputs(const std::vector<std::string>& argv) {
  const Args a = parse_args(argv, 1, {}, {"--markdown", "--snapshots"}, "outputs");
  if (a.help) {
    std::fputs(kOutputsHelp, stdout);
    return 0;
  }
  no_positional(a, "outputs", kOutputsHelp);
  if (a.opts.count("--snapshots")) {
    if (a.opts.count("--markdown")) {
      std::fputs(snapshots_markdown().c_str(), stdout);
      return 0;
    }
    for (const auto& f : snapshot_table())
      std::printf("%-14s %-17s %-8s %-10s %s\n", snapshot_group_name(f.group), f.name,
                  snapshot_type(f), f.unit, f.description);
    return 0;
  }
  if (a.opts.count("--markdown")) {
    std::fputs(outputs_markdown().c_str(), stdout);
    return 0;
  }
  int wn = 0, wu = 0;
  for (const auto& v : output_table()) {
    wn = std::max(wn, static_cast<int>(std::strlen(v.name)));
    wu = std::max(wu, static_cast<int>(std::strlen(v.unit)));
  }
  for (const auto& v : output_table())
    std::printf("%-*s  %-*s  %s\n", wn, v.name, wu, v.unit, v.description);
  return 0;
}

int cmd_interventions(const std::vector<std::string>& argv) {
  const Args a = parse_args(argv, 1, {}, {"--markdown", "--keys"}, "interventions");
  if (a.help) {
    std::fputs(kInterventionsHelp, stdout);
    return 0;
  }
  no_positional(a, "interventions", kInterventionsHelp);
  if (a.opts.count("--markdown")) {
    std::fputs(interventions_markdown().c_str(), stdout);
    return 0;
  }
  for (const auto& t : intervention_registry()) {
    std::printf("%-26s %s\n", t.name, t.doc);
    if (a.opts.count("--keys"))
      for (const auto& k : intervention_keys(t.name))
        std::printf("    %-28s %-8s %-12s %-22s %s\n", k.key.c_str(), k.kind.c_str(), k.def.c_str(),
                    k.range.c_str(), k.doc.c_str());
  }
  return 0;
}

}  // namespace

int cli_main(const std::vector<std::string>& args) {
  // Files are closed explicitly (or deliberately abandoned after a write error, e.g. a full
  // disk); HDF5's own atexit clean-up would try to flush an abandoned file again and crash.
  H5dont_atexit();
  try {
    if (args.empty()) {
      std::fputs(kMainHelp, stderr);
      return 2;
    }
    const std::string& cmd = args[0];
    if (cmd == "--help" || cmd == "-h") {
      std::fputs(kMainHelp, stdout);
      return 0;
    }
    if (cmd == "--version") {
      std::printf("ruralsim %s (commit %s, %s build, %s)\n", build::kVersion, build::kGitCommit,
                  build::kBuildType, build::kCompiler);
      return 0;
    }
    if (cmd == "help") {
      const std::string sub = args.size() > 1 ? args[1] : "";
      if (args.size() > 2)
        throw UsageError("ruralsim help: expected at most one command, got '" +
                         escape_bytes(args[2]) + "' as well");
      if (sub == "run")
        std::fputs(kRunHelp, stdout);
      else if (sub == "validate")
        std::fputs(kValidateHelp, stdout);
      else if (sub == "reproduce")
        std::fputs(kReproduceHelp, stdout);
      else if (sub == "params")
        std::fputs(kParamsHelp, stdout);
      else if (sub == "outputs")
        std::fputs(kOutputsHelp, stdout);
      else if (sub == "interventions")
        std::fputs(kInterventionsHelp, stdout);
      else if (sub == "bench")
        std::fputs(kBenchHelp, stdout);
      else if (sub == "report")
        std::fputs(kReportHelp, stdout);
      else if (sub == "calibrate")
        std::fputs(kCalibrateHelp, stdout);
      else if (sub.empty() || sub == "help")
        std::fputs(kMainHelp, stdout);
      else
        throw UsageError("ruralsim help: unknown command '" + escape_bytes(sub) +
                         "'; valid commands: run, validate, reproduce, params, outputs, "
                         "interventions, bench, report, calibrate, help");
      return 0;
    }
    if (cmd == "run") return cmd_run(args);
    if (cmd == "validate") return cmd_validate(args);
    if (cmd == "reproduce") return cmd_reproduce(args);
    if (cmd == "params") return cmd_params(args);
    if (cmd == "outputs") return cmd_outputs(args);
    if (cmd == "interventions") return cmd_interventions(args);
    if (cmd == "sweep") return cmd_sweep(args);
    if (cmd == "archive") return cmd_archive(args);
    if (cmd == "verify") return cmd_verify(args);
    if (cmd == "bench") return cmd_bench(args);
    if (cmd == "report") return cmd_report(args);
    if (cmd == "calibrate") return cmd_calibrate(args);
    throw UsageError(
        "ruralsim: unknown command '" + escape_bytes(cmd) +
        "'; valid commands: run, validate, reproduce, sweep, archive, verify, params, outputs, "
        "interventions, bench, report, calibrate, help");
  } catch (const UsageError& e) {
    std::fprintf(stderr, "error: %s\n", escape_bytes(e.what(), true).c_str());
    return 2;
  } catch (const InputError& e) {
    std::fprintf(stderr, "error: %s\n", escape_bytes(e.what(), true).c_str());
    return 2;
  } catch (const Interrupted& e) {
    std::fprintf(stderr, "\nruralsim: %s; no output file was kept\n", e.what());
    return 130;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", escape_bytes(e.what(), true).c_str());
    return 1;
  }
}

}  // namespace ruralsim
