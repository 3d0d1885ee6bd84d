#!/usr/bin/env bash
# Makes (once) a virtualenv with ansible-core and ansible-lint from PyPI and prints its bin folder. Cached
# under ~/.cache/zkrunbook (or $ZKRUNBOOK_ANSIBLE_VENV): a second call only checks it.
#   ANSIBLE_CORE: the version (default 2.17.7, the last to run on Python 3.10+ targets and controllers alike)
#   ANSIBLE_LINT: the version (default 26.6.0); ansible-test sanity is not used: it fetches its pip
#   bootstrap from ansible's own CI server, not PyPI
set -euo pipefail
venv=${ZKRUNBOOK_ANSIBLE_VENV:-$HOME/.cache/zkrunbook/ansible-venv}
version=${ANSIBLE_CORE:-2.17.7}
lint=${ANSIBLE_LINT:-26.6.0}
if [ -x "$venv/bin/ansible-playbook" ] && [ -x "$venv/bin/ansible-lint" ] \
  && "$venv/bin/python" -c "import ansible, sys; sys.exit(ansible.__version__ != '$version')" 2>/dev/null; then
  echo "$venv/bin"
  exit 0
fi
python=/usr/bin/python3
"$python" -m venv --help >/dev/null 2>&1 || { echo "ansible-venv: $python has no venv module: apt-get install -y python3-venv" >&2; exit 1; }
rm -rf "$venv"
"$python" -m venv "$venv" >&2 || { echo "ansible-venv: cannot make a virtualenv in $venv (apt-get install -y python3-venv)" >&2; exit 1; }
"$venv/bin/pip" install --quiet --disable-pip-version-check "ansible-core==$version" "ansible-lint==$lint" >&2 \
  || { echo "ansible-venv: pip could not install ansible-core==$version and ansible-lint==$lint from PyPI" >&2; exit 1; }
echo "$venv/bin"
