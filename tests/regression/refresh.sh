#!/usr/bin/env bash
# Rewrites tests/regression/tiny_reference.tsv from the current build. Run it only after a
# deliberate change of results, and record the change in CHANGELOG.md (Regression information).
set -euo pipefail
cd "$(dirname "$0")/../.."
cmake --build build -j "$(nproc)" --target ruralsim_tests
RURALSIM_REFRESH_REFERENCE=1 build/tests/ruralsim_tests "[regression]"
git --no-pager diff --stat -- tests/regression/tiny_reference.tsv || true
