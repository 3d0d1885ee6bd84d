# Writes a test tree through kazoo: COUNT persistent znodes of mixed sizes under /data, 200 sequential ones,
# and 50 ephemerals held by this session until stdin closes. Prints one line per phase; "ready" when done.
import random, sys
from kazoo.client import KazooClient

hosts, count = sys.argv[1], int(sys.argv[2])
random.seed(7)
client = KazooClient(hosts=hosts, timeout=10)
client.start(timeout=30)
client.ensure_path("/data")
for index in range(count):
    size = random.choice([0, 1, 10, 100, 1000, 4000, 20000])
    client.create("/data/n%05d" % index, bytes(random.getrandbits(8) for _ in range(size)))
for _ in range(200):
    client.create("/data/seq-", b"sequential", sequence=True)
for index in range(50):
    client.create("/data/eph%02d" % index, b"ephemeral", ephemeral=True)
print("ready", flush=True)
sys.stdin.read()
client.stop()
