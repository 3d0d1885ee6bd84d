#!/usr/bin/env bash
# Makes real ZooKeeper servers on loopback write the logs of real incidents, for the corpus doctor is tested
# against (Tests/fixtures/incident-logs). Every fault is caused for real on real servers (sandboxes of
# `zkrunbook sandbox`); nothing in a log is written by hand. Each incident runs in a fresh sandbox, is
# proven by a fixed string the servers log after the fault (waited for, with a deadline), and leaves
# OUT/<version>/<incident>/nodeN.log.gz (gzip -9) and made.txt (what was done, when, with which timings).
set -euo pipefail

ALL_VERSIONS="3.4.14 3.6.3 3.8.0 3.9.3"
ALL_INCIDENTS="http-on-client-port kafka-on-client-port no-snapshot-after-upgrade wal-file-size-limit
corrupted-snapshot frozen-leader follower-frozen left-looking session-flood connection-flood port-in-use"

usage() {
  cat <<EOF
Usage: bash Tests/support/make-incident-logs.sh --zkrunbook BIN [--out DIR] [--versions "V ..."]
                                                [--incidents "NAME ..."] [--base-port 28000]

Causes incidents for real on ZooKeeper sandboxes (BIN sandbox) and keeps the servers' logs:
OUT/<version>/<incident>/nodeN.log.gz and made.txt. An incident's folder is replaced only when its
fault showed in the log (its proof string, grep -F, after the fault).

  --zkrunbook BIN   the zkrunbook binary whose sandbox starts the servers (required)
  --out DIR         output folder (default Tests/fixtures/incident-logs)
  --versions LIST   ZooKeeper versions (default "$ALL_VERSIONS"); 3.8.0 is Debian's,
                    the others come from \$ZKRUNBOOK_ZOOKEEPER_JARS (default ~/.cache/zkrunbook/zookeeper-jars)
  --incidents LIST  incidents (default: all):
$(printf '%s\n' $ALL_INCIDENTS | sed 's/^/                      /')
  --base-port P     first port (default 28000); sandboxes take 400 ports each, rotating below 32768
  -h, --help        this help

Exit codes: 0 every incident run showed its fault (skipped ones listed), 1 an incident failed, 2 usage.
EOF
}

die_usage() { echo "make-incident-logs: $*" >&2; echo "try --help" >&2; exit 2; }

ZKR="" OUT="Tests/fixtures/incident-logs" VERSIONS=$ALL_VERSIONS INCIDENTS=$ALL_INCIDENTS BASE=28000
while [ $# -gt 0 ]; do
  case $1 in
    --zkrunbook) [ $# -ge 2 ] || die_usage "$1 needs a value"; ZKR=$2; shift 2 ;;
    --out) [ $# -ge 2 ] || die_usage "$1 needs a value"; OUT=$2; shift 2 ;;
    --versions) [ $# -ge 2 ] || die_usage "$1 needs a value"; VERSIONS=$2; shift 2 ;;
    --incidents) [ $# -ge 2 ] || die_usage "$1 needs a value"; INCIDENTS=$2; shift 2 ;;
    --base-port) [ $# -ge 2 ] || die_usage "$1 needs a value"; BASE=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) die_usage "unknown argument: $1" ;;
  esac
done
[ -n "$ZKR" ] || die_usage "--zkrunbook BIN is required"
[ -x "$ZKR" ] || die_usage "not an executable: $ZKR"
ZKR=$(cd "$(dirname "$ZKR")" && pwd)/$(basename "$ZKR")
[[ $BASE =~ ^[0-9]+$ ]] && [ "$BASE" -ge 1024 ] && [ $((BASE + 400)) -le 32768 ] ||
  die_usage "--base-port must be a number from 1024 to 32368 (ephemeral ports start at 32768)"
for i in $INCIDENTS; do
  [[ " $(echo $ALL_INCIDENTS) " == *" $i "* ]] || die_usage "unknown incident: $i (see --help)"
done
for v in $VERSIONS; do [[ $v =~ ^3\.[0-9]+\.[0-9]+$ ]] || die_usage "not a ZooKeeper version: $v"; done

HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
SOCKETS="$PY $HERE/incidents.py"
$PY -c 'import kazoo' 2>/dev/null || { echo "make-incident-logs: $PY has no kazoo (apt-get install python3-kazoo)" >&2; exit 2; }
command -v gzip ss >/dev/null || { echo "make-incident-logs: needs gzip and ss" >&2; exit 2; }
export ZKRUNBOOK_ZOOKEEPER_JARS=${ZKRUNBOOK_ZOOKEEPER_JARS:-$HOME/.cache/zkrunbook/zookeeper-jars}
# ZooKeeper's shipped log4j layout, so the logs read like a real installation's.
export ZKRUNBOOK_SANDBOX_LOG4J_PATTERN='%d{ISO8601} [myid:%X{myid}] - %-5p [%t:%C{1}@%L] - %m%n'
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
WORK=$(mktemp -d /tmp/zk-incidents.XXXXXX)
CHILD=""
trap 'rm -rf "$WORK"' EXIT
trap 'if [ -n "$CHILD" ]; then kill -TERM "$CHILD" 2>/dev/null; wait "$CHILD"; fi; exit 130' INT TERM

# ---------------------------------------------------------------- helpers (used inside an incident's subshell)

SLOT=0 SLOTS=$(((32768 - BASE) / 400))
SANDBOXES=() HELPERS=()

# Everything an incident started goes, even when it failed: stopped JVMs resumed first (a SIGSTOPped one
# would not stop), helpers killed by pid, sandboxes down.
incident_cleanup() {
  local d p
  for d in "${SANDBOXES[@]}"; do
    for p in "$d"/node*/pid; do [ -f "$p" ] && kill -CONT "$(cat "$p")" 2>/dev/null || true; done
  done
  for p in "${HELPERS[@]}"; do kill "$p" 2>/dev/null || true; done
  for d in "${SANDBOXES[@]}"; do "$ZKR" sandbox down --dir "$d" >/dev/null 2>&1 || true; done
}

zk_flag() { [ "$1" = 3.8.0 ] || echo "--zookeeper $1"; } # 3.8.0: Debian's package, the sandbox's default

ports_free() { # first: none of first..first+399 is listening
  ! ss -Htln | awk '{print $4}' | sed 's/.*://' | awk -v a="$1" -v b="$(($1 + 399))" '$1 >= a && $1 <= b {f = 1} END {exit !f}'
}

# sb_up DIR NODES VERSION [extra up options]: a sandbox on the next free slot; sets PORT0 (node i: PORT0+i).
# A sandbox that does not come up (a port taken between the check and the bind) is tried once more on the
# next slot: that is not the incident.
sb_up() {
  local dir=$1 nodes=$2 version=$3 tries=0 attempt
  shift 3
  SANDBOXES+=("$dir")
  for attempt in 1 2; do
    while :; do
      PORT0=$((BASE + (SLOT % SLOTS) * 400))
      SLOT=$((SLOT + 1))
      ports_free "$PORT0" && break
      tries=$((tries + 1))
      [ $tries -lt "$SLOTS" ] || { echo "no free block of 400 ports from $BASE" >&2; return 1; }
    done
    # shellcheck disable=SC2046
    "$ZKR" sandbox up --dir "$dir" --nodes "$nodes" --base-port "$PORT0" $(zk_flag "$version") "$@" >"$dir.up" 2>&1 && return 0
    echo "  sandbox up on ports $PORT0+ failed (attempt $attempt):" >&2
    sed 's/^/    /' "$dir.up" >&2
    "$ZKR" sandbox down --dir "$dir" >/dev/null 2>&1 || true
    rm -rf "$dir"
  done
  return 1
}

node() { "$ZKR" sandbox "$1" --node "$2" --dir "$DIR" "${@:3}" >/dev/null; }

# The end of each node's log now: a proof counts only what is written after it.
declare -A MARK=()
mark() { local n; for n in $NODES; do MARK[$n]=$(stat -c %s "$DIR/node$n/zookeeper.log"); done; }
since_mark() { tail -c +$((${MARK[$1]:-0} + 1)) "$DIR/node$1/zookeeper.log"; }

# prove TIMEOUT_S "STRING" "NODES" [MIN_COUNT]: waits until STRING appears MIN_COUNT times after the mark in
# those nodes' logs; otherwise says so loudly (with each log's tail) and fails the incident.
prove() {
  local timeout=$1 proof=$2 nodes=$3 want=${4:-1} n count deadline line
  deadline=$((SECONDS + timeout))
  while :; do
    count=0
    for n in $nodes; do count=$((count + $(since_mark "$n" | grep -cF -- "$proof" || true))); done
    [ "$count" -lt "$want" ] || break
    if [ $SECONDS -ge "$deadline" ]; then
      echo "FAILED: ZooKeeper $VERSION, $INCIDENT: '$proof' seen $count time(s) in node(s) $nodes within ${timeout}s, wanted $want" >&2
      for n in $nodes; do echo "--- node $n: last 20 lines" >&2; tail -n 20 "$DIR/node$n/zookeeper.log" >&2; done
      REPORTED=1
      return 1
    fi
    sleep 0.2
  done
  PROOFS+="${PROOFS:+; }'$proof' ($count in node(s) ${nodes// /,})"
  for n in $nodes; do
    line=$(since_mark "$n" | grep -F -m1 -- "$proof" || true)
    [ -z "$line" ] || { PROVEN+="node $n: $line"$'\n'; break; }
  done
  echo "  proof '$proof': $count time(s) in node(s) $nodes"
}

wait_healthy() { # the ensemble serving with a leader (zkrunbook status exits 0 only then)
  local deadline=$((SECONDS + ${1:-60}))
  until "$ZKR" sandbox status --dir "$DIR" >/dev/null 2>&1; do
    [ $SECONDS -lt "$deadline" ] || { echo "FAILED: ZooKeeper $VERSION, $INCIDENT: not healthy again within ${1:-60}s" >&2; REPORTED=1; return 1; }
    sleep 0.2
  done
}

leader() { # the node that answers srvr with Mode: leader
  local n
  for n in $NODES; do
    $SOCKETS four-letter-word 127.0.0.1 $((PORT0 + n)) srvr 2>/dev/null | grep -q '^Mode: leader' && { echo "$n"; return; }
  done
  echo "no leader among nodes $NODES" >&2
  return 1
}

pid_of() { cat "$DIR/node$1/pid"; }
cfg() { sed -n "s/^$2=//p" "$DIR/node$1/zoo.cfg" | tail -n1; }
set_cfg() { # node key value: replaces the key or appends it
  local f="$DIR/node$1/zoo.cfg"
  if grep -q "^$2=" "$f"; then sed -i "s|^$2=.*|$2=$3|" "$f"; else echo "$2=$3" >>"$f"; fi
}
data_dir() { echo "$(cfg "$1" dataDir)/version-2"; }

writes() { # writes COUNT znodes of 100 bytes under /incident through node 1
  $PY - "127.0.0.1:$((PORT0 + 1))" "$1" <<'EOF'
import logging, sys
from kazoo.client import KazooClient
logging.basicConfig(level=logging.CRITICAL)
zk = KazooClient(hosts=sys.argv[1], timeout=10)
zk.start(timeout=30)
for i in range(int(sys.argv[2])):
    zk.create("/incident/n%03d" % i, b"x" * 100, makepath=True)
zk.stop()
EOF
}

# The sync timeout (tickTime*syncLimit) the servers run with, and a freeze comfortably past it.
freeze_ms() { echo $(($(cfg 1 tickTime) * $(cfg 1 syncLimit) * 2)); }
freeze() { # node ms: SIGSTOP for that long, then SIGCONT
  local p
  p=$(pid_of "$1")
  kill -STOP "$p"
  sleep "$(awk -v ms="$2" 'BEGIN {printf "%.1f", ms / 1000}')"
  kill -CONT "$p"
}

# ---------------------------------------------------------------- incidents
# Each sets NODES (the sandbox's), KEEP (nodes whose log is kept whatever its size) and MADE (what was done).

inc_http-on-client-port() {
  sb_up "$DIR" 3 "$VERSION"; NODES="1 2 3" KEEP=1
  mark
  $SOCKETS foreign-request 127.0.0.1 $((PORT0 + 1)) http
  prove 20 "Len error" 1
  MADE="an HTTP request (GET / HTTP/1.1, Host: zk) sent over a raw socket to node 1's client port of a healthy 3-node ensemble"
}

inc_kafka-on-client-port() {
  sb_up "$DIR" 3 "$VERSION"; NODES="1 2 3" KEEP=1
  mark
  $SOCKETS foreign-request 127.0.0.1 $((PORT0 + 1)) kafka
  # The 4-byte length (45) is plausible; the ConnectRequest read from the Kafka bytes then is not.
  prove 20 "Unreasonable length" 1
  MADE="a Kafka producer's first request (ApiVersions v3, client id producer-1, apache-kafka-java 3.6.1) sent over a raw socket to node 1's client port of a healthy 3-node ensemble"
}

inc_no-snapshot-after-upgrade() {
  # One server, upgraded in place: the sandbox lays both releases out and the node's link picks one.
  sb_up "$DIR" 1 3.4.14 --versions "$VERSION"; NODES=1 KEEP=1
  writes 20
  node stop 1
  local v2 removed
  v2=$(data_dir 1)
  removed=$(cd "$v2" && ls snapshot.* 2>/dev/null | paste -sd' ' - || true)
  rm -f "$v2"/snapshot.*
  ln -sfn "$DIR/opt/zookeeper-$VERSION" "$DIR/node1/zookeeper"
  mark
  node start 1 || true # it is expected to refuse the data and exit
  prove 30 "No snapshot found, but there are log entries" 1
  local snapshots="no snapshot (3.4 had written none)"
  [ -z "$removed" ] || snapshots="the snapshot(s) $removed, removed"
  MADE="a standalone 3.4.14 server took 20 writes (kazoo) and was stopped; its data folder held transaction logs ($(cd "$v2" && ls | paste -sd' ' -)) and $snapshots; then the same node was started on $VERSION on that data folder, as an in-place upgrade (same zoo.cfg, same log file)"
}

inc_wal-file-size-limit() {
  sb_up "$DIR" 1 "$VERSION"; NODES=1 KEEP=1
  # A file-size limit far above the log (stderr, which it also caps) but below the 64 MB preallocation of a
  # transaction log: the first write's log file cannot grow. Inherited by the JVM the sandbox starts.
  local blocks=8192
  node stop 1
  mark
  bash -c "ulimit -f $blocks; exec \"\$0\" sandbox start --node 1 --dir \"\$1\" --wait" "$ZKR" "$DIR" >/dev/null
  $PY - "127.0.0.1:$((PORT0 + 1))" <<'EOF' || true # the write is expected to fail
import logging, sys
from kazoo.client import KazooClient
logging.basicConfig(level=logging.CRITICAL)
zk = KazooClient(hosts=sys.argv[1], timeout=4, connection_retry={"max_tries": 2})
try:
    zk.start(timeout=5)  # creating the session is itself a transaction
    zk.create("/incident", b"x" * 100)
    print("  the write succeeded")
except Exception as e:
    print("  the write failed: %s" % type(e).__name__)
zk.stop()
EOF
  prove 30 "File too large" 1
  MADE="a standalone server restarted under 'ulimit -f $blocks' (512-byte blocks: 4 MiB, below the 64 MB preallocation of a transaction log), then a kazoo client connected to create a znode (its session creation is the first transaction)"
}

inc_corrupted-snapshot() {
  sb_up "$DIR" 3 "$VERSION"; NODES="1 2 3" KEEP=2
  # A small snapCount on node 2 so that it has several snapshots holding data, as a server in use has.
  set_cfg 2 snapCount 20
  node restart 2 --wait
  wait_healthy 60
  writes 50
  node stop 2
  local v2 f size snaps=""
  v2=$(data_dir 2)
  for f in "$v2"/snapshot.*; do
    [ -f "$f" ] || continue
    size=$(stat -c %s "$f")
    # 64 bytes of garbage from the middle on, size kept: what a bad disk block looks like (fixed bytes, so
    # that a run gives the same failure as the one before).
    printf 'GARBAGE!%.0s' 1 2 3 4 5 6 7 8 | dd of="$f" bs=1 seek=$((size / 2)) conv=notrunc status=none
    snaps+="$(basename "$f") ($size bytes) "
  done
  [ -n "$snaps" ] || { echo "FAILED: ZooKeeper $VERSION, $INCIDENT: node 2 has no snapshot to corrupt" >&2; return 1; }
  mark
  node start 2 || true # it is expected to fail loading its database
  prove 30 "problem reading snap file" 2
  prove 30 "Unable to load database on disk" 2
  MADE="a healthy 3-node ensemble, node 2 restarted with snapCount=20, took 50 writes (kazoo); node 2 was stopped and 64 bytes of garbage ('GARBAGE!' x 8) were written over the middle of each of its snapshots (${snaps% }), sizes kept, transaction logs left; then node 2 was started"
}

inc_frozen-leader() {
  sb_up "$DIR" 3 "$VERSION"; NODES="1 2 3" KEEP="1 2 3"
  local monitor=yes
  # jvm.pause.monitor arrived in 3.6: earlier servers are frozen all the same, they just cannot say so.
  [[ $VERSION == 3.[45].* ]] && monitor=no
  if [ $monitor = yes ]; then
    local n
    for n in $NODES; do set_cfg "$n" jvm.pause.monitor true; node restart "$n" --wait; wait_healthy 60; done
  fi
  local l ms others
  l=$(leader)
  ms=$(freeze_ms)
  others=$(echo $NODES | tr ' ' '\n' | grep -vx "$l" | paste -sd' ' -)
  mark
  freeze "$l" "$ms"
  wait_healthy 60
  [ $monitor = no ] || prove 20 "Detected pause in JVM" "$l"
  prove 30 "LEADER ELECTION TOOK" "$others"
  local how="no pause monitor: $VERSION has none"
  [ $monitor = no ] || how="jvm.pause.monitor=true on every node, each restarted"
  MADE="a healthy 3-node ensemble ($how); the leader, node $l, was frozen (SIGSTOP) for $ms ms, then resumed (SIGCONT); the ensemble was healthy again"
}

inc_follower-frozen() {
  sb_up "$DIR" 3 "$VERSION"; NODES="1 2 3" KEEP="1 2 3"
  local l f ms
  l=$(leader)
  f=$(echo $NODES | tr ' ' '\n' | grep -vx "$l" | head -n1)
  ms=$(freeze_ms)
  mark
  freeze "$f" "$ms"
  wait_healthy 60
  # The leader's LearnerHandler for that follower gives up: its socket read times out after syncLimit ticks
  # (the wording around it differs by version; the exception and GOODBYE do not).
  prove 30 "Read timed out" "$l"
  prove 30 "GOODBYE" "$l"
  prove 30 "Exception when following the leader" "$f"
  MADE="a healthy 3-node ensemble; follower node $f was frozen (SIGSTOP) for $ms ms, then resumed (SIGCONT); leader node $l; the ensemble was healthy again"
}

inc_left-looking() {
  sb_up "$DIR" 3 "$VERSION"; NODES="1 2 3" KEEP=1
  mark
  node stop 2
  node stop 3
  local started=$SECONDS
  # A client knocking once on the server that has no quorum.
  $PY - "127.0.0.1:$((PORT0 + 1))" <<'EOF' || true
import logging, sys
from kazoo.client import KazooClient
logging.basicConfig(level=logging.CRITICAL)
zk = KazooClient(hosts=sys.argv[1], timeout=2, connection_retry={"max_tries": 0})
try:
    zk.start(timeout=2)
except Exception as e:
    print("  the client could not connect: %r" % type(e).__name__)
zk.stop()
zk.close()
EOF
  prove 10 "ZooKeeperServer not running" 1
  # The notification timeout doubles from 200 ms: 51200 ms is logged after ~51 s alone.
  prove 90 "Notification time out: 51200" 1
  local alone=$((SECONDS - started))
  node start 2
  node start 3
  wait_healthy 60
  prove 5 "Notification time out:" 1 5
  MADE="a healthy 3-node ensemble; nodes 2 and 3 were stopped, a kazoo client tried node 1 once (2 s timeout, no retry), node 1 was left electing alone for ${alone} s (until its notification timeout reached 51200 ms), then nodes 2 and 3 were started again and the ensemble was healthy again"
}

inc_session-flood() {
  sb_up "$DIR" 3 "$VERSION"; NODES="1 2 3" KEEP="1 2 3"
  mark
  # 60 sessions from one process that dies without closing them: the leader expires every one.
  $PY - "127.0.0.1:$((PORT0 + 1))" <<'EOF'
import logging, os, sys
from kazoo.client import KazooClient
logging.basicConfig(level=logging.CRITICAL)
clients = []
for _ in range(60):
    zk = KazooClient(hosts=sys.argv[1], timeout=4)
    zk.start(timeout=20)
    clients.append(zk)
print("  60 sessions open; exiting without closing them")
sys.stdout.flush()
os._exit(0)
EOF
  prove 60 "Expiring session" "$NODES" 60
  MADE="a healthy 3-node ensemble; one python process opened 60 kazoo sessions (timeout=4 s) to node 1, then exited with os._exit(0) without closing them; they were left to expire"
}

inc_connection-flood() {
  sb_up "$DIR" 3 "$VERSION"; NODES="1 2 3" KEEP=1
  set_cfg 1 maxClientCnxns 10
  node restart 1 --wait
  wait_healthy 60
  mark
  $SOCKETS connection-burst 127.0.0.1 $((PORT0 + 1)) 30 10 3
  prove 20 "Too many connections from" 1
  MADE="a healthy 3-node ensemble, node 1 restarted with maxClientCnxns=10; one process opened 30 sockets at once to node 1's client port, held them until the server turned one away, and closed them, three times"
}

inc_port-in-use() {
  sb_up "$DIR" 3 "$VERSION"; NODES="1 2 3" KEEP=1
  node stop 1
  local port=$((PORT0 + 1)) ready="$DIR/occupied"
  $SOCKETS occupy-port 127.0.0.1 "$port" >"$ready" 2>&1 &
  HELPERS+=($!)
  local deadline=$((SECONDS + 10))
  until grep -qs listening "$ready"; do
    [ $SECONDS -lt $deadline ] || { echo "FAILED: could not occupy port $port: $(cat "$ready")" >&2; return 1; }
    sleep 0.1
  done
  mark
  node start 1 || true # it is expected to fail binding its client port
  prove 30 "Address already in use" 1
  kill "${HELPERS[-1]}"
  wait "${HELPERS[-1]}" 2>/dev/null || true
  unset 'HELPERS[-1]'
  node restart 1 --wait
  wait_healthy 60
  MADE="a healthy 3-node ensemble; node 1 stopped, its client port $port bound and listened on by another process (python), node 1 started: it failed to bind; then the port was released and node 1 restarted normally and the ensemble was healthy again"
}

# ---------------------------------------------------------------- the matrix

skip_reason() { # version incident: why it cannot be caused there (empty: it can)
  case $2 in
    no-snapshot-after-upgrade)
      [[ $1 == 3.4.* ]] && echo "it is the upgrade FROM 3.4.14 to a 3.5+ server (3.4 has no such check: it loads transaction logs without a snapshot)" ;;
  esac
  return 0
}

# Each node's whole log, gzip -9; a node outside KEEP only when its log is small (under 40 KB compressed).
collect() {
  local stage=$1 n
  mkdir -p "$stage"
  for n in $NODES; do
    gzip -9 -c "$DIR/node$n/zookeeper.log" >"$stage/node$n.log.gz"
    if [[ " $KEEP " != *" $n "* ]] && [ "$(stat -c %s "$stage/node$n.log.gz")" -gt 40960 ]; then rm "$stage/node$n.log.gz"; fi
  done
  {
    echo "ZooKeeper $VERSION$([ "$VERSION" = 3.8.0 ] && echo " (Debian's package)"), made $(date -u +%Y-%m-%d) by Tests/support/make-incident-logs.sh on loopback sandboxes (zkrunbook sandbox, tickTime=$(cfg 1 tickTime), syncLimit=$(cfg 1 syncLimit)): $MADE. Took ${ELAPSED} s. Proof (grep -F, counted after the fault): $PROOFS."
  } | fold -s -w 110 >"$stage/made.txt"
}

run_incident() { # in a subshell: its own traps, its failures its own
  set -Eeuo pipefail
  trap '[ -n "${REPORTED:-}" ] || echo "FAILED: ZooKeeper $VERSION, $INCIDENT: this failed (exit $?): $BASH_COMMAND" >&2; REPORTED=1' ERR
  trap incident_cleanup EXIT
  trap 'exit 130' INT TERM
  DIR="$WORK/$VERSION-$INCIDENT" PROVEN="" PROOFS=""
  local start=$SECONDS stage="$WORK/out/$VERSION/$INCIDENT"
  "inc_$INCIDENT"
  ELAPSED=$((SECONDS - start))
  collect "$stage"
  printf '%s' "$PROVEN" >"$stage.first-lines"
  rm -rf "${OUT:?}/$VERSION/$INCIDENT"
  mkdir -p "$OUT/$VERSION"
  mv "$stage" "$OUT/$VERSION/$INCIDENT"
}

START=$SECONDS
DONE=() FAILED=() SKIPPED=() RUNS=0
mkdir -p "$WORK/out"
for VERSION in $VERSIONS; do
  for INCIDENT in $INCIDENTS; do
    why=$(skip_reason "$VERSION" "$INCIDENT")
    if [ -n "$why" ]; then
      echo "== $VERSION $INCIDENT: skipped: $why"
      SKIPPED+=("$VERSION $INCIDENT: $why")
      continue
    fi
    echo "== $VERSION $INCIDENT"
    t=$SECONDS
    set +e
    SLOT=$RUNS # consecutive incidents on different ports: nothing lingers from the one before
    RUNS=$((RUNS + 1))
    # In the background and waited for: a signal to this script then reaches the incident at once (its
    # own trap cleans up), instead of waiting for it to finish.
    (run_incident) &
    CHILD=$!
    wait $CHILD
    rc=$?
    CHILD=""
    set -e
    [ $rc -ne 130 ] || exit 130
    if [ $rc -eq 0 ]; then
      DONE+=("$VERSION $INCIDENT ($((SECONDS - t))s)$(printf '\n'; sed 's/^/           /' "$WORK/out/$VERSION/$INCIDENT.first-lines" | cut -c1-250)")
    else
      FAILED+=("$VERSION $INCIDENT")
    fi
  done
done

echo
echo "== summary ($((SECONDS - START))s, corpus $(du -sh --apparent-size "$OUT" | cut -f1) in $OUT)"
for l in "${DONE[@]}"; do echo "made     $l"; done
for l in "${SKIPPED[@]}"; do echo "skipped  $l"; done
for l in "${FAILED[@]}"; do echo "FAILED   $l"; done
[ ${#FAILED[@]} -eq 0 ]
