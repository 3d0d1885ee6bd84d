#!/usr/bin/env bash
# Quick start on a throwaway copy: builds zkrunbook, validates the shipped runbooks, then plans and runs
# the zoo-cfg-set runbook against a scratch zoo.cfg, and shows a failing change being rolled back.
# Nothing outside a temporary folder is touched.
set -euo pipefail
cd "$(dirname "$0")/.."

bash packaging/install-deps.sh
echo "== building zkrunbook (release)"
mkdir -p .build
swift build -c release --product zkrunbook >.build/quickstart-build.log 2>&1 || { cat .build/quickstart-build.log >&2; exit 1; }
zkrunbook=$PWD/.build/release/zkrunbook

work=$(mktemp -d /tmp/zkrunbook-quickstart.XXXXXX)
trap 'rm -rf "$work"' EXIT
state=$work/state
cat >"$work/zoo.cfg" <<'CFG'
tickTime=2000
dataDir=/var/lib/zookeeper
clientPort=2181
# 4lw.commands.whitelist is not set: ZooKeeper >= 3.5 then answers only srvr
CFG

echo; echo "== zkrunbook validate runbooks"
"$zkrunbook" validate runbooks

echo; echo "== zkrunbook plan zoo-cfg-set (a dry run: what would happen, nothing changes)"
"$zkrunbook" plan zoo-cfg-set --param config="$work/zoo.cfg" --param key=4lw.commands.whitelist --param 'value=srvr, ruok, mntr'

echo; echo "== zkrunbook run zoo-cfg-set"
"$zkrunbook" run zoo-cfg-set --state-dir "$state" --param config="$work/zoo.cfg" --param key=4lw.commands.whitelist --param 'value=srvr, ruok, mntr'
echo "-- zoo.cfg now:"; cat "$work/zoo.cfg"

echo; echo "== a change that fails its check is rolled back (a value with a line break is refused)"
set +e
"$zkrunbook" run zoo-cfg-set --state-dir "$state" --param config="$work/zoo.cfg" --param key=clientPort --param "value=2182
server.9=evil:1:2"
status=$?
set -e
echo "-- exit status $status (1: a step failed and completed steps were rolled back); zoo.cfg unchanged:"
cat "$work/zoo.cfg"
echo; echo "quick start done: journals were in $state/runs (removed with the scratch folder)"
