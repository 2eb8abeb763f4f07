#!/usr/bin/env bash
# The browser tests of the page (web/tests/), with everything they need:
# chromium and binaryen (wasm-opt) from Debian, playwright-core from npm (package-lock.json), the
# wasm toolchain (web/build.sh installs it), the page and the tau binary.
# .ci/run calls this after `cargo test`. Each step reports its time.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { local start=$SECONDS; "$@"; echo "test.sh: '$*' took $((SECONDS - start)) s" >&2; }

install_chromium() {
  if ! command -v chromium >/dev/null; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
  fi
}

install_binaryen() {
  if ! command -v wasm-opt >/dev/null; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y binaryen
  fi
}

step install_chromium
step install_binaryen
step npm ci --prefix web --no-audit --no-fund
step bash web/build.sh
step cargo build --bin tau
step npm test --prefix web
