#!/usr/bin/env bash
# Builds the binary that ships: release, the Swift runtime and Foundation linked statically, stripped.
# Prints its size and what it still links dynamically, and fails if that is more than the C/C++ runtime
# every Linux distribution has (libc, libm, libstdc++, libgcc_s and the loader).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .build/dist
# -z now -z relro: every symbol bound at start, the GOT read-only after it (lintian: hardening-no-bindnow).
swift build -c release --static-swift-stdlib -Xlinker -z -Xlinker now -Xlinker -z -Xlinker relro --product zkrunbook >.build/release-build.log 2>&1 \
  || { cat .build/release-build.log >&2; exit 1; }
cp .build/release/zkrunbook .build/dist/zkrunbook
strip --remove-section=.comment .build/dist/zkrunbook
size=$(stat -c %s .build/dist/zkrunbook)
echo "binary: .build/dist/zkrunbook, $((size / 1024 / 1024)) MiB stripped ($size bytes)"
echo "dynamic libraries:"
ldd .build/dist/zkrunbook | sed 's/^/  /'
unexpected=$(ldd .build/dist/zkrunbook | awk '{print $1}' \
  | grep -vE '^(linux-vdso\.so\.1|/lib64/ld-linux-x86-64\.so\.2|ld-linux-aarch64\.so\.1|/lib/ld-linux-aarch64\.so\.1|libc\.so\.6|libm\.so\.6|libstdc\+\+\.so\.6|libgcc_s\.so\.1|libpthread\.so\.0|libdl\.so\.2|librt\.so\.1)$' || true)
if [ -n "$unexpected" ]; then
  echo "error: the binary needs libraries a bare node may not have: $unexpected" >&2
  exit 1
fi
start=$(date +%s%N); .build/dist/zkrunbook --version >/dev/null; end=$(date +%s%N)
echo "static check: ok (only C/C++ runtime libraries); zkrunbook --version cold start $(( (end - start) / 1000000 )) ms"
