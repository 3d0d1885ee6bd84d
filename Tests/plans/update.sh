#!/usr/bin/env bash
# Regenerates the committed plan snapshots: what every shipped runbook would do (plan --offline).
# Review the diff: a change here is a change in what a runbook does on a node.
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build >/dev/null
for runbook in runbooks/*.json5; do
  name=$(basename "$runbook" .json5)
  args=$(cat "Tests/plans/$name.params" 2>/dev/null || true)
  # shellcheck disable=SC2086
  .build/debug/zkrunbook plan "$runbook" --offline $args > "Tests/plans/$name.plan"
  echo "Tests/plans/$name.plan"
done
