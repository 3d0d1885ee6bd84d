#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: zkrunbook developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: run
short_description: Run a zkrunbook runbook against a ZooKeeper ensemble
version_added: "0.1.0"
description:
  - Runs C(zkrunbook run RUNBOOK) on the target (the machine that conducts the ensemble) and returns its
    result document.
  - In check mode runs C(zkrunbook plan RUNBOOK) instead, which changes nothing; C(changed) then says
    whether the run would change anything.
  - A runbook refused by one of its guards (exit 3) fails the task with the reason and C(refused=true);
    a run refused because another run holds the ensemble (exit 4) fails with C(locked=true).
options:
  runbook:
    description: The runbook's name (looked up in zkrunbook's runbook folders) or path.
    type: str
    required: true
  ensemble:
    description: The ensemble file (C(--ensemble)).
    type: path
  params:
    description: Runbook parameters, each given as C(--param NAME=VALUE).
    type: dict
    default: {}
  state_dir:
    description: zkrunbook's state directory (journals, locks).
    type: path
  binary:
    description: The zkrunbook executable.
    type: path
    default: zkrunbook
attributes:
  check_mode:
    support: full
    description: Runs C(zkrunbook plan), which changes nothing.
  diff_mode:
    support: full
    description: The steps that would change something, or did.
author:
  - zkrunbook developers
"""

EXAMPLES = r"""
- name: Roll the ensemble, one node at a time, with zkrunbook's gates
  zkrunbook.zookeeper.run:
    runbook: rolling-restart
    ensemble: /etc/zkrunbook/ensemble.json5
    params:
      soak: 30s
  register: rolled
"""

RETURN = r"""
result:
  description: The document C(zkrunbook run --result) wrote (status, exitCode, changed, steps, reason).
  returned: when zkrunbook ran
  type: dict
rc:
  description: zkrunbook's exit code (0 done, 1 a step failed, 2 usage, 3 refused, 4 locked, 6 rollback failed, 130 interrupted).
  returned: always
  type: int
refused:
  description: A guard refused before anything changed.
  returned: always
  type: bool
locked:
  description: Another run holds the ensemble.
  returned: always
  type: bool
stdout:
  description: zkrunbook's own account of the run, as it printed it.
  returned: always
  type: str
"""

import json
import os
import tempfile

from ansible.module_utils.basic import AnsibleModule

MEANINGS = {
    1: "a step failed",
    2: "usage error or invalid runbook: nothing was run",
    3: "refused",
    4: "locked by another run",
    6: "ROLLBACK FAILED: the ensemble is half-changed and needs a person",
    130: "interrupted",
}


def command(module, result_path):
    args = module.params
    verb = "plan" if module.check_mode else "run"
    argv = [args["binary"], verb, args["runbook"], "--result", result_path]
    if args["ensemble"]:
        argv += ["--ensemble", args["ensemble"]]
    for name, value in sorted((args["params"] or {}).items()):
        argv += ["--param", "%s=%s" % (name, value)]
    if args["state_dir"]:
        argv += ["--state-dir", args["state_dir"]]
    return argv


def main():
    module = AnsibleModule(
        argument_spec=dict(
            runbook=dict(type="str", required=True),
            ensemble=dict(type="path"),
            params=dict(type="dict", default={}),
            state_dir=dict(type="path"),
            binary=dict(type="path", default="zkrunbook"),
        ),
        supports_check_mode=True,
    )
    handle, result_path = tempfile.mkstemp(prefix="zkrunbook-result-", suffix=".json")
    os.close(handle)
    try:
        rc, stdout, stderr = module.run_command(command(module, result_path))
        document = None
        try:
            with open(result_path) as result_file:
                text = result_file.read()
            if text.strip():
                document = json.loads(text)
        except (IOError, ValueError):
            document = None
    finally:
        if os.path.exists(result_path):
            os.remove(result_path)

    outcome = dict(
        changed=bool(document and document.get("changed")),
        rc=rc,
        refused=rc == 3,
        locked=rc == 4,
        stdout=stdout[-65536:],
        stderr=stderr[-16384:],
    )
    if document is not None:
        outcome["result"] = document
        changing = [step["id"] for step in document.get("steps", []) if step.get("changed")]
        if module._diff:
            outcome["diff"] = dict(
                before="",
                after="".join("%s step %s\n" % ("would run" if module.check_mode else "ran", step) for step in changing),
            )
    if rc != 0:
        reason = (document or {}).get("reason") or stderr.strip() or stdout.strip()[-2000:]
        module.fail_json(msg="zkrunbook %s: %s: %s" % (module.params["runbook"], MEANINGS.get(rc, "exit %d" % rc), reason), **outcome)
    module.exit_json(**outcome)


if __name__ == "__main__":
    main()
