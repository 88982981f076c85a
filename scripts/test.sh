#!/usr/bin/env bash
# Installs what is missing, builds with warnings as errors, and runs every test (ctest).
# This is the README's test command and the whole of CI (.ci/run calls it and nothing else).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh --with-tests

build_dir=${KOOPERDOC_BUILD_DIR:-build}
jobs=$(nproc)
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKOOPERDOC_WERROR=ON >/dev/null
cmake --build "$build_dir" -j "$jobs"
cd "$build_dir"
ctest --output-on-failure -j "$jobs" "$@"
