#!/usr/bin/env bash
# Quick start on a throwaway local ensemble: builds zkrunbook, starts three real ZooKeeper servers on
# loopback (the sandbox), checks their health, shows what zkrunbook reports when a server goes down,
# plans and runs a rolling restart, collects a diagnostics bundle, runs doctor, and changes a setting in a scratch zoo.cfg with a backup and
# rollback. Everything is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

bash packaging/install-deps.sh
echo "== building zkrunbook (release, Swift runtime linked statically)"
mkdir -p .build
swift build -c release --static-swift-stdlib --product zkrunbook >.build/quickstart-build.log 2>&1 \
  || { cat .build/quickstart-build.log >&2; exit 1; }
zkrunbook=$PWD/.build/release/zkrunbook
export PATH="$PWD/.build/release:$PATH"   # the sandbox's restart command calls zkrunbook by name

work=$(mktemp -d /tmp/zkrunbook-quickstart.XXXXXX)
sandbox=$work/sandbox
cleanup() { "$zkrunbook" sandbox down --dir "$sandbox" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

echo; echo "== zkrunbook validate runbooks"
"$zkrunbook" validate runbooks

echo; echo "== zkrunbook sandbox up: three ZooKeeper servers on loopback (reconfig on: the leader's restart hands off)"
out=$("$zkrunbook" sandbox up --nodes 3 --dir "$sandbox" --base-port auto --reconfig 2>&1) || { echo "$out" >&2; exit 1; }
echo "$out"
base=$(sed -n 's/^base port \([0-9]*\) .*/\1/p' <<<"$out")
[ -n "$base" ] || { echo "sandbox up did not say its base port" >&2; exit 1; }
ensemble=$sandbox/ensemble.json5

echo; echo "== zkrunbook run health-check (node 1 and its ensemble)"
"$zkrunbook" run health-check --state-dir "$work/state" \
  --param server=127.0.0.1:$((base + 1)) --param adminPort=$((base + 301)) --param ensemble="$ensemble"

echo; echo "== one server goes down: zkrunbook sandbox stop --node 3"
"$zkrunbook" sandbox stop --dir "$sandbox" --node 3
set +e
"$zkrunbook" status --ensemble "$ensemble"
echo "-- status exit code $? (1: degraded but quorate)"
set -e

echo; echo "== and comes back: zkrunbook sandbox start --node 3 --wait"
"$zkrunbook" sandbox start --dir "$sandbox" --node 3 --wait
"$zkrunbook" status --ensemble "$ensemble"

echo; echo "== zkrunbook plan rolling-restart: the order (with today's leader), each guard's live value, each command"
"$zkrunbook" plan rolling-restart --ensemble "$ensemble" | grep -E "^\[|== node|guard:|agent on|-> .*(server [0-9]+ leads|forces no election)|result:"

echo; echo "== zkrunbook run rolling-restart: followers first, the leader last, every gate on"
"$zkrunbook" run rolling-restart --ensemble "$ensemble" --state-dir "$work/state" | grep -E "^\[|== node|result:"
"$zkrunbook" status --ensemble "$ensemble"

echo; echo "== zkrunbook collect: a diagnostics bundle of node 1, for support (secrets redacted)"
"$zkrunbook" collect --zoo-cfg "$sandbox/node1/zoo.cfg" --log-dir "$sandbox/node1" --output "$work/bundle" --state-dir "$work/state" \
  | grep -E "^\[|-> ok: wrote|result:"
tar tzf "$work"/bundle/*.tar.gz | sed -n '1,6p'; echo "  …"

echo; echo "== zkrunbook doctor: what the logs and the live ensemble say"
set +e
"$zkrunbook" doctor --logs "$sandbox/node1" --logs "$sandbox/node2" --logs "$sandbox/node3" --ensemble "$ensemble" --state-dir "$work/state" | head -30
set -e

echo; echo "== a config change with backup and rollback, on a scratch copy of node 1's zoo.cfg"
cp "$sandbox/node1/zoo.cfg" "$work/zoo.cfg"
"$zkrunbook" plan zoo-cfg-set --param config="$work/zoo.cfg" --param key=maxClientCnxns --param value=200
"$zkrunbook" run zoo-cfg-set --state-dir "$work/state" --param config="$work/zoo.cfg" --param key=maxClientCnxns --param value=200
grep -n maxClientCnxns "$work/zoo.cfg"

echo; echo "quick start done; the sandbox is stopped and $work removed."
echo "Next: 'zkrunbook --help', the runbooks in runbooks/, and README.md."
