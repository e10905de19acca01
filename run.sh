#!/usr/bin/env bash
# The one entry point: installs what is missing (Debian 12 packages), builds Release in build/,
# then runs a scenario, the tests, or any ruralsim subcommand.
#
#   ./run.sh scenarios/baseline.yaml [ruralsim run options]   run a scenario
#   ./run.sh test                                           build and run every test
#   ./run.sh <subcommand> [args]                            e.g. ./run.sh params, ./run.sh validate F.yaml
#   ./run.sh build                                          only install and build
#   ./run.sh sanitize                                       tests under AddressSanitizer + UBSan
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
)

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
  for p in "${DEBIAN_PACKAGES[@]}"; do
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

build() {
  install_missing
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
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
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
    build
    install_test_packages
    ctest --test-dir build --output-on-failure -j "$(nproc 2>/dev/null || echo 2)" "$@"
    ;;
  sanitize)
    # The Catch2 suite built with -fsanitize=address,undefined in build-sanitize/.
    install_missing
    if [[ ! -f build-sanitize/CMakeCache.txt ]]; then
      cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRURALSIM_SANITIZE=ON >/dev/null
    fi
    say "building with AddressSanitizer and UndefinedBehaviorSanitizer..."
    if ! cmake --build build-sanitize -j "$(nproc 2>/dev/null || echo 2)" --target ruralsim_tests \
      >build-sanitize/build.log 2>&1; then
      cat build-sanitize/build.log >&2
      exit 1
    fi
    ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
      build-sanitize/tests/ruralsim_tests
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
