#!/usr/bin/env bash
# Installs the .deb on this machine, uses it the way an operator would, and removes it cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "deb test: FAILED: dpkg -i needs root (run as root, or in CI)" >&2; exit 1; }
if dpkg -s zkrunbook >/dev/null 2>&1; then echo "deb test: FAILED: a zkrunbook package is already installed; remove it first" >&2; exit 1; fi
deb=$(bash packaging/build-deb.sh | tail -1 | awk '{print $1}')
fail() { echo "deb test: FAILED: $*" >&2; dpkg -P zkrunbook >/dev/null 2>&1 || true; exit 1; }
for tool in lintian systemd-analyze; do
  command -v "$tool" >/dev/null || fail "$tool is missing: bash packaging/install-deps.sh (apt-get install -y lintian systemd)"
done
# Debian's own checker: no error and no warning (the overrides in packaging/deb/lintian-overrides say why).
findings=$(lintian --fail-on error,warning "$deb" 2>&1 | grep -v 'running with root privileges' || true)
lintian --fail-on error,warning "$deb" >/dev/null 2>&1 || fail "lintian: $findings"
dpkg -i "$deb" >/dev/null || fail "dpkg -i $deb"
getent passwd zkrunbook >/dev/null || fail "the package did not create the zkrunbook user"
# The installed units: systemd's own verification, and the hardening score at 4.0 or below.
units="/lib/systemd/system/zkrunbook-health.service /lib/systemd/system/zkrunbook-health.timer"
verify=$(systemd-analyze verify $units 2>&1) || fail "systemd-analyze verify: $verify"
[ -z "$verify" ] || fail "systemd-analyze verify: $verify"
exposure=$(systemd-analyze security --offline=true /lib/systemd/system/zkrunbook-health.service 2>&1 | tail -1)
systemd-analyze security --offline=true --threshold=40 /lib/systemd/system/zkrunbook-health.service >/dev/null 2>&1 \
  || fail "systemd-analyze security: above 4.0: $exposure"
[ "$(/usr/bin/zkrunbook --version)" = "zkrunbook $(.build/dist/zkrunbook --version | awk '{print $2}')" ] || fail "--version"
scratch=$(mktemp -d)
# From a folder without ./runbooks: the runbooks come from /usr/share/zkrunbook/runbooks.
( cd "$scratch" && /usr/bin/zkrunbook validate --quiet /usr/share/zkrunbook/runbooks ) || fail "validate /usr/share/zkrunbook/runbooks"
[ -x /usr/share/zkrunbook/ci/check-runbooks.sh ] || fail "the CI check script is not installed"
listed=$(cd "$scratch" && /usr/bin/zkrunbook list --all) || fail "list failed"
grep -q "/usr/share/zkrunbook/runbooks/health-check.json5" <<<"$listed" || fail "list does not find the installed runbooks"
# From /, by name: found beside the installed binary; a misspelt name gets the nearest one.
( cd / && /usr/bin/zkrunbook validate --quiet rolling-restart ) || fail "validate rolling-restart by name from /"
misspelt=$(cd / && /usr/bin/zkrunbook validate rolling-restat 2>&1) && fail "a misspelt runbook name was accepted"
grep -q "did you mean 'rolling-restart'" <<<"$misspelt" || fail "no suggestion for a misspelt runbook name: $misspelt"
printf 'tickTime=2000\nclientPort=2181\n' > "$scratch/zoo.cfg"
( cd "$scratch" && /usr/bin/zkrunbook run zoo-cfg-set --state-dir "$scratch/state" --param config="$scratch/zoo.cfg" \
    --param key=maxClientCnxns --param value=200 >/dev/null ) || fail "run zoo-cfg-set from /usr/share"
grep -qx 'maxClientCnxns=200' "$scratch/zoo.cfg" || fail "the runbook did not change the file"
[ -f /usr/share/man/man1/zkrunbook.1.gz ] || fail "no man page"
# Read whole before grep: under pipefail, grep -q leaving early breaks zcat's pipe (seen once the page
# outgrew one pipe buffer: "the man page is empty" for a page of 33 KB).
page1=$(zcat /usr/share/man/man1/zkrunbook.1.gz)
grep -q "rolling" <<<"$page1" || fail "the man page is empty"
for page in /usr/share/man/man1/zkrunbook.1.gz /usr/share/man/man5/zkrunbook-runbook.5.gz /usr/share/man/man5/zkrunbook-ensemble.5.gz; do
  [ -f "$page" ] || fail "no man page $page"
  warnings=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null) || fail "man -l $page: $warnings"
  [ -z "$warnings" ] || fail "man -l $page warns: $warnings"
done
page5=$(zcat /usr/share/man/man5/zkrunbook-runbook.5.gz)
grep -q '^\.B zk-reconfig$' <<<"$page5" || fail "zkrunbook-runbook(5) does not list the actions"
ensemble5=$(zcat /usr/share/man/man5/zkrunbook-ensemble.5.gz)
grep -q '^\.B secureClientPort$' <<<"$ensemble5" || fail "zkrunbook-ensemble(5) does not list the node keys"
# The installed example is a valid ensemble file, checked offline by the installed binary.
zkrunbook validate --ensemble /usr/share/zkrunbook/examples/ensemble.json5 >/dev/null || fail "validate --ensemble on the installed example"
dpkg -r zkrunbook >/dev/null || fail "dpkg -r"
[ ! -e /usr/bin/zkrunbook ] || fail "/usr/bin/zkrunbook is still there after dpkg -r"
dpkg -P zkrunbook >/dev/null || fail "dpkg -P"
[ ! -e /usr/share/zkrunbook ] || fail "/usr/share/zkrunbook is still there after purge"
rm -rf "$scratch"
echo "deb test: ok ($(basename "$deb"): lintian clean, installed with its user, units verified ($exposure), --version, validate/list/run from /usr/share, man page, removed and purged)"
