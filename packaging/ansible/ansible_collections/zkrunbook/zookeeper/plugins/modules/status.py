#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: zkrunbook developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: status
short_description: A ZooKeeper ensemble's status, from zkrunbook, as facts
version_added: "0.1.0"
description:
  - Probes every member of the ensemble file (C(zkrunbook status --ensemble FILE --json)) and returns the
    view as the fact C(zookeeper_status) (the verdict, the leader, each member's mode, zxid and lag, the
    quorum in words). Changes nothing.
options:
  ensemble:
    description: The ensemble file.
    type: path
    required: true
  binary:
    description: The zkrunbook executable.
    type: path
    default: zkrunbook
  fail_unless_healthy:
    description: Fail the task when the verdict is not C(healthy).
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: It only reads.
  diff_mode:
    support: none
    description: Nothing changes.
  facts:
    support: full
    description: Sets C(zookeeper_status).
author:
  - zkrunbook developers
"""

EXAMPLES = r"""
- name: Read the ensemble's status
  zkrunbook.zookeeper.status:
    ensemble: /etc/zkrunbook/ensemble.json5

- name: Say the verdict
  ansible.builtin.debug:
    msg: "{{ zookeeper_status.verdict }}, leader {{ zookeeper_status.leaderID }}"
"""

RETURN = r"""
ansible_facts:
  description: C(zookeeper_status), the view zkrunbook printed.
  returned: when zkrunbook answered
  type: dict
verdict:
  description: healthy, degraded-but-quorate, electing (a majority up, no leader yet), no-quorum, split, unknown.
  returned: when zkrunbook answered
  type: str
exit_code:
  description: zkrunbook status's exit code (0 healthy; not an error of the task unless fail_unless_healthy).
  returned: always
  type: int
"""

import json

from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(
        argument_spec=dict(
            ensemble=dict(type="path", required=True),
            binary=dict(type="path", default="zkrunbook"),
            fail_unless_healthy=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    rc, stdout, stderr = module.run_command([module.params["binary"], "status", "--ensemble", module.params["ensemble"], "--json"])
    try:
        view = json.loads(stdout)
    except ValueError:
        module.fail_json(msg="zkrunbook status gave no view (exit %d): %s" % (rc, stderr.strip() or stdout.strip()), exit_code=rc)
    verdict = view.get("verdict")
    # Not "rc": Ansible fails a task whose result has a non-zero rc, and a degraded ensemble is a fact here.
    outcome = dict(changed=False, exit_code=rc, verdict=verdict, ansible_facts=dict(zookeeper_status=view))
    if module.params["fail_unless_healthy"] and verdict != "healthy":
        module.fail_json(msg="the ensemble is %s: %s" % (verdict, "; ".join(view.get("reasons") or [])), **outcome)
    module.exit_json(**outcome)


if __name__ == "__main__":
    main()
