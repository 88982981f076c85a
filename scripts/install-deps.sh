#!/usr/bin/env bash
# Installs every Debian 12 package Kooperdoc needs to build, run and test.
# Idempotent: asks apt only for what is missing, so a prepared machine pays nothing.
set -euo pipefail

build_runtime=(
  build-essential cmake pkg-config git
  libpoco-dev libpodofo-dev libssl-dev openssl libkainjow-mustache-dev
  libsqlite3-dev libpq-dev libqrencode-dev libdeflate-dev libargon2-dev zlib1g-dev libxmlsec1-dev
  fonts-dejavu-core icc-profiles-free
)
test_tools=(
  catch2 librapidcheck-dev json-schema-test-suite zbar-tools default-jdk-headless
  poppler-utils qpdf libnss3-tools xmlsec1
  default-jre-headless libpdfbox2-java libbcprov-java libbcpkix-java
  libactivation-java libjaxb-api-java
  postgresql sqlite3
  clang-14 libclang-rt-14-dev  # libFuzzer and the sanitizer runtimes for scripts/fuzz.sh
  chromium chromium-driver curl  # the web UI's browser tests (headless, driven over WebDriver)
)

want=("${build_runtime[@]}")
if [[ "${1:-}" == "--with-tests" ]]; then want+=("${test_tools[@]}"); fi

missing=()
for pkg in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]} == 0)); then exit 0; fi

echo "install-deps: installing ${missing[*]}" >&2
SUDO=""; if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
