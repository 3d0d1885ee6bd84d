#!/usr/bin/python3
"""An independent ZooKeeper client (Debian's python3-kazoo) that writes throughout a test.

    kazoo-witness.py HOSTS STOPFILE READYFILE [CAFILE CERTFILE KEYFILE]

With the three files, it connects over TLS with that client certificate (a secureClientPort). With
KAZOO_WITNESS_SASL_USER and KAZOO_WITNESS_SASL_PASSWORD_FILE in its environment, it authenticates with SASL
DIGEST-MD5 as that user (an ensemble that enforces authentication).

Creates /zkr-witness/w-NNNNNNNNNN (sequential) every 20 ms until STOPFILE exists, touching READYFILE
after the first acknowledged write. Then lists /zkr-witness once (every acknowledged znode must be in
it) and prints one JSON line:
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
tls = {}
if len(sys.argv) == 7:
    tls = {"use_ssl": True, "verify_certs": True, "ca": sys.argv[4], "certfile": sys.argv[5], "keyfile": sys.argv[6]}
# An authenticated ensemble: SASL DIGEST-MD5 as the user named here, its password read from its file.
sasl = {}
if os.environ.get("KAZOO_WITNESS_SASL_USER"):
    with open(os.environ["KAZOO_WITNESS_SASL_PASSWORD_FILE"]) as secret:
        sasl = {"sasl_options": {"mechanism": "DIGEST-MD5", "username": os.environ["KAZOO_WITNESS_SASL_USER"], "password": secret.read()}}
client = KazooClient(hosts=hosts, timeout=4.0, connection_retry={"max_tries": -1, "delay": 0.05, "max_delay": 0.2}, **tls, **sasl)
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
        if len(acked) % 250 == 0:
            sys.stderr.write("kazoo-witness: %d writes acknowledged\n" % len(acked))
            sys.stderr.flush()
    except (KazooException, KazooTimeoutError):
        failed += 1
    time.sleep(0.02)
sys.stderr.write("kazoo-witness: %d writes acknowledged, reading them back\n" % len(acked))
sys.stderr.flush()
# One listing of the parent reads every child back: no acknowledged write may be missing from it.
present = None
read_deadline = time.monotonic() + 60
while present is None and time.monotonic() < read_deadline:
    try:
        client.sync("/zkr-witness")
        present = set("/zkr-witness/" + name for name in client.get_children("/zkr-witness"))
    except (KazooException, KazooTimeoutError) as error:
        sys.stderr.write("kazoo-witness: read-back failed (%s), retrying\n" % error)
        time.sleep(0.2)
if present is None:
    print(json.dumps({"acked": len(acked), "lost": ["(the read-back never succeeded)"], "longestGapMs": int(longest_gap * 1000), "failedAttempts": failed}))
    sys.exit(1)
lost = [path for path in acked if path not in present]
client.stop()
print(json.dumps({"acked": len(acked), "lost": lost, "longestGapMs": int(longest_gap * 1000), "failedAttempts": failed}))
