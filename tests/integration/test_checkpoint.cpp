// Checkpoint and restart (run/checkpoint.hpp): a resumed run gives the content hash of an
// uninterrupted one at several cut points, with 1 and 2 threads and with interventions; every
// state field is saved and restored; damaged, truncated, foreign and hostile checkpoints are
// refused with a message.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "build_info.hpp"
#include "core/sha256.hpp"
#include "run/checkpoint.hpp"
#include "run/run.hpp"
#include "run/simulation.hpp"
#include "support.hpp"

using namespace ruralsim;
namespace fs = std::filesystem;

namespace {

fs::path temp_dir(const std::string& name) {
  auto d =
      fs::temp_directory_path() / ("ruralsim-test-ckpt-" + name + "-" + std::to_string(getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// policy_mix (three programmes from 2016 and 2019) at monthly ticks: 156 ticks.
Scenario policy_scenario(const std::vector<std::string>& extra = {}) {
  std::vector<std::string> sets = {"simulation.ticks_per_year=12"};
  sets.insert(sets.end(), extra.begin(), extra.end());
  return test::scenario_file("scenarios/policy_mix.yaml", sets);
}

// Runs `sc` with a checkpoint requested after `cut` ticks; returns the checkpoint's path.
std::string run_until(const Scenario& sc, const fs::path& dir, int cut, int threads,
                      const std::string& tag) {
  const std::string out = (dir / (tag + ".h5")).string();
  RunOptions o;
  o.threads = threads;
  o.checkpoint_path = (dir / (tag + ".ckpt")).string();
  std::stop_source term;
  o.checkpoint_stop = term.get_token();
  o.progress = [&](const RunProgress& p) {
    if (p.ticks_done == cut) term.request_stop();
  };
  int stopped_at = -1;
  try {
    run_scenario(sc, out, o);
  } catch (const RunCheckpointed& c) {
    stopped_at = c.ticks_done;
    CHECK(c.checkpoint == o.checkpoint_path);
  }
  REQUIRE(stopped_at == cut);
  CHECK_FALSE(fs::exists(out));
  CHECK_FALSE(fs::exists(out + ".partial"));
  CHECK(fs::exists(o.checkpoint_path));
  return o.checkpoint_path;
}

RunOutcome resume(const Scenario& sc, const std::string& ckpt, const fs::path& out, int threads) {
  RunOptions o;
  o.threads = threads;
  o.resume = Checkpoint::load(ckpt);
  o.checkpoint_path = ckpt;
  return run_scenario(sc, out.string(), o);
}

// Byte-wise comparison of every state field (recursively through state_fields()); returns the
// number of fields that differ.
template <class T>
int differing(const T& a, const T& b) {
  if constexpr (requires { T::state_fields(); }) {
    int n = 0;
    std::apply([&](auto... f) { ((n += differing(a.*f, b.*f)), ...); }, T::state_fields());
    return n;
  } else if constexpr (requires {
                         a.size();
                         a[0];
                       }) {
    if (a.size() != b.size()) return 1;
    using E = std::decay_t<decltype(a[0])>;
    if constexpr (std::is_trivially_copyable_v<E>) {
      return a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(E)) == 0 ? 0 : 1;
    } else {
      int n = 0;
      for (std::size_t i = 0; i < a.size(); ++i) n += differing(a[i], b[i]);
      return n;
    }
  } else {
    return std::memcmp(&a, &b, sizeof(T)) == 0 ? 0 : 1;
  }
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void spit(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
}

// Recomputes the trailing SHA-256 after an edit, so that only the content checks can refuse.
void reseal(std::string& data) {
  Sha256 sha;
  sha.update(data.data(), data.size() - 32);
  const auto d = sha.digest();
  std::memcpy(data.data() + data.size() - 32, d.data(), 32);
}

std::string refusal(const std::string& path) {
  try {
    Checkpoint::load(path);
  } catch (const CheckpointRefused& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE(
    "a resumed run has the content hash of an uninterrupted one (cut points, 1 and 2 "
    "threads, interventions, snapshots)",
    "[checkpoint]") {
  const auto dir = temp_dir("cuts");
  // Store and livestreamer snapshots at the end of 2015 (written before three of the cuts) and
  // of the last year.
  const Scenario sc = policy_scenario({"output.snapshot_years=[2015, last]"});
  REQUIRE(sc.interventions.size() == 3);
  RunOptions plain;
  plain.threads = 2;
  const RunOutcome full = run_scenario(sc, (dir / "full.h5").string(), plain);
  // tick 1; a year end (84 = end of 2015); inside the station programme and the 2019 windows
  // (the yearly actions of 2019 happen at tick 120); the last tick before the end.
  for (int cut : {1, 84, 121, 155}) {
    for (int threads : {1, 2}) {
      DYNAMIC_SECTION("cut after tick " << cut << ", " << threads << " threads") {
        const std::string tag = "c" + std::to_string(cut) + "t" + std::to_string(threads);
        const std::string ck = run_until(sc, dir, cut, threads, tag);
        // resumed with the other thread count: checkpoints do not depend on it
        const RunOutcome r = resume(sc, ck, dir / (tag + ".h5"), 3 - threads);
        CHECK(r.hash == full.hash);
        CHECK(r.resumed_at == cut);
        CHECK(r.years.size() == full.years.size());
        CHECK(r.years.back().sales == full.years.back().sales);
        CHECK_FALSE(fs::exists(ck));  // removed once the run completed
      }
    }
  }
  fs::remove_all(dir);
}

TEST_CASE("a resumed run is exact when the county series writes smaller blocks than the national",
          "[checkpoint]") {
  // 3,600 counties (4 provinces of 900) of one village: a county record (3,600 counties x the
  // variables x 8 bytes) is over 1 MiB, so the county series writes blocks of fewer than 64
  // records while the national one writes 64; cut after 70 weekly ticks, when the two have
  // different records on disk (restoring both at the national count failed: 58 on disk).
  const auto dir = temp_dir("blocks");
  const Scenario sc = test::scenario_file(
      "scenarios/tiny.yaml", {"geography.provinces=4", "geography.counties_per_province=900",
                              "geography.towns_per_county=1", "geography.villages_per_town=1",
                              "simulation.years=2", "simulation.ticks_per_year=52"});
  RunOptions plain;
  plain.threads = 2;
  const RunOutcome full = run_scenario(sc, (dir / "full.h5").string(), plain);
  const std::string ck = run_until(sc, dir, 70, 2, "c70");
  const RunOutcome r = resume(sc, ck, dir / "c70.h5", 1);
  CHECK(r.hash == full.hash);
  CHECK(r.resumed_at == 70);
  fs::remove_all(dir);
}

TEST_CASE("periodic checkpoints leave the result unchanged, and a run resumes from the last one",
          "[checkpoint]") {
  const auto dir = temp_dir("periodic");
  // recording every 5 ticks: checkpoints at 13, 26, ... fall between records, with flows pending
  const Scenario sc = policy_scenario({"output.every=5"});
  RunOptions plain;
  plain.threads = 2;
  const RunOutcome full = run_scenario(sc, (dir / "full.h5").string(), plain);
  RunOptions o;
  o.threads = 2;
  o.checkpoint_every = 13;
  o.checkpoint_path = (dir / "p.ckpt").string();
  const RunOutcome with = run_scenario(sc, (dir / "p.h5").string(), o);
  CHECK(with.hash == full.hash);
  CHECK(with.checkpoints == 11);  // ticks 13, 26, ..., 143 (not after the last one)
  CHECK_FALSE(fs::exists(o.checkpoint_path));
  // a run killed after tick 40 leaves the checkpoint of tick 39, which resumes it
  std::string saved;
  o.progress = [&](const RunProgress& p) {
    if (p.ticks_done == 40) {
      saved = slurp(o.checkpoint_path);
      throw std::runtime_error("killed");
    }
  };
  CHECK_THROWS(run_scenario(sc, (dir / "k.h5").string(), o));
  REQUIRE(!saved.empty());
  spit((dir / "k.ckpt").string(), saved);
  const auto ck = Checkpoint::load((dir / "k.ckpt").string());
  CHECK(ck->info().tick == 39);
  RunOptions r;
  r.threads = 1;
  r.resume = ck;
  CHECK(run_scenario(sc, (dir / "k.h5").string(), r).hash == full.hash);
  fs::remove_all(dir);
}

TEST_CASE("a checkpoint restores every state field of the World", "[checkpoint]") {
  const auto dir = temp_dir("fields");
  const Scenario sc = policy_scenario();
  Simulation a(sc);
  for (int i = 0; i < 125; ++i) a.step();
  const std::string path = (dir / "w.ckpt").string();
  write_checkpoint(path, sc, a, nullptr, CheckpointInfo{});
  Simulation b(sc);
  CHECK(differing(a.world(), b.world()) > 0);  // the fresh world is another state
  Checkpoint::load(path)->restore(b, nullptr);
  CHECK(b.clock().tick == 125);
  CHECK(differing(a.world(), b.world()) == 0);
  CHECK(differing(a.world().m, b.world().m) == 0);
  CHECK(differing(a.world().v, b.world().v) == 0);
  std::uint64_t stores = 0, first = 0;
  for (std::size_t v = a.world().geo.villages(); v-- > 0;)
    if (a.world().m.entries(v) > 0) {
      stores += a.world().m.entries(v);
      first = a.world().m.offset[v];  // ends as the first entry of the first village with stores
    }
  CHECK(stores > 100);
  CHECK(!a.world().events.empty());
  // the comparison sees a change in any one field (here of a store)
  World& w = b.world();
  REQUIRE(w.m.alive[first] == 1);
  w.m.base_rel[first] += 1.0f;
  CHECK(differing(a.world(), w) == 1);
  w.m.base_rel[first] = a.world().m.base_rel[first];
  w.v.station_subsidised_until[3] += 1;
  CHECK(differing(a.world(), w) == 1);
  w.v.station_subsidised_until[3] -= 1;
  w.intervention_targets[0][0] += 1;
  CHECK(differing(a.world(), w) == 1);
  w.intervention_targets[0][0] -= 1;
  // and both continue identically
  for (int i = 0; i < 10; ++i) {
    a.step();
    b.step();
  }
  CHECK(differing(a.world(), b.world()) == 0);
  CHECK(test::same_bits(a.last_record().county, b.last_record().county));
  fs::remove_all(dir);
}

TEST_CASE("checkpoints of another scenario, version or damaged ones are refused", "[checkpoint]") {
  const auto dir = temp_dir("refuse");
  const Scenario sc = test::scenario_file("scenarios/tiny.yaml");
  const std::string ck = run_until(sc, dir, 30, 2, "t");
  const std::string good = slurp(ck);
  const auto loaded = Checkpoint::load(ck);
  CHECK_NOTHROW(loaded->check_compatible(sc));
  CHECK(loaded->info().scenario_name == "tiny");
  CHECK(loaded->info().tick == 30);
  SECTION("another scenario or seed") {
    const Scenario other = test::scenario_file("scenarios/tiny.yaml", {"simulation.seed=8"});
    try {
      loaded->check_compatible(other);
      FAIL("not refused");
    } catch (const CheckpointRefused& e) {
      const std::string m = e.what();
      CHECK(m.find("another scenario") != std::string::npos);
      CHECK(m.find("seed 7") != std::string::npos);
      CHECK(m.find("seed 8") != std::string::npos);
    }
    RunOptions o;
    o.resume = loaded;
    CHECK_THROWS_AS(run_scenario(other, (dir / "o.h5").string(), o), CheckpointRefused);
    CHECK_FALSE(fs::exists(dir / "o.h5.partial"));
  }
  SECTION("another version") {
    // the body starts with the version: u64 length, then the text
    const std::string version = build::kVersion;
    std::string d = good;
    REQUIRE(d.substr(32, version.size()) == version);
    std::string other = version;
    other.back() = other.back() == '9' ? '8' : '9';
    d.replace(32, version.size(), other);
    reseal(d);
    spit(ck, d);
    const std::string m = refusal(ck);
    CHECK(m.find("written by ruralsim " + other) != std::string::npos);
    CHECK(m.find("this is ruralsim " + version) != std::string::npos);
  }
  SECTION("truncated, at many lengths") {
    for (std::size_t n :
         {std::size_t{0}, std::size_t{7}, std::size_t{30}, good.size() / 2, good.size() - 1}) {
      spit(ck, good.substr(0, n));
      const std::string m = refusal(ck);
      INFO(n << " bytes: " << m);
      CHECK((m.find("truncated") != std::string::npos ||
             m.find("not a ruralsim checkpoint") != std::string::npos));
    }
  }
  SECTION("a changed byte") {
    std::string d = good;
    d[d.size() / 3] ^= 0x10;
    spit(ck, d);
    CHECK(refusal(ck).find("checksum") != std::string::npos);
  }
  SECTION("not a checkpoint, a directory") {
    spit(ck, "name: tiny\n");
    CHECK(refusal(ck).find("not a ruralsim checkpoint") != std::string::npos);
    CHECK(refusal(dir.string()).find("not a regular file") != std::string::npos);
    CHECK(refusal((dir / "missing.ckpt").string()).find("cannot open") != std::string::npos);
  }
  SECTION("hostile contents with a valid checksum are refused, not crashed on") {
    std::mt19937_64 gen(42);
    // random bodies
    for (int k = 0; k < 50; ++k) {
      std::string d = good.substr(0, 24);
      const std::size_t n = gen() % 4096;
      for (std::size_t i = 0; i < n; ++i) d.push_back(static_cast<char>(gen()));
      const std::uint64_t body = n;
      std::memcpy(d.data() + 16, &body, 8);
      d.append(32, '\0');
      reseal(d);
      spit(ck, d);
      CHECK(refusal(ck).find("damaged") != std::string::npos);
    }
    // single changed bytes, resealed: refused at load or restore, or (a value that only changes
    // the results) accepted and run on for a few ticks; never a crash
    // (in the header, scenario and World parts: before the output image)
    const std::size_t image_at = good.find("\x89HDF\r\n\x1a\n");
    REQUIRE(image_at != std::string::npos);
    int accepted = 0, refused = 0;
    for (int k = 0; k < 300; ++k) {
      std::string d = good;
      const std::size_t at = 24 + gen() % (image_at - 24);
      d[at] = static_cast<char>(gen());
      reseal(d);
      spit(ck, d);
      try {
        auto c = Checkpoint::load(ck);
        Simulation s(c->scenario());
        c->check_compatible(s.scenario());
        c->restore(s, nullptr);
        for (int t = 0; t < 3; ++t) s.step();
        ++accepted;
      } catch (const InputError&) {
        ++refused;
      } catch (const std::exception&) {
        ++refused;  // e.g. an allocation a damaged length asks for: an error, not a crash
      }
    }
    INFO(accepted << " accepted, " << refused << " refused");
    CHECK(accepted > 0);
    CHECK(refused > 0);
  }
  fs::remove_all(dir);
}
