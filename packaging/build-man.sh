#!/usr/bin/env bash
# Writes .build/dist/zkrunbook.1, the man page both packages ship: --help of every command, as roff.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .build/dist/zkrunbook ] || bash packaging/build-release.sh >/dev/null
version=$(.build/dist/zkrunbook --version | awk '{print $2}')
man=.build/dist/zkrunbook.1
{
  echo ".TH ZKRUNBOOK 1 \"$(date -u +%Y-%m-%d)\" \"zkrunbook $version\" \"User Commands\""
  echo ".SH NAME"; echo "zkrunbook \\- runbook automation for Apache ZooKeeper ensembles"
  echo ".SH SYNOPSIS"; echo ".B zkrunbook"; echo "\\fIcommand\\fR [\\fIoptions\\fR]"
  echo ".SH DESCRIPTION"; echo ".nf"
  .build/dist/zkrunbook --help | sed "s/\\\\/\\\\\\\\/g; s/^[.']/\\\\\\&&/"
  for command in list validate plan run resume status sandbox collect doctor install; do
    echo; echo ".SH \"$(echo "$command" | tr a-z A-Z)\""
    .build/dist/zkrunbook "$command" --help | sed "s/\\\\/\\\\\\\\/g; s/^[.']/\\\\\\&&/"
  done
  echo ".fi"
  echo ".SH FILES"
  echo "/usr/share/zkrunbook/runbooks, /etc/zkrunbook/runbooks (local runbooks, looked up first), /var/lib/zkrunbook (journals, locks)"
} >"$man"
echo "$man"
