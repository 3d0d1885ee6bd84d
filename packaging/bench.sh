#!/usr/bin/env bash
# Builds the release binary and prints zkrunbook's timings beside the references they must beat.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .build
# The binary measured is the one that ships: release, Swift runtime linked statically.
swift build -c release --static-swift-stdlib --product zkrunbook >.build/bench-build.log 2>&1 || { cat .build/bench-build.log >&2; exit 1; }
swift build -c release --static-swift-stdlib --product zkrunbook-bench >.build/bench-build.log 2>&1 || { cat .build/bench-build.log >&2; exit 1; }
.build/release/zkrunbook-bench --binary .build/release/zkrunbook --runbooks runbooks
