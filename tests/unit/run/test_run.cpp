// run_scenario(): a run as a library call (own task arena, stop token, progress, output lock).
#include <catch2/catch.hpp>

#include <unistd.h>
#include <filesystem>
#include <thread>

#include "core/error.hpp"
#include "run/run.hpp"
#include "support.hpp"

using namespace ruralsim;

namespace {
std::filesystem::path temp_dir(const std::string& name) {
  auto d = std::filesystem::temp_directory_path() /
           ("ruralsim-test-run-" + name + "-" + std::to_string(getpid()));
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}
}  // namespace

TEST_CASE("run_scenario gives the same content hash in arenas of 1 and 3 threads, run at once",
          "[run]") {
  const auto dir = temp_dir("arena");
  const Scenario sc = test::scenario_file("scenarios/tiny.yaml");
  RunOutcome a, b;
  std::thread t1([&] {
    RunOptions o;
    o.threads = 1;
    a = run_scenario(sc, (dir / "a.h5").string(), o);
  });
  std::thread t2([&] {
    RunOptions o;
    o.threads = 3;
    b = run_scenario(sc, (dir / "b.h5").string(), o);
  });
  t1.join();
  t2.join();
  CHECK(a.threads == 1);
  CHECK(b.threads == 3);
  CHECK(a.hash.size() == 64);
  CHECK(a.hash == b.hash);
  CHECK(std::filesystem::exists(dir / "a.h5"));
  CHECK_FALSE(std::filesystem::exists(dir / "a.h5.lock"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("a stopped run throws RunStopped and leaves no file", "[run]") {
  const auto dir = temp_dir("stop");
  const Scenario sc = test::scenario_file("scenarios/tiny.yaml");
  std::stop_source src;
  RunOptions o;
  o.stop = src.get_token();
  int calls = 0;
  o.progress = [&](const RunProgress& p) {
    ++calls;
    CHECK(p.ticks_done <= p.total_ticks);
    if (calls == 3) src.request_stop();
  };
  CHECK_THROWS_AS(run_scenario(sc, (dir / "x.h5").string(), o), RunStopped);
  CHECK(calls == 3);
  CHECK(std::filesystem::is_empty(dir));
  std::filesystem::remove_all(dir);
}

TEST_CASE("a second run on the same output is refused while the first holds it", "[run]") {
  const auto dir = temp_dir("lock");
  const Scenario sc = test::scenario_file("scenarios/tiny.yaml");
  const std::string out = (dir / "x.h5").string();
  std::string second_error;
  RunOptions o;
  bool tried = false;
  o.progress = [&](const RunProgress&) {
    if (tried) return;
    tried = true;
    try {
      run_scenario(sc, out, RunOptions{});
    } catch (const InputError& e) {
      second_error = e.what();
    }
  };
  const RunOutcome first = run_scenario(sc, out, o);
  CHECK(second_error.find("another run is writing") != std::string::npos);
  CHECK(std::filesystem::exists(out));
  // once complete, the file exists: a new run without overwrite is refused
  CHECK_THROWS_AS(run_scenario(sc, out, RunOptions{}), InputError);
  RunOptions ow;
  ow.overwrite = true;
  CHECK(run_scenario(sc, out, ow).hash == first.hash);
  std::filesystem::remove_all(dir);
}
