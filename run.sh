#!/usr/bin/env bash
# The one entry point: installs what is missing (Debian 12 packages), builds Release in build/,
# then runs a scenario, the tests, or any ruralsim subcommand.
#
#   ./run.sh scenarios/baseline.yaml [ruralsim run options]   run a scenario
#   ./run.sh test                                           build and run every test
#   ./run.sh <subcommand> [args]                            e.g. ./run.sh params, ./run.sh validate F.yaml
#   ./run.sh calibrate CALIBRATION.yaml [options]           fit parameters (installs python3-optuna)
#   ./run.sh build                                          only install and build
#   ./run.sh sanitize                                       tests under AddressSanitizer + UBSan (clang)
#   ./run.sh tsan                                           parallel tests under ThreadSanitizer
#   ./run.sh fuzz [SECONDS] [TARGET...]                     libFuzzer targets, SECONDS each (60)
set -euo pipefail
# Paths given by the caller (scenario files, --out) are relative to the caller's directory; the
# build happens in the project directory.
caller=$(pwd)
root=$(cd "$(dirname "$0")" && pwd)
cd "$root"

DEBIAN_PACKAGES=(
  cmake g++ make pkg-config git
  libboost-dev libtbb-dev libhdf5-dev libyaml-cpp-dev catch2
  python3 python3-numpy python3-h5py python3-h5netcdf python3-xarray python3-pandas
  python3-matplotlib python3-scipy time
  python3-yaml  # analysis/report.py reads the resolved scenario and data/calibration_targets.yaml
  python3-nbclient python3-nbformat python3-ipykernel  # test of analysis/notebooks/quickstart.ipynb
)

# Only for ./run.sh calibrate (and its test): the search of stage 2 (docs/calibration.md).
CALIBRATE_PACKAGES=(python3-optuna)
# Only for ./run.sh fuzz and ./run.sh sanitize: clang and its libFuzzer runtime.
FUZZ_PACKAGES=(clang-14 libclang-rt-14-dev)
# Needed only by the real-Slurm test (tests/integration/slurm_sweep.py); `./run.sh test`
# installs them when run as root, otherwise that test is skipped with the reason.
TEST_PACKAGES=(slurmctld slurmd slurm-client munge)

say() { printf 'run.sh: %s\n' "$*" >&2; }

install_test_packages() {
  [[ $(id -u) -eq 0 ]] || return 0
  local missing=()
  for p in "${TEST_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return 0
  say "installing packages for the Slurm test: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null ||
    say "could not install ${missing[*]}; the Slurm test will be skipped"
}

install_missing() {
  local missing=()
  for p in "${DEBIAN_PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return 0
  say "installing missing Debian packages: ${missing[*]}"
  local cmd=(apt-get install -y --no-install-recommends "${missing[@]}")
  if [[ $(id -u) -eq 0 ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${cmd[@]}"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo DEBIAN_FRONTEND=noninteractive apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive "${cmd[@]}"
  else
    say "cannot install packages without root. Run this once, then try again:"
    say "  sudo apt-get update && sudo ${cmd[*]}"
    exit 1
  fi
}

# The clang build with ASan, UBSan and libFuzzer's coverage in build-fuzz/: the fuzz targets,
# and the tests and ruralsim of ./run.sh sanitize.
configure_fuzz_build() {
  if [[ ! -f build-fuzz/CMakeCache.txt ]]; then
    CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DRURALSIM_FUZZ=ON -DRURALSIM_BUILD_TESTS=ON >/dev/null
  elif ! grep -q '^RURALSIM_BUILD_TESTS:BOOL=ON' build-fuzz/CMakeCache.txt; then
    cmake -S . -B build-fuzz -DRURALSIM_BUILD_TESTS=ON >/dev/null
  fi
}

build() {
  install_missing "$@"
  local jobs
  jobs=$(nproc 2>/dev/null || echo 2)
  if [[ ! -f build/CMakeCache.txt ]]; then
    cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null || { say "cmake configure failed"; exit 1; }
  fi
  say "building (Release, $jobs jobs)..."
  if ! cmake --build build -j "$jobs" >build/build.log 2>&1; then
    cat build/build.log >&2
    say "build failed (log: build/build.log)"
    exit 1
  fi
  grep -E "warning:" build/build.log >&2 || true
}

usage() {
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
}

case "${1:-}" in
  "" | -h | --help)
    usage
    exit 0
    ;;
  build)
    build
    ;;
  test)
    shift
    build "${CALIBRATE_PACKAGES[@]}"
    install_test_packages
    ctest --test-dir build --output-on-failure -j "$(nproc 2>/dev/null || echo 2)" "$@"
    ;;
  sanitize)
    # The Catch2 suite and the ruralsim binary built with clang and -fsanitize=address,undefined
    # in build-fuzz/ (the build of the fuzz targets: the sanitized library is compiled once for
    # both); the command-line tests (bad-input catalogue, HDF5 files) run against that binary.
    install_missing "${FUZZ_PACKAGES[@]}"
    configure_fuzz_build
    say "building with AddressSanitizer and UndefinedBehaviorSanitizer (clang)..."
    if ! cmake --build build-fuzz -j "$(nproc 2>/dev/null || echo 2)" \
      --target ruralsim_tests ruralsim >build-fuzz/build.log 2>&1; then
      cat build-fuzz/build.log >&2
      exit 1
    fi
    export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=0
    export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
    build-fuzz/tests/ruralsim_tests
    say "command-line tests against the sanitized ruralsim..."
    /usr/bin/python3 tests/integration/cli_bad_input.py build-fuzz/ruralsim tests/data/bad | tail -1
    /usr/bin/python3 tests/integration/cli_hdf5.py build-fuzz/ruralsim "$root" | tail -1
    ;;
  tsan)
    # ThreadSanitizer build of the Catch2 suite in build-tsan/; runs the tests that step the
    # model in parallel (determinism for 1, 2 and 8 threads, concordance, regression) and those of
    # the recorder and checkpoints (the recorder writes its blocks on a thread of its own). Debian's
    # libtbb is not built with ThreadSanitizer, so in this build the model's parallel loops run
    # on plain threads (sim/core/parallel.hpp, RURALSIM_PLAIN_THREADS): the loop bodies run
    # concurrently exactly as under TBB, and every race between them is reported.
    install_missing
    if [[ ! -f build-tsan/CMakeCache.txt ]]; then
      cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRURALSIM_TSAN=ON >/dev/null
    fi
    say "building with ThreadSanitizer..."
    if ! cmake --build build-tsan -j "$(nproc 2>/dev/null || echo 2)" \
      --target ruralsim_tests tsan_race_probe >build-tsan/build.log 2>&1; then
      cat build-tsan/build.log >&2
      exit 1
    fi
    # The probe races on purpose: ThreadSanitizer must see it (exit 66), or the run below proves
    # nothing.
    if TSAN_OPTIONS="exitcode=66" build-tsan/tests/tsan_race_probe >/dev/null 2>&1; then
      say "ThreadSanitizer did not report the deliberate race of tests/tsan/race_probe.cpp"
      exit 1
    elif [[ $? -ne 66 ]]; then
      say "tests/tsan/race_probe.cpp failed without a ThreadSanitizer report"
      exit 1
    fi
    say "ThreadSanitizer reports the deliberate race of the probe; now the parallel tests..."
    TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
      build-tsan/tests/ruralsim_tests "[determinism],[concordance],[regression],[recorder],[checkpoint]"
    ;;
  fuzz)
    # libFuzzer targets (tests/fuzz) built with clang, ASan and UBSan in build-fuzz/; each runs
    # SECONDS (default 60) on its corpus in build-fuzz/corpus/<target>, seeded from scenarios/,
    # tests/data/ and tests/fuzz/. A crash leaves the input in build-fuzz/findings/<target>/.
    shift
    seconds=${1:-60}
    [[ $# -gt 0 ]] && shift
    targets=("$@")
    # h5_reader (in-process, stops at the HDF5 library's own crashes) is for long campaigns:
    #   ./run.sh fuzz 1800 h5_reader  with  FUZZ_FLAGS="-fork=1 -ignore_crashes=1 -ignore_timeouts=1"
    ((${#targets[@]})) || targets=(scenario set_overrides village_table h5_reader_isolated sweep)
    install_missing "${FUZZ_PACKAGES[@]}"
    build  # the Release binary makes the HDF5 seed files
    configure_fuzz_build
    say "building the fuzz targets (clang, libFuzzer, ASan, UBSan)..."
    fuzz_targets=()
    for t in "${targets[@]}"; do fuzz_targets+=("fuzz_$t"); done
    if ! cmake --build build-fuzz -j "$(nproc 2>/dev/null || echo 2)" --target "${fuzz_targets[@]}" \
      >build-fuzz/build.log 2>&1; then
      cat build-fuzz/build.log >&2
      exit 1
    fi
    tests/fuzz/make_seeds.sh build/ruralsim build-fuzz/seeds
    # One target per core at a time; each writes its log and exit status.
    fuzz_one() {
      local t=$1
      mkdir -p "build-fuzz/corpus/$t" "build-fuzz/findings/$t"
      (cd "build-fuzz/findings/$t" && ASAN_OPTIONS=detect_leaks=0 \
        "$root/build-fuzz/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=20 \
        -rss_limit_mb=3072 -print_final_stats=1 ${FUZZ_FLAGS:-} "$root/build-fuzz/corpus/$t" \
        "$root/build-fuzz/seeds/$t" >"$root/build-fuzz/fuzz_$t.log" 2>&1)
      echo $? >"build-fuzz/fuzz_$t.status"
    }
    parallel=${FUZZ_PARALLEL:-$(nproc 2>/dev/null || echo 2)}
    running=0
    for t in "${targets[@]}"; do
      say "fuzzing $t for ${seconds}s..."
      rm -f "build-fuzz/fuzz_$t.status"
      fuzz_one "$t" &
      running=$((running + 1))
      if ((running >= parallel)); then
        wait -n || true
        running=$((running - 1))
      fi
    done
    wait || true
    status=0
    for t in "${targets[@]}"; do
      if [[ "$(cat "build-fuzz/fuzz_$t.status" 2>/dev/null)" != 0 ]]; then
        tail -40 "build-fuzz/fuzz_$t.log" >&2
        say "fuzz_$t found a problem: input in build-fuzz/findings/$t/ (log build-fuzz/fuzz_$t.log)"
        status=1
      else
        grep -E "stat::number_of_executed_units|stat::new_units_added" "build-fuzz/fuzz_$t.log" |
          tail -n 2 | tr -s ' \n' ' ' | sed "s/^/run.sh: fuzz_$t: /" >&2
        echo >&2
      fi
    done
    exit $status
    ;;
  calibrate)
    build "${CALIBRATE_PACKAGES[@]}"
    cd "$caller"
    exec "$root/build/ruralsim" "$@"
    ;;
  *.yaml | *.yml)
    build
    cd "$caller"
    exec "$root/build/ruralsim" run "$@"
    ;;
  *)
    build
    cd "$caller"
    exec "$root/build/ruralsim" "$@"
    ;;
esac
