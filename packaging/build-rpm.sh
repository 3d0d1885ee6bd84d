#!/usr/bin/env bash
# Builds zkrunbook-<version>-1.<arch>.rpm with rpmbuild from packaging/zkrunbook.spec: the same binary,
# runbooks, man page, completion and units as the .deb. Needs rpmbuild (Debian: apt-get install -y rpm).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v rpmbuild >/dev/null || { echo "build-rpm: rpmbuild is missing (apt-get install -y rpm)" >&2; exit 1; }
[ -x .build/dist/zkrunbook ] || bash packaging/build-release.sh >/dev/null
bash packaging/build-man.sh >/dev/null
version=$(.build/dist/zkrunbook --version | awk '{print $2}')
top=$PWD/.build/rpm
rm -rf "$top"
mkdir -p "$top"
rpmbuild -bb packaging/zkrunbook.spec --define "_topdir $top" --define "_sourcedir $PWD" --define "_version $version" \
  >"$top/build.log" 2>&1 || { cat "$top/build.log" >&2; exit 1; }
rpm=$(find "$top/RPMS" -name "zkrunbook-$version-*.rpm" | head -1)
[ -n "$rpm" ] || { echo "build-rpm: rpmbuild made no package" >&2; cat "$top/build.log" >&2; exit 1; }
cp "$rpm" .build/dist/
echo ".build/dist/$(basename "$rpm") ($(stat -c %s "$rpm") bytes)"
