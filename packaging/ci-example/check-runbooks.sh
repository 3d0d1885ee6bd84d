#!/usr/bin/env bash
# Checks a folder of zkrunbook runbooks the way a CI job should, before any of them touches a node:
#   1. validate   every file offline (schema, references, parameters, absolute executables);
#   2. snapshot   `plan --offline` of each runbook compared with its committed PLANS/NAME.plan, so a
#                 change in what a runbook would do shows up as a diff in review (--update rewrites them);
#   3. sandbox    `plan` of each runbook that has SANDBOX/NAME.params against a throwaway 3-node ZooKeeper
#                 ensemble on loopback: its guards are evaluated live, and a refusal fails the job.
#
# Usage: check-runbooks.sh --runbooks DIR --plans DIR [--sandbox-params DIR] [--zkrunbook PATH]
#                          [--base-port N] [--update]
#
# PLANS/NAME.params and SANDBOX/NAME.params hold extra `plan` arguments (e.g. --param key=value), split on
# white space except inside a JSON value's brackets or double quotes, which are kept as written: so
# --param restartCommand=["systemctl", "restart", "zookeeper"] is one argument, quotes and all. '…' keeps
# anything else whole (its quotes removed, as a shell would). Nothing is run or expanded. Lines starting
# with # are comments. In the
# sandbox ones these words are replaced: @ENSEMBLE@ (the sandbox's ensemble file), @SERVER@ (node 1's
# host:port), @CLIENTPORT@, @ADMINPORT@, @ZOOCFG@ (node 1's zoo.cfg), @DIR@ (the sandbox folder). A sandbox
# params file whose first line is "# expect: refused" must be refused (exit 3): for a runbook whose guards
# exist to refuse a healthy ensemble (dc-failover), proving the guards live.
# Needs: zkrunbook, and for the sandbox Java and ZooKeeper's jars (Debian: apt-get install zookeeper).
set -euo pipefail

# Reads a params file's text into the array `args` (the rules above); an unmatched quote or bracket fails
# the check, saying which file.
params_to_args() {
  local split
  split=$(mktemp)
  if ! printf '%s\n' "$1" | awk '
    /^[[:space:]]*#/ { next }
    {
      token = ""; has = 0; depth = 0; dq = 0; sq = 0
      for (i = 1; i <= length($0); i++) {
        c = substr($0, i, 1)
        if (sq) { if (c == "\047") sq = 0; else token = token c; continue }
        if (dq) { token = token c; if (c == "\\") { i++; token = token substr($0, i, 1) } else if (c == "\"") dq = 0; continue }
        if (c == "\047") { sq = 1; has = 1; continue }
        if (c == "\"") { dq = 1; has = 1; token = token c; continue }
        if (c == "[" || c == "{") depth++
        if ((c == "]" || c == "}") && depth > 0) depth--
        if ((c == " " || c == "\t") && depth == 0) { if (has) print token; token = ""; has = 0; continue }
        token = token c; has = 1
      }
      if (sq || dq || depth > 0) { print "unmatched quote or bracket in: " $0 > "/dev/stderr"; exit 1 }
      if (has) print token
    }' >"$split" 2>"$split.err"; then
    fail "$2: cannot read its arguments: $(cat "$split.err")"
    rm -f "$split" "$split.err"
    return 1
  fi
  mapfile -t args <"$split"
  rm -f "$split" "$split.err"
}

runbooks=""
plans=""
sandbox_params=""
zkrunbook="${ZKRUNBOOK:-zkrunbook}"
base_port=""
update=0
usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --runbooks) runbooks=$2; shift 2 ;;
    --plans) plans=$2; shift 2 ;;
    --sandbox-params) sandbox_params=$2; shift 2 ;;
    --zkrunbook) zkrunbook=$2; shift 2 ;;
    --base-port) base_port=$2; shift 2 ;;
    --update) update=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "error: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
if [ -z "$runbooks" ] || [ -z "$plans" ]; then
  echo "error: --runbooks DIR and --plans DIR are required" >&2
  usage >&2
  exit 2
fi
command -v "$zkrunbook" >/dev/null 2>&1 || { echo "error: $zkrunbook not found: install zkrunbook or pass --zkrunbook PATH" >&2; exit 2; }

failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

echo "== validate $runbooks"
"$zkrunbook" validate "$runbooks" || fail "validate $runbooks"

echo "== plan snapshots ($plans)"
mkdir -p "$plans"
for runbook in "$runbooks"/*.json5; do
  name=$(basename "$runbook" .json5)
  params_to_args "$(cat "$plans/$name.params" 2>/dev/null || true)" "$plans/$name.params" || continue
  actual=$(mktemp)
  # A plan names state-folder paths (backups, for one); pinned to a node's, so the snapshot is the same
  # whoever runs the check (root or not, any ZKRUNBOOK_STATE_DIR). An offline plan writes nothing there.
  if ! ZKRUNBOOK_STATE_DIR=/var/lib/zkrunbook "$zkrunbook" plan "$runbook" --offline "${args[@]}" >"$actual" 2>&1; then
    fail "$name: plan --offline failed:"
    sed 's/^/    /' "$actual" >&2
  elif [ "$update" = 1 ]; then
    cp "$actual" "$plans/$name.plan"
    echo "updated $plans/$name.plan"
  elif [ ! -f "$plans/$name.plan" ]; then
    fail "$name: no committed plan: run with --update and commit $plans/$name.plan"
  elif ! diff -u "$plans/$name.plan" "$actual" >"$actual.diff"; then
    fail "$name: the plan changed (review; rerun with --update if intended):"
    sed 's/^/    /' "$actual.diff" >&2
  else
    echo "ok   $name: plan as committed"
  fi
  rm -f "$actual" "$actual.diff"
done

if [ -n "$sandbox_params" ]; then
  echo "== live plans against a sandbox ensemble"
  dir=$(mktemp -d /tmp/zkrunbook-ci-sandbox.XXXXXX)
  trap '"$zkrunbook" sandbox down --dir "$dir/zk" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
  started=0
  for attempt in 0 1 2 3 4; do
    base=${base_port:-$((23000 + ($$ % 40) * 400 + attempt * 17))}
    if "$zkrunbook" sandbox up --nodes 3 --dir "$dir/zk" --base-port "$base" >"$dir/up.log" 2>&1; then
      started=1
      break
    fi
    grep -q "is in use" "$dir/up.log" && [ -z "$base_port" ] || break
  done
  if [ "$started" != 1 ]; then
    cat "$dir/up.log" >&2
    echo "error: the sandbox did not start (it needs Java and ZooKeeper's jars: apt-get install -y zookeeper)" >&2
    exit 1
  fi
  echo "sandbox: 3 nodes in $dir/zk, base port $base"
  for runbook in "$runbooks"/*.json5; do
    name=$(basename "$runbook" .json5)
    if [ ! -f "$sandbox_params/$name.params" ]; then
      echo "note $name: no $sandbox_params/$name.params: not planned against the sandbox"
      continue
    fi
    text=$(sed -e "s#@ENSEMBLE@#$dir/zk/ensemble.json5#g" -e "s#@SERVER@#127.0.0.1:$((base + 1))#g" \
      -e "s#@CLIENTPORT@#$((base + 1))#g" -e "s#@ADMINPORT@#$((base + 301))#g" -e "s#@ZOOCFG@#$dir/zk/node1/zoo.cfg#g" \
      -e "s#@DIR@#$dir#g" "$sandbox_params/$name.params")
    expect_refusal=0
    if head -1 "$sandbox_params/$name.params" | grep -q '^# expect: refused'; then
      expect_refusal=1
    fi
    params_to_args "$text" "$sandbox_params/$name.params" || continue
    status=0
    "$zkrunbook" plan "$runbook" "${args[@]}" >"$dir/$name.plan" 2>&1 || status=$?
    if [ "$expect_refusal" = 1 ] && [ "$status" = 3 ]; then
      echo "ok   $name: refused against the healthy sandbox, as its params file expects: $(grep -m1 'would be refused\|refused' "$dir/$name.plan" | cut -c1-140)"
    elif [ "$expect_refusal" = 1 ]; then
      fail "$name: expected a refusal (exit 3) against the healthy sandbox, got exit $status:"
      tail -25 "$dir/$name.plan" | sed 's/^/    /' >&2
    elif [ "$status" = 0 ]; then
      echo "ok   $name: planned against the sandbox, nothing would be refused"
    else
      fail "$name: plan against the sandbox refused or failed:"
      tail -25 "$dir/$name.plan" | sed 's/^/    /' >&2
    fi
  done
fi

if [ "$failures" -gt 0 ]; then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "all runbook checks passed"
