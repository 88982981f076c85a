#!/usr/bin/env bash
# Builds the libFuzzer targets (clang-14, AddressSanitizer, UBSan) and runs each one on its seed
# corpus: pdf_reader_fuzz (the untrusted-PDF reader and revision analysis) and verify_fuzz (the
# whole verify path, reports included). Any crash, sanitizer report, leak, timeout or
# out-of-memory fails the script; the input that caused it is left in $build_dir/findings/.
#
# usage: scripts/fuzz.sh [SECONDS_PER_FUZZER]     (default 60; scripts/test.sh runs it so)
#   KOOPERDOC_FUZZ_BUILD_DIR  build directory (default build-fuzz)
#   KOOPERDOC_BIN             a built `kooperdoc`, to add PDFs of our own renderer and seal to the
#                             seeds (default build/cli/kooperdoc, skipped when missing)
#   KOOPERDOC_FUZZ_JOBS       fuzzer processes per target for long runs (default 1)
# The corpus a run grows is kept in $build_dir/corpus/<fuzzer>/ and reused by the next run, so
# repeated long runs add up. docs/fuzzing.md has more.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
build_dir=${KOOPERDOC_FUZZ_BUILD_DIR:-build-fuzz}
kooperdoc_bin=${KOOPERDOC_BIN:-build/cli/kooperdoc}
jobs=${KOOPERDOC_FUZZ_JOBS:-1}
pyhanko_corpus=../shared/corpus/pyhanko

if ! command -v clang++-14 >/dev/null; then
  echo "fuzz: clang++-14 is missing; scripts/install-deps.sh --with-tests installs it" >&2
  exit 1
fi

# Only the libraries the fuzzers need; -O1 and line tables only keep the build short and the
# stack traces readable.
cmake -S . -B "$build_dir" -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE= \
  -DCMAKE_CXX_FLAGS="-O1 -gline-tables-only" -DKOOPERDOC_FUZZ=ON -DKOOPERDOC_TESTS=OFF \
  -DKOOPERDOC_BENCH=OFF -DKOOPERDOC_WERROR=ON >/dev/null
cmake --build "$build_dir" -j "$(nproc)" --target pdf_reader_fuzz verify_fuzz

# Seeds: the pyHanko corpus (signatures, incremental updates, xref streams, linearized files),
# PDFs of our own renderer and seal, and every input that once crashed a fuzzer.
seeds="$build_dir/seeds"
rm -rf "$seeds"
mkdir -p "$seeds"
if compgen -G "$pyhanko_corpus/pdf/*.pdf" >/dev/null; then cp "$pyhanko_corpus"/pdf/*.pdf "$seeds/"; fi
cp pdf/fuzz/regressions/* verify/fuzz/regressions/* "$seeds/" 2>/dev/null || true
if [[ -x "$kooperdoc_bin" ]]; then
  export SOURCE_DATE_EPOCH=1768471200
  identity="$build_dir/seed-identity"
  for template in m1-oswiadczenie-zgoda m2-monitoring; do
    "$kooperdoc_bin" render "$template" "templates/catalog/$template/samples/sample.json" \
      -o "$seeds/ours-$template.pdf" >/dev/null
  done
  # Sealed at B-LTA with the development identity: a signature, a DSS and a document timestamp.
  "$kooperdoc_bin" seal "$seeds/ours-m1-oswiadczenie-zgoda.pdf" -o "$seeds/ours-sealed-lta.pdf" \
    --level B-LTA --identity "$identity" >/dev/null
fi
echo "fuzz: $(ls "$seeds" | wc -l) seed files" >&2

export KOOPERDOC_FUZZ_TRUST_ANCHORS="$pyhanko_corpus/certs/testing-ca-root.pem"
[[ -f "$KOOPERDOC_FUZZ_TRUST_ANCHORS" ]] || unset KOOPERDOC_FUZZ_TRUST_ANCHORS
failed=0
for fuzzer in pdf/pdf_reader_fuzz verify/verify_fuzz; do
  name=$(basename "$fuzzer")
  corpus="$build_dir/corpus/$name"
  findings="$build_dir/findings/$name"
  mkdir -p "$corpus" "$findings"
  log="$build_dir/$name.log"
  # -timeout stays above the fuzzers' own PdfLimits::maxDuration (2 s): only a loop the reader's
  # deadline does not reach can time out. libFuzzer sizes -max_len from the largest seed.
  parallel=()
  if ((jobs > 1)); then parallel=(-jobs="$jobs" -workers="$jobs"); fi
  if "$build_dir/$fuzzer" "$corpus" "$seeds" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
    "${parallel[@]}" -artifact_prefix="$findings/" -print_final_stats=1 >"$log" 2>&1; then
    echo "fuzz: $name: $(grep -E '^stat::number_of_executed_units' "$log" | awk '{s += $2} END {print s}') runs," \
      "$(grep -oE 'cov: [0-9]+' "$log" | tail -1), no failure" >&2
  else
    echo "fuzz: $name FAILED; the input is in $findings/, the log in $log:" >&2
    grep -E 'ERROR|SUMMARY|Test unit written|threw' "$log" | head -20 >&2
    failed=1
  fi
done
exit $failed
