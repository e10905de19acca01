// `ruralsim bench`: the scenario run at 1 and N threads in one process, timed per phase of the
// tick, with agent updates per second, bytes moved per update (from the data layout), a
// STREAM-triad probe of the machine's memory bandwidth, HDF5 write rate and peak memory.
#include "app/bench.hpp"

#include <oneapi/tbb/global_control.h>
#include <sys/resource.h>
#include <tbb/parallel_for.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

#include "core/error.hpp"
#include "io/provinces.hpp"
#include "io/recorder.hpp"
#include "io/scenario.hpp"
#include "model/outputs.hpp"
#include "run/limits.hpp"
#include "run/simulation.hpp"

namespace ruralsim {

const char* const kBenchHelp =
    R"(usage: ruralsim bench SCENARIO.yaml [--threads N] [--json FILE] [--set KEY=VALUE]...
                      [--geography-cache DIR] [--max-memory SIZE]

Runs the scenario twice in one process, at 1 thread and at N threads (default: all cores;
once if N is 1), from the same built world, and prints per phase of the tick (adoption,
livestream, market, logistics, accounting, exit, recognition, recording): seconds, share of
the run, agent updates per second, bytes moved per update (an estimate from the data layout),
the bandwidth this implies and its fraction of a STREAM-triad probe run in the same process at
the same thread count; then the HDF5 write rate, peak memory and the 1 -> N speedup. The two
runs must give the same content hash (it is checked). --json FILE also writes the figures as
JSON. Output files go to a temporary directory and are deleted.
)";

namespace {

const char* const kPhaseName[kPhaseCount] = {"adoption",    "livestream", "market",
                                             "logistics",   "accounting", "exit",
                                             "recognition", "recording"};

// Bytes read plus written per update, from the layout of MerchantStore, StreamerStore and the
// village state (sim/model/world.hpp). Per store: adoption = the rebuild copy of the 49 bytes
// of state (read and write); market = attractiveness (alive, category, quality, reputation,
// brand, type in; attract out) and sales (attract in, sales_org out, sales_live in);
// livestream = the promoted stores' attract and category in and sales_live out; logistics =
// category, sales_org, sales_live in; accounting = sales in, employees, reputation, profit,
// sales, calendar-year sales and livestream sales, loss ticks read and written, base_rel, type,
// brand, birth tick in; exit = alive and
// loss ticks; recording = the tallies (alive, type, base_rel, profit_year, sales_year).
// Per village: the per-village state, caches and village quantities each phase reads and
// writes at every tick (villages without stores: the sparse flows and the values kept between
// ticks are not touched). Adoption: capacity, stores, access and spillover flags, strength,
// internet, u, u_nbr, tau in; adopt_p, eligible, considering, new stores out; the rebuild's
// offsets. Market: offsets. Logistics: offsets, base income, households, internet, station,
// node cost, delivery days, parcels_year in and out, two dense flows in and out. Accounting:
// offsets, households, stores, flags; neighbour sums where a store is in sight; the market
// prior's inputs (strength, delivery factor, Taobao flag, specialty, multipliers, shipping
// cost); u_nbr and expected profit out. Recording: the stock inputs (households, base income,
// internet, station, Taobao flag, commission, stores, offsets), two dense flows in and out,
// the touched flag.
// Per livestreamer: skill, followers, commission, session scratch, alive.
struct PhaseBytes {
  double store, village, streamer;
};
constexpr PhaseBytes kLayoutBytes[kPhaseCount] = {
    {98, 8 + 4 + 3 + 8 + 8 + 8 + 8 + 8 + 8 + 4 + 4 + 4 + 16, 0},         // adoption
    {13, 0, 2 * (4 + 8 + 8 + 8 + 1)},                                    // livestream
    {1 + 1 + 4 + 4 + 4 + 1 + 4 + 4 + 4 + 8, 16, 0},                      // market
    {1 + 4 + 8, 8 + 8 + 4 + 8 + 1 + 8 + 8 + 16 + 32 + 1, 0},             // logistics
    {8 + 4 + 2 * (4 + 4 + 4 + 4 + 4 + 4 + 2) + 4 + 1 + 4 + 4, 90, 0},    // accounting
    {2 + 2 * 2, 8, 0},                                                   // exit
    {0, 64, 0},                                                          // recognition (year ends)
    {1 + 1 + 4 + 4 + 4 + 4, 4 + 8 + 8 + 1 + 1 + 8 + 4 + 8 + 32 + 1, 0},  // recording (records)
};

double peak_rss_mib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024.0;
}

// STREAM triad a = b + s*c over three arrays of n doubles, best of `reps`; GB/s counting 24
// bytes per element (the STREAM convention).
double triad_gbs(std::size_t n, int reps) {
  std::unique_ptr<double[]> a(new double[n]), b(new double[n]), c(new double[n]);
  const tbb::blocked_range<std::size_t> all(0, n, 1 << 15);
  tbb::parallel_for(all, [&](const auto& r) {
    for (auto i = r.begin(); i != r.end(); ++i) {
      a[i] = 0.0;
      b[i] = 1.0;
      c[i] = 2.0;
    }
  });
  double best = 1e30;
  for (int k = 0; k < reps; ++k) {
    const auto t0 = std::chrono::steady_clock::now();
    tbb::parallel_for(all, [&](const auto& r) {
      for (auto i = r.begin(); i != r.end(); ++i) a[i] = b[i] + 3.0 * c[i];
    });
    best = std::min(best,
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  volatile double sink = a[n / 2];
  (void)sink;
  return 24.0 * static_cast<double>(n) / best / 1e9;
}

struct RunStats {
  int threads = 1;
  double triad = 0;  // GB/s at this thread count
  double wall = 0, commit_seconds = 0, h5_bytes = 0;
  PhaseSeconds t{};
  double store_ticks = 0, village_ticks = 0, streamer_ticks = 0, year_end_villages = 0,
         record_villages = 0;
  // ticks at which villages moved to new store slots / all were laid out anew
  int store_moves = 0, store_relayouts = 0;
  std::string hash;
  // per phase: updates, bytes
  double updates(int ph) const {
    switch (ph) {
      case kPhaseLivestream:
        return streamer_ticks;
      case kPhaseRecognition:
        return year_end_villages;
      case kPhaseRecording:
        return record_villages;
      case kPhaseAdoption:
        return store_ticks + village_ticks;
      default:
        return store_ticks;
    }
  }
  double bytes(int ph) const {
    const PhaseBytes& b = kLayoutBytes[ph];
    const double villages = ph == kPhaseRecognition ? year_end_villages
                            : ph == kPhaseRecording ? record_villages
                                                    : village_ticks;
    const double stores =
        ph == kPhaseRecording ? record_villages > 0 ? store_ticks : 0 : store_ticks;
    return b.store * stores + b.village * villages + b.streamer * streamer_ticks;
  }
};

RunStats bench_run(const Scenario& sc, const World& world, int threads,
                   const std::filesystem::path& dir) {
  RunStats s;
  s.threads = threads;
  tbb::global_control gc(tbb::global_control::max_allowed_parallelism,
                         static_cast<std::size_t>(threads));
  s.triad = triad_gbs(std::size_t{1} << 23, 5);
  const auto t0 = std::chrono::steady_clock::now();
  Simulation sim(sc, world);
  const std::string out = (dir / ("bench_t" + std::to_string(threads) + ".h5")).string();
  Recorder rec(out, sim.world(), static_cast<int>(sc.params.simulation.ticks_per_year),
               static_cast<int>(sc.params.simulation.start_year));
  sim.set_recorder(&rec);
  sim.set_phase_timer(&s.t);
  const auto& p = sc.params;
  const double nv = static_cast<double>(sim.world().geo.villages());
  std::size_t slots = sim.world().m.size();
  std::chrono::steady_clock::duration counting{};
  while (!sim.finished()) {
    const bool year_end = sim.clock().year_end();
    const bool records = (sim.clock().tick + 1) % p.output.every == 0 ||
                         sim.clock().tick + 1 == sim.clock().total_ticks;
    sim.step();
    // Counting the stores is the benchmark's own work: kept out of the wall time.
    const auto tcount = std::chrono::steady_clock::now();
    const auto& m = sim.world().m;
    std::uint64_t entries = 0, owned = 0;
    bool ordered = true;  // slots in village order (as after a layout; a move breaks it)
    for (std::size_t v = 0; v < m.end.size(); ++v) {
      entries += m.entries(v);
      owned += m.limit[v] - m.offset[v];
      if (v > 0 && m.offset[v] < m.limit[v - 1]) ordered = false;
    }
    s.store_ticks += static_cast<double>(entries);
    if (m.size() != slots) {  // villages moved to new slots, or all were laid out anew
      ++(ordered && owned == m.size() ? s.store_relayouts : s.store_moves);
      slots = m.size();
    }
    counting += std::chrono::steady_clock::now() - tcount;
    s.streamer_ticks += static_cast<double>(sim.world().ls.size());
    s.village_ticks += nv;
    if (year_end) s.year_end_villages += nv;
    if (records) s.record_villages += nv;
  }
  const auto tc = std::chrono::steady_clock::now();
  Provenance prov;
  prov.scenario_input = sc.text;
  prov.scenario_resolved = resolved_yaml(sc);
  s.hash = rec.commit(sim.world().events, prov);
  const auto t1 = std::chrono::steady_clock::now();
  s.commit_seconds = std::chrono::duration<double>(t1 - tc).count();
  s.wall = std::chrono::duration<double>(t1 - t0 - counting).count();
  std::error_code ec;
  s.h5_bytes = static_cast<double>(std::filesystem::file_size(rec.final_path(), ec));
  std::filesystem::remove(rec.final_path(), ec);
  return s;
}

std::string jnum(double x) {
  if (!std::isfinite(x)) return "null";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.6g", x);
  return buf;
}

struct TempDir {
  std::filesystem::path path;
  ~TempDir() {
    std::error_code ec;
    if (!path.empty()) std::filesystem::remove_all(path, ec);
  }
};

}  // namespace

int cmd_bench(const std::vector<std::string>& argv) {
  std::string scenario, json;
  std::vector<std::string> sets;
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::string max_memory;
  for (std::size_t i = 1; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argv.size()) throw UsageError("ruralsim bench: option " + a + " needs a value");
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      std::fputs(kBenchHelp, stdout);
      return 0;
    } else if (a == "--threads") {
      const std::string v = value();
      char* end = nullptr;
      const long n = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end || n < 1 || n > 1024)
        throw UsageError("option --threads = '" + v + "': expected a whole number in [1, 1024]");
      threads = static_cast<int>(n);
    } else if (a == "--json") {
      json = value();
    } else if (a == "--set") {
      sets.push_back(value());
    } else if (a == "--geography-cache") {
      set_geography_cache_dir(value());
    } else if (a == "--max-memory") {
      max_memory = value();
    } else if (a.rfind("--", 0) == 0) {
      throw UsageError("ruralsim bench: unknown option '" + a +
                       "'; valid options: --threads --json --set --geography-cache "
                       "--max-memory --help");
    } else if (scenario.empty()) {
      scenario = a;
    } else {
      throw UsageError("ruralsim bench: expected one scenario file");
    }
  }
  if (scenario.empty())
    throw UsageError("ruralsim bench: expected one scenario file\n\n" + std::string(kBenchHelp));
  const Scenario sc = load_scenario(scenario, sets);
  if (max_memory.empty())
    enforce_memory_limit(sc, available_memory_bytes(), "the memory available on this machine");
  else
    enforce_memory_limit(sc, parse_memory_size(max_memory, "--max-memory"),
                         "--max-memory " + max_memory);
  TempDir tmp;
  {
    std::string tmpl = (std::filesystem::temp_directory_path() / "ruralsim-bench-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("cannot create a temporary directory");
    tmp.path = tmpl;
  }
  const auto tg = std::chrono::steady_clock::now();
  const World world = build_world(sc);
  const double build_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - tg).count();
  std::printf("ruralsim bench | scenario '%s' | %zu villages | %d ticks | geography %.2f s\n",
              sc.name.c_str(), world.geo.villages(),
              static_cast<int>(sc.params.simulation.years * sc.params.simulation.ticks_per_year),
              build_seconds);
  // Each run is printed as soon as it ends (a national run takes minutes).
  const auto print_run = [&](const RunStats& r) {
    std::printf(
        "\n%d thread%s: wall %.2f s, triad %.2f GB/s, stores per tick %.0f (mean); ticks at which "
        "villages moved to new store slots %d, all laid out anew %d\n",
        r.threads, r.threads > 1 ? "s" : "", r.wall, r.triad,
        r.store_ticks / std::max(1.0, r.village_ticks / static_cast<double>(world.geo.villages())),
        r.store_moves, r.store_relayouts);
    std::printf("  %-12s %9s %6s %12s %8s %8s %8s\n", "phase", "seconds", "share", "updates/s",
                "B/upd", "GB/s", "triad");
    double total = 0;
    for (double x : r.t) total += x;
    for (int ph = 0; ph < kPhaseCount; ++ph) {
      const double sec = r.t[ph], up = r.updates(ph), by = r.bytes(ph);
      std::printf("  %-12s %9.3f %5.1f%% %12.4g %8.1f %8.3f %7.1f%%\n", kPhaseName[ph], sec,
                  100.0 * sec / std::max(1e-12, total), up / std::max(1e-12, sec),
                  up > 0 ? by / up : 0.0, by / std::max(1e-12, sec) / 1e9,
                  100.0 * by / std::max(1e-12, sec) / 1e9 / r.triad);
    }
    std::printf("  HDF5: %.0f bytes, %.3g bytes/s over recording and commit (%.3f s commit)\n",
                r.h5_bytes, r.h5_bytes / std::max(1e-12, r.t[kPhaseRecording] + r.commit_seconds),
                r.commit_seconds);
    std::fflush(stdout);
  };
  std::vector<RunStats> runs;
  runs.push_back(bench_run(sc, world, 1, tmp.path));
  print_run(runs.back());
  if (threads > 1) {
    runs.push_back(bench_run(sc, world, threads, tmp.path));
    print_run(runs.back());
  }
  for (const auto& r : runs)
    if (r.hash != runs.front().hash)
      throw std::runtime_error("bench: the runs at 1 and " + std::to_string(r.threads) +
                               " threads gave different content hashes");
  const double peak = peak_rss_mib();
  if (runs.size() > 1)
    std::printf("\nspeedup 1 -> %d threads: %.2f (wall)\n", runs[1].threads,
                runs[0].wall / runs[1].wall);
  std::printf("peak memory %.0f MiB\ncontent hash %s\n", peak, runs.front().hash.c_str());

  if (!json.empty()) {
    std::ostringstream j;
    j << "{\n  \"scenario\": \"" << sc.name << "\",\n  \"villages\": " << world.geo.villages()
      << ",\n  \"ticks\": " << sc.params.simulation.years * sc.params.simulation.ticks_per_year
      << ",\n  \"geography_seconds\": " << jnum(build_seconds)
      << ",\n  \"peak_rss_mib\": " << jnum(peak) << ",\n  \"content_hash\": \"" << runs.front().hash
      << "\",\n  \"runs\": [";
    for (std::size_t k = 0; k < runs.size(); ++k) {
      const auto& r = runs[k];
      double total = 0;
      for (double x : r.t) total += x;
      j << (k ? "," : "") << "\n    {\"threads\": " << r.threads
        << ", \"wall_seconds\": " << jnum(r.wall) << ", \"triad_gbs\": " << jnum(r.triad)
        << ", \"hdf5_bytes\": " << jnum(r.h5_bytes) << ", \"hdf5_bytes_per_second\": "
        << jnum(r.h5_bytes / std::max(1e-12, r.t[kPhaseRecording] + r.commit_seconds))
        << ", \"commit_seconds\": " << jnum(r.commit_seconds)
        << ", \"store_moves\": " << r.store_moves << ", \"store_relayouts\": " << r.store_relayouts
        << ",\n     \"phases\": {";
      for (int ph = 0; ph < kPhaseCount; ++ph) {
        const double sec = r.t[ph], up = r.updates(ph), by = r.bytes(ph);
        const double gbs = by / std::max(1e-12, sec) / 1e9;
        j << (ph ? "," : "") << "\n       \"" << kPhaseName[ph] << "\": {\"seconds\": " << jnum(sec)
          << ", \"share\": " << jnum(sec / std::max(1e-12, total)) << ", \"updates\": " << jnum(up)
          << ", \"updates_per_second\": " << jnum(up / std::max(1e-12, sec))
          << ", \"bytes_per_update\": " << jnum(up > 0 ? by / up : 0.0)
          << ", \"gbs\": " << jnum(gbs) << ", \"triad_fraction\": " << jnum(gbs / r.triad) << "}";
      }
      j << "}}";
    }
    j << "\n  ],\n  \"speedup\": {";
    if (runs.size() > 1) {
      j << "\"threads\": " << runs[1].threads
        << ", \"wall\": " << jnum(runs[0].wall / runs[1].wall);
      for (int ph = 0; ph < kPhaseCount; ++ph)
        j << ", \"" << kPhaseName[ph]
          << "\": " << jnum(runs[0].t[ph] / std::max(1e-12, runs[1].t[ph]));
    }
    j << "}\n}\n";
    std::ofstream f(json);
    f << j.str();
    if (!f) throw InputError("--json " + json + ": cannot write the file");
  }
  return 0;
}

}  // namespace ruralsim
