#!/usr/bin/env bash
# Installs what zkrunbook's build, tests and quick start need, from Debian's packages.
# Idempotent: does nothing when everything is already there (no apt-get update either).
set -euo pipefail

needed=()
command -v swift >/dev/null 2>&1 || { echo "install-deps: no Swift toolchain on PATH; install Swift 6 first" >&2; exit 1; }
command -v bash >/dev/null || needed+=(bash)
command -v grep >/dev/null || needed+=(grep)
command -v tar >/dev/null || needed+=(tar)

if [ ${#needed[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${needed[*]}; run as root or: sudo apt-get install -y ${needed[*]}" >&2
  exit 1
fi
echo "install-deps: installing ${needed[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${needed[@]}" >/dev/null
