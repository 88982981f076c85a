#!/usr/bin/env bash
# Installs what is missing, builds, and starts the service on its embedded default
# (http://localhost:8080). Extra arguments go to `kooperdoc serve`.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

build_dir=${KOOPERDOC_BUILD_DIR:-build}
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build_dir" -j "$(nproc)" --target kooperdoc
exec "$build_dir/cli/kooperdoc" serve "$@"
