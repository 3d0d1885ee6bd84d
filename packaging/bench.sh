#!/usr/bin/env bash
# Builds the release binary and prints zkrunbook's timings beside the references they must beat.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .build
for product in zkrunbook zkrunbook-bench; do
  swift build -c release --product "$product" >.build/bench-build.log 2>&1 || { cat .build/bench-build.log >&2; exit 1; }
done
.build/release/zkrunbook-bench --binary .build/release/zkrunbook --runbooks runbooks
