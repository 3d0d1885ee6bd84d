#!/usr/bin/env bash
# Builds zkrunbook_<version>_<arch>.deb with dpkg-deb: the static binary, the runbooks, a man page, bash
# completion, and a systemd service + timer that writes the Prometheus textfile every minute.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v dpkg-deb >/dev/null || { echo "build-deb: dpkg-deb is missing (apt-get install -y dpkg-dev)" >&2; exit 1; }
[ -x .build/dist/zkrunbook ] || bash packaging/build-release.sh >/dev/null
version=$(.build/dist/zkrunbook --version | awk '{print $2}')
arch=$(dpkg --print-architecture)
root=.build/deb/zkrunbook_${version}_${arch}
rm -rf "$root"
install -D -m 0755 .build/dist/zkrunbook "$root/usr/bin/zkrunbook"
install -d -m 0755 "$root/usr/share/zkrunbook/runbooks" "$root/usr/share/zkrunbook/examples" "$root/etc/zkrunbook/runbooks"
install -m 0644 runbooks/*.json5 "$root/usr/share/zkrunbook/runbooks/"
install -d -m 0755 "$root/usr/share/zkrunbook/runbooks/parts"
install -m 0644 runbooks/parts/*.json5 "$root/usr/share/zkrunbook/runbooks/parts/"
install -m 0644 packaging/examples/ensemble.json5 "$root/usr/share/zkrunbook/examples/"
install -D -m 0755 packaging/ci-example/check-runbooks.sh "$root/usr/share/zkrunbook/ci/check-runbooks.sh"
install -D -m 0644 packaging/ci-example/README.md "$root/usr/share/zkrunbook/ci/README.md"
install -D -m 0644 packaging/deb/zkrunbook.bash-completion "$root/usr/share/bash-completion/completions/zkrunbook"
install -D -m 0644 packaging/deb/zkrunbook-health.service "$root/lib/systemd/system/zkrunbook-health.service"
install -D -m 0644 packaging/deb/zkrunbook-health.timer "$root/lib/systemd/system/zkrunbook-health.timer"
install -D -m 0644 README.md "$root/usr/share/doc/zkrunbook/README.md"
install -D -m 0644 packaging/deb/copyright "$root/usr/share/doc/zkrunbook/copyright"
# A native package's changelog, its newest entry the binary's version (lintian: no-changelog otherwise).
head -1 packaging/deb/changelog | grep -q "^zkrunbook ($version) " \
  || { echo "build-deb: packaging/deb/changelog does not start with version $version: add an entry" >&2; exit 1; }
gzip -9n -c packaging/deb/changelog >"$root/usr/share/doc/zkrunbook/changelog.gz"
chmod 0644 "$root/usr/share/doc/zkrunbook/changelog.gz"
install -D -m 0644 packaging/deb/lintian-overrides "$root/usr/share/lintian/overrides/zkrunbook"
install -D -m 0644 packaging/prometheus/zookeeper-alerts.yml "$root/usr/share/zkrunbook/prometheus/zookeeper-alerts.yml"
install -D -m 0644 packaging/grafana/zookeeper-dashboard.json "$root/usr/share/zkrunbook/grafana/zookeeper-dashboard.json"
bash packaging/build-man.sh >/dev/null
install -D -m 0644 .build/dist/zkrunbook.1 "$root/usr/share/man/man1/zkrunbook.1"
install -D -m 0644 .build/dist/zkrunbook-runbook.5 "$root/usr/share/man/man5/zkrunbook-runbook.5"
install -D -m 0644 .build/dist/zkrunbook-ensemble.5 "$root/usr/share/man/man5/zkrunbook-ensemble.5"
gzip -9n "$root/usr/share/man/man1/zkrunbook.1" "$root/usr/share/man/man5/zkrunbook-runbook.5" "$root/usr/share/man/man5/zkrunbook-ensemble.5"
size=$(du -sk "$root" | cut -f1)
install -d "$root/DEBIAN"
install -m 0755 packaging/deb/postinst "$root/DEBIAN/postinst"
( cd "$root" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | sort -z | xargs -0 md5sum ) >"$root/DEBIAN/md5sums"
cat >"$root/DEBIAN/control" <<CONTROL
Package: zkrunbook
Version: $version
Architecture: $arch
Maintainer: zkrunbook developers <zkrunbook@example.org>
Installed-Size: $size
Depends: libc6, libstdc++6, libgcc-s1, adduser
Recommends: openssh-client, libssl3 | libssl3t64
Section: admin
Priority: optional
Homepage: https://localhost/zkrunbook
Description: runbook automation for Apache ZooKeeper ensembles
 Declarative runbooks (JSON5) executed with guards, timeouts, retries,
 rollback, an honest dry run, a journal and locks: health checks, rolling
 restarts over ssh (followers first, leader last, quorum kept), diagnostics
 bundles for support, and doctor, which names the incident from the logs.
CONTROL
mkdir -p .build/dist
dpkg-deb --build --root-owner-group "$root" ".build/dist/zkrunbook_${version}_${arch}.deb" >/dev/null
echo ".build/dist/zkrunbook_${version}_${arch}.deb ($(stat -c %s ".build/dist/zkrunbook_${version}_${arch}.deb") bytes)"
