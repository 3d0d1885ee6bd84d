# Prints the whole tree as JSON through kazoo: {"persistent": {path: data as hex}, "ephemeral": [paths]}.
import json, sys
from kazoo.client import KazooClient

client = KazooClient(hosts=sys.argv[1], timeout=10)
client.start(timeout=30)
persistent, ephemeral = {}, []
def walk(path):
    data, stat = client.get(path)
    if stat.ephemeralOwner:
        ephemeral.append(path)
    elif not path.startswith("/zookeeper"):
        persistent[path] = (data or b"").hex()
    for child in client.get_children(path):
        walk(path.rstrip("/") + "/" + child)
walk("/")
client.stop()
print(json.dumps({"persistent": persistent, "ephemeral": sorted(ephemeral)}))
