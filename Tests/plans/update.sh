#!/usr/bin/env bash
# Regenerates the committed plan snapshots: what every shipped runbook would do (plan --offline), with
# the same script a user's CI runs (packaging/ci-example/check-runbooks.sh --update).
# Review the diff: a change here is a change in what a runbook does on a node.
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build >/dev/null
bash packaging/ci-example/check-runbooks.sh --zkrunbook .build/debug/zkrunbook --runbooks runbooks --plans Tests/plans --update
