#!/usr/bin/env bash
# Builds the RPM with rpmbuild -bb (Debian's rpm package) and checks what it holds: every file the .deb
# ships, the units, the man page, the licence, and the scriptlets that make the user and enable the timer.
set -euo pipefail
cd "$(dirname "$0")/.."
fail() { echo "rpm test: FAILED: $*" >&2; exit 1; }
command -v rpmbuild >/dev/null || fail "rpmbuild is missing: bash packaging/install-deps.sh (apt-get install -y rpm)"
rpm=$(bash packaging/build-rpm.sh | tail -1 | awk '{print $1}')
files=$(rpm -qlp "$rpm" 2>/dev/null)
for expected in /usr/bin/zkrunbook /usr/share/zkrunbook/runbooks/rolling-restart.json5 /usr/share/zkrunbook/examples/ensemble.json5 \
  /usr/share/zkrunbook/ci/check-runbooks.sh /usr/share/zkrunbook/prometheus/zookeeper-alerts.yml \
  /usr/share/zkrunbook/grafana/zookeeper-dashboard.json /usr/share/bash-completion/completions/zkrunbook \
  /usr/lib/systemd/system/zkrunbook-health.service /usr/lib/systemd/system/zkrunbook-health.timer \
  /usr/share/licenses/zkrunbook/LICENSE /usr/share/doc/zkrunbook/README.md /etc/zkrunbook/runbooks /var/lib/zkrunbook; do
  grep -qx -- "$expected" <<<"$files" || fail "$expected is not in $(basename "$rpm")"
done
grep -q '^/usr/share/man/man1/zkrunbook.1' <<<"$files" || fail "no zkrunbook(1) in $(basename "$rpm")"
grep -q '^/usr/share/man/man5/zkrunbook-runbook.5' <<<"$files" || fail "no zkrunbook-runbook(5) in $(basename "$rpm")"
grep -q '^/usr/share/man/man5/zkrunbook-ensemble.5' <<<"$files" || fail "no zkrunbook-ensemble(5) in $(basename "$rpm")"
runbooks=$(grep -c '^/usr/share/zkrunbook/runbooks/[^/]*\.json5$' <<<"$files")
[ "$runbooks" -eq "$(ls runbooks/*.json5 | wc -l)" ] || fail "$runbooks runbooks in the package, $(ls runbooks/*.json5 | wc -l) in runbooks/"
# The parts the runbooks include, beside them as in the repository (a runbook without its part does not load).
parts=$(grep -c '^/usr/share/zkrunbook/runbooks/parts/[^/]*\.json5$' <<<"$files")
[ "$parts" -eq "$(ls runbooks/parts/*.json5 | wc -l)" ] || fail "$parts parts in the package, $(ls runbooks/parts/*.json5 | wc -l) in runbooks/parts/"
scripts=$(rpm -qp --scripts "$rpm" 2>/dev/null)
grep -q 'useradd -r -g zkrunbook' <<<"$scripts" || fail "no scriptlet makes the zkrunbook user"
grep -q 'preset zkrunbook-health.timer' <<<"$scripts" || fail "no scriptlet presets the timer"
changelog=$(rpm -qp --changelog "$rpm" 2>/dev/null) || true
[ -n "$changelog" ] || fail "no %changelog"
# The binary in the package is the one built, byte for byte (rpm records each file's SHA-256).
packaged=$(rpm -qp --dump "$rpm" 2>/dev/null | awk '$1 == "/usr/bin/zkrunbook" {print $4}')
[ "$packaged" = "$(sha256sum .build/dist/zkrunbook | awk '{print $1}')" ] || fail "the packaged binary differs from .build/dist/zkrunbook"
echo "rpm test: ok ($(basename "$rpm"): rpmbuild -bb, $(wc -l <<<"$files") paths, $runbooks runbooks, units, man page, licence, user and timer scriptlets)"
