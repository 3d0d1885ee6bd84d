#!/usr/bin/python3
"""An independent ZooKeeper client (Debian's python3-kazoo) that writes throughout a test.

    kazoo-witness.py HOSTS STOPFILE READYFILE

Creates /zkr-witness/w-NNNNNNNNNN (sequential) every 20 ms until STOPFILE exists, touching READYFILE
after the first acknowledged write. Then reads every acknowledged znode back and prints one JSON line:
{"acked": N, "lost": [...], "longestGapMs": G, "failedAttempts": F}. A write counts as acknowledged only
when create() returned; the gap is the longest time between two acknowledged writes. Bounded: at most
30 minutes, then it stops by itself.
"""
import json
import os
import sys
import time

try:
    from kazoo.client import KazooClient
    from kazoo.exceptions import KazooException
    from kazoo.handlers.threading import KazooTimeoutError
except ImportError:
    sys.stderr.write("kazoo-witness: python3-kazoo is missing: apt-get install -y python3-kazoo\n")
    sys.exit(2)

hosts, stop_file, ready_file = sys.argv[1], sys.argv[2], sys.argv[3]
client = KazooClient(hosts=hosts, timeout=4.0, connection_retry={"max_tries": -1, "delay": 0.05, "max_delay": 0.2})
client.start(timeout=30)
client.ensure_path("/zkr-witness")
acked = []
failed = 0
last_ack = None
longest_gap = 0.0
deadline = time.monotonic() + 1800
while not os.path.exists(stop_file) and time.monotonic() < deadline:
    try:
        path = client.create("/zkr-witness/w-", b"%f" % time.time(), sequence=True)
        now = time.monotonic()
        if last_ack is not None:
            longest_gap = max(longest_gap, now - last_ack)
        last_ack = now
        acked.append(path)
        if len(acked) == 1:
            open(ready_file, "w").close()
    except (KazooException, KazooTimeoutError):
        failed += 1
    time.sleep(0.02)
lost = []
for path in acked:
    for _ in range(100):
        try:
            if client.exists(path) is None:
                lost.append(path)
            break
        except (KazooException, KazooTimeoutError):
            time.sleep(0.1)
client.stop()
print(json.dumps({"acked": len(acked), "lost": lost, "longestGapMs": int(longest_gap * 1000), "failedAttempts": failed}))
