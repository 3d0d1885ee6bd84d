#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what the tests need, builds, checks every
# shipped runbook (validate, plan snapshots, plans against a sandbox), runs the unit and integration
# tests, and runs the benchmark.
set -euo pipefail
cd "$(dirname "$0")/.."

bash packaging/install-deps.sh

echo "== ZooKeeper versions for the version matrix (3.4.14, 3.6.3, 3.9.3; Debian's is 3.8.0)"
export ZKRUNBOOK_ZOOKEEPER_JARS="${ZKRUNBOOK_ZOOKEEPER_JARS:-$HOME/.cache/zkrunbook/zookeeper-jars}"
bash packaging/fetch-zookeeper-jars.sh

echo "== build"
mkdir -p .build
swift build >.build/build.log 2>&1 || { cat .build/build.log >&2; echo "build failed" >&2; exit 1; }
tail -1 .build/build.log

echo "== swift format lint (the checked-in .swift-format) on the Swift files the last commit added or changed"
if git rev-parse -q --verify HEAD~1 >/dev/null 2>&1; then
  mapfile -t touched < <(git diff --name-only --diff-filter=AM HEAD~1 -- '*.swift')
  if [ "${#touched[@]}" -gt 0 ]; then
    swift format lint --strict "${touched[@]}" || { echo "swift format lint found the above; run: swift format format -i FILES" >&2; exit 1; }
    echo "${#touched[@]} file(s) clean"
  else
    echo "no Swift file changed"
  fi
else
  echo "a clone without history: nothing to compare with, lint skipped (say so, not silently)"
fi

echo "== runbook checks: validate, plan snapshots, plans against a sandbox ensemble"
bash packaging/ci-example/check-runbooks.sh --zkrunbook .build/debug/zkrunbook \
  --runbooks runbooks --plans Tests/plans --sandbox-params Tests/plans/sandbox
echo "-- the CI example (a user's own runbooks)"
bash packaging/ci-example/check-runbooks.sh --zkrunbook .build/debug/zkrunbook \
  --runbooks packaging/ci-example/runbooks --plans packaging/ci-example/ci/plans --sandbox-params packaging/ci-example/ci/sandbox

echo "== tests"
set +e
swift test >.build/test-output.txt 2>&1
status=$?
set -e
grep -E '^✔ Suite|^✘' .build/test-output.txt || true
total=$(grep -oE 'Test run with [0-9]+ tests?' .build/test-output.txt | grep -oE '[0-9]+' | tail -1)
failed=$( { grep -E '^✘ Test .* failed after' .build/test-output.txt | grep -v '^✘ Test run with' || true; } | sort -u | wc -l)
if [ -z "$total" ]; then
  echo "no Swift Testing summary found; full output: .build/test-output.txt" >&2
  tail -40 .build/test-output.txt >&2
  exit 1
fi
grep -E '^✘|error:' .build/test-output.txt | head -60 >&2 || true
echo "tests: $((total - failed)) passed, $failed failed"
if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ]; then
  echo "tests FAILED (full output: .build/test-output.txt)" >&2
  exit 1
fi

echo "== release binary (static Swift runtime)"
bash packaging/build-release.sh

echo "== .deb: build, lintian, install, units verified, use, remove"
bash Tests/deb-install-test.sh

echo "== .rpm: rpmbuild -bb and what it holds"
bash Tests/rpm-build-test.sh

echo "== the CI example's GitHub and GitLab jobs, as written, on a fresh checkout"
bash Tests/ci-example-test.sh

echo "== benchmark"
bash packaging/bench.sh
