#!/usr/bin/env bash
# The CI example as written, end to end: a runbooks repository made from packaging/ci-example and cloned
# fresh (the checkout step), then every command of the GitHub Actions job (steps' run, with their env) and
# of the GitLab job (script) run in order, in a clean environment, as root (sudo is a pass-through here),
# with the job's own apt-get lines and the .deb fetched with curl from a loopback HTTP server standing in for
# the mirror the job names. Each job ends with the package purged.
set -euo pipefail
cd "$(dirname "$0")/.."
fail() { echo "ci-example test: FAILED: $*" >&2; dpkg -P zkrunbook >/dev/null 2>&1 || true; exit 1; }
[ "$(id -u)" -eq 0 ] || fail "the jobs install a .deb: run as root (as in CI)"
/usr/bin/python3 -c 'import yaml' 2>/dev/null || fail "python3-yaml is missing (apt-get install -y python3-yaml): it reads the jobs' YAML"
if dpkg -s zkrunbook >/dev/null 2>&1; then fail "a zkrunbook package is already installed; remove it first"; fi
deb=$(ls .build/dist/zkrunbook_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || deb=$(bash packaging/build-deb.sh | tail -1 | awk '{print $1}')

work=$(mktemp -d)
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
# The mirror: the .deb over HTTP on a free loopback port. Ready is its first line ("Serving HTTP on …
# port N"), which it prints once bound: read from a FIFO, within a deadline.
mkfifo "$work/http.ready"
/usr/bin/python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$(dirname "$deb")" >"$work/http.ready" 2>"$work/http.log" &
server_pid=$!
exec 3<"$work/http.ready"
ready=""
IFS= read -r -t 30 ready <&3 || fail "the loopback HTTP server did not start within 30 s: $(cat "$work/http.log")"
port=$(sed -n 's/.*port \([0-9]*\).*/\1/p' <<<"$ready")
[ -n "$port" ] || fail "the loopback HTTP server said '$ready', not its port"
url="http://127.0.0.1:$port/$(basename "$deb")"

# The runbooks repository, committed, then cloned as the job's checkout would.
mkdir -p "$work/origin"
cp -r packaging/ci-example/runbooks packaging/ci-example/ci "$work/origin/"
mkdir -p "$work/origin/.github/workflows"
cp packaging/ci-example/github-workflow.yml "$work/origin/.github/workflows/runbooks.yml"
cp packaging/ci-example/.gitlab-ci.yml "$work/origin/.gitlab-ci.yml"
git -C "$work/origin" init -q && git -C "$work/origin" add -A \
  && git -C "$work/origin" -c user.name=ci -c user.email=ci@example.org commit -qm runbooks || fail "git commit of the example repository"
mkdir -p "$work/bin"
printf '#!/bin/sh\nexec "$@"\n' >"$work/bin/sudo" && chmod +x "$work/bin/sudo"

# Each job's commands, one per NUL-terminated entry (env assignments first for GitHub steps).
/usr/bin/python3 - "$work/origin" "$url" "$work" <<'PY'
import sys, yaml
root, url, work = sys.argv[1], sys.argv[2], sys.argv[3]
def substitute(text):
    return text.replace("${{ vars.ZKRUNBOOK_DEB_URL }}", url)
github = yaml.safe_load(open(root + "/.github/workflows/runbooks.yml"))
with open(work + "/github.jobs", "w") as out:
    for step in github["jobs"]["check"]["steps"]:
        if "run" not in step:
            continue
        env = "".join(f"export {k}={substitute(str(v))!r}\n" for k, v in (step.get("env") or {}).items())
        out.write(env + step["run"] + "\0")
gitlab = yaml.safe_load(open(root + "/.gitlab-ci.yml"))
with open(work + "/gitlab.jobs", "w") as out:
    out.write(f"export ZKRUNBOOK_DEB_URL={url!r}\n" + "\n".join(gitlab["runbooks"]["script"]) + "\0")
PY

for job in github gitlab; do
  checkout="$work/checkout-$job"
  git clone -q "$work/origin" "$checkout" || fail "$job: git clone"
  n=0
  while IFS= read -r -d '' commands; do
    n=$((n + 1))
    if ! (cd "$checkout" && env -i HOME="$work" PATH="$work/bin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin" \
        DEBIAN_FRONTEND=noninteractive bash -eo pipefail -c "$commands") >"$work/$job-$n.log" 2>&1; then
      tail -40 "$work/$job-$n.log" >&2
      fail "$job job, command block $n failed: $commands"
    fi
  done <"$work/$job.jobs"
  [ "$n" -ge 1 ] || fail "$job: no commands found in its YAML"
  grep -q "all runbook checks passed" "$work/$job-$n.log" || fail "$job: the last step did not pass the runbook checks: $(tail -5 "$work/$job-$n.log")"
  grep -q "planned against the sandbox" "$work/$job-$n.log" || fail "$job: nothing was planned against the sandbox"
  dpkg -P zkrunbook >/dev/null || fail "$job: dpkg -P zkrunbook"
  echo "ci-example test: $job job ok ($n command block(s); $(grep -c '^ok ' "$work/$job-$n.log") checks passed)"
done
