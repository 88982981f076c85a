#!/usr/bin/env bash
# Installs what is missing, builds with warnings as errors, fuzzes the untrusted-input paths for a
# minute each (scripts/fuzz.sh) and runs every test (ctest).
# This is the README's test command and the whole of CI (.ci/run calls it and nothing else).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh --with-tests

build_dir=${KOOPERDOC_BUILD_DIR:-build}
jobs=$(nproc)
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKOOPERDOC_WERROR=ON >/dev/null
cmake --build "$build_dir" -j "$jobs"

# A short fuzz run of the untrusted-input paths (issue 4) with clang-14 in build-fuzz, before
# ctest so that ctest's summary stays the last line; KOOPERDOC_FUZZ_SECONDS=0 skips it.
fuzz_seconds=${KOOPERDOC_FUZZ_SECONDS:-60}
fuzz_failed=0
if ((fuzz_seconds > 0)); then
  KOOPERDOC_BIN="$build_dir/cli/kooperdoc" scripts/fuzz.sh "$fuzz_seconds" || fuzz_failed=1
fi

cd "$build_dir"
ctest --output-on-failure -j "$jobs" "$@"
if ((fuzz_failed)); then
  echo "test: the fuzz run failed (see above)" >&2
  exit 1
fi
