#!/usr/bin/env bash
# Puts the server jars of other ZooKeeper versions where `zkrunbook sandbox up --zookeeper VERSION` finds
# them ($ZKRUNBOOK_ZOOKEEPER_JARS, default ~/.cache/zkrunbook/zookeeper-jars), each file checked against
# packaging/zookeeper-jars.sha256. Debian's own zookeeper package is 3.8.0.
#
#   3.4.14  from pyspark 3.1.3's sdist    3.6.3  from pyspark 3.5.3's    3.9.3  from pyspark 4.0.1's
#   netty-4.1.118  from pyspark 4.0.1's too: only asked by name. ZooKeeper 3.9.3's quorum TLS needs Netty
#                  4.1.113 or newer (ZOOKEEPER-4293); Debian 12's libnetty-java is 4.1.48.
#
# Taken from a shared folder when one is there (--from DIR, else ../shared/zookeeper-jars beside the
# repository, as CI lays it out); otherwise the pyspark sdist is downloaded from PyPI once (hundreds of MB)
# and only the jars are kept. Usage: fetch-zookeeper-jars.sh [--from DIR] [--dest DIR] [VERSION...]
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
sums="$repo/packaging/zookeeper-jars.sha256"
dest="${ZKRUNBOOK_ZOOKEEPER_JARS:-$HOME/.cache/zkrunbook/zookeeper-jars}"
from=""
versions=()
while [ $# -gt 0 ]; do
  case "$1" in
    --from) from=$2; shift 2 ;;
    --dest) dest=$2; shift 2 ;;
    -h | --help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "error: unknown option $1" >&2; exit 2 ;;
    *) versions+=("$1"); shift ;;
  esac
done
[ ${#versions[@]} -gt 0 ] || versions=(3.4.14 3.6.3 3.9.3)
[ -n "$from" ] || from="$repo/../shared/zookeeper-jars"

pyspark_for() {
  case "$1" in
    3.4.14) echo 3.1.3 ;;
    3.6.3) echo 3.5.3 ;;
    3.9.3 | netty-4.1.118) echo 4.0.1 ;;
    *) echo "error: no known source for ZooKeeper $1 (known: 3.4.14, 3.6.3, 3.9.3, netty-4.1.118)" >&2; return 2 ;;
  esac
}

# True when every jar listed for the version is in DIR with its checksum.
verified() {
  local version=$1 dir=$2
  grep " $version/" "$sums" | while read -r sum path; do
    [ -f "$dir/$(basename "$path")" ] || exit 1
    echo "$sum  $dir/$(basename "$path")"
  done | sha256sum --check --quiet --status 2>/dev/null
}

for version in "${versions[@]}"; do
  target="$dest/$version"
  if [ -d "$target" ] && verified "$version" "$target"; then
    echo "zookeeper $version: $target (cached)"
    continue
  fi
  mkdir -p "$target.tmp"
  if [ -d "$from/$version" ] && verified "$version" "$from/$version"; then
    cp "$from/$version"/*.jar "$target.tmp/"
    source="$from/$version"
  else
    pyspark=$(pyspark_for "$version")
    download=$(mktemp -d)
    echo "zookeeper $version: downloading pyspark $pyspark's source distribution from PyPI (once; only its jars are kept)"
    python3 -m pip download --quiet --no-deps --no-binary :all: "pyspark==$pyspark" -d "$download" >/dev/null
    archive=$(ls "$download"/pyspark-*.tar.gz)
    grep " $version/" "$sums" | while read -r _ path; do
      tar -xzf "$archive" -C "$download" --wildcards "*/deps/jars/$(basename "$path")"
    done
    find "$download" -path '*/deps/jars/*.jar' -exec cp {} "$target.tmp/" \;
    rm -rf "$download"
    source="pyspark $pyspark"
  fi
  if ! verified "$version" "$target.tmp"; then
    echo "error: the jars of ZooKeeper $version from $source do not match packaging/zookeeper-jars.sha256" >&2
    rm -rf "$target.tmp"
    exit 1
  fi
  rm -rf "$target"
  mv "$target.tmp" "$target"
  echo "zookeeper $version: $target (from $source)"
done
