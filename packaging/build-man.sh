#!/usr/bin/env bash
# Writes the man pages both packages ship, from the binary's own tables (zkrunbook manual 1|5):
# .build/dist/zkrunbook.1 (the commands), .build/dist/zkrunbook-runbook.5 (the runbook format) and
# .build/dist/zkrunbook-ensemble.5 (the ensemble file).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .build/dist/zkrunbook ] || bash packaging/build-release.sh >/dev/null
.build/dist/zkrunbook manual 1 >.build/dist/zkrunbook.1
.build/dist/zkrunbook manual 5 >.build/dist/zkrunbook-runbook.5
.build/dist/zkrunbook manual ensemble >.build/dist/zkrunbook-ensemble.5
echo ".build/dist/zkrunbook.1 .build/dist/zkrunbook-runbook.5 .build/dist/zkrunbook-ensemble.5"
