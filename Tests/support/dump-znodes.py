# Prints the whole tree as JSON through kazoo: {"persistent": {path: data as hex}, "ephemeral": [paths]}.
# A node listed by its parent and gone when read (an ephemeral whose session just expired) makes the walk
# start again: the tree printed is one walk that saw no node vanish, or the script fails naming them.
import json, sys
from kazoo.client import KazooClient
from kazoo.exceptions import NoNodeError

client = KazooClient(hosts=sys.argv[1], timeout=10)
client.start(timeout=30)

def walk(path, persistent, ephemeral, vanished):
    try:
        data, stat = client.get(path)
        children = client.get_children(path)
    except NoNodeError:
        vanished.append(path)
        return
    if stat.ephemeralOwner:
        ephemeral.append(path)
    elif not path.startswith("/zookeeper"):
        persistent[path] = (data or b"").hex()
    for child in children:
        walk(path.rstrip("/") + "/" + child, persistent, ephemeral, vanished)

for attempt in range(10):
    persistent, ephemeral, vanished = {}, [], []
    walk("/", persistent, ephemeral, vanished)
    if not vanished:
        break
    print("walk %d: %d node(s) vanished while read, first %s; walking again" % (attempt + 1, len(vanished), vanished[0]), file=sys.stderr)
client.stop()
if vanished:
    print("nodes kept vanishing mid-walk after 10 walks: %s" % vanished[:10], file=sys.stderr)
    sys.exit(1)
print(json.dumps({"persistent": persistent, "ephemeral": sorted(ephemeral)}))
