/// Who may change what in a ZooKeeper tree, read through one session: every znode's ACL from a path down
/// (breadth first, bounded), the znodes anyone may change, who may write where, the subtrees this identity
/// may not list (the view is partial there, and says so), and Kafka's znodes against what
/// `zookeeper.set.acl=true` gives them (the broker's identity with every right, everyone else read-only).
public struct ACLAudit: Sendable {
    public struct Entry: Sendable, Equatable {
        public var path: String
        public var acl: [ACL]
    }

    /// The znodes read, in the order visited.
    public var entries: [Entry] = []
    /// Znodes whose ACL or children this identity may not read: their subtrees are not audited.
    public var unreadable: [String] = []
    /// True when the walk stopped at `limit` znodes.
    public var truncated = false

    /// The znodes where `world:anyone` may write, create, delete or change the ACL.
    public var worldWritable: [Entry] {
        entries.filter { entry in
            entry.acl.contains { $0.scheme == "world" && $0.id == "anyone" && !$0.permissions.intersection([.write, .create, .delete, .admin]).isEmpty }
        }
    }

    /// For each identity (`scheme:id`), how many znodes it may write.
    public var writers: [(identity: String, znodes: Int)] {
        var counts: [String: Int] = [:]
        for entry in entries {
            for grant in entry.acl where grant.permissions.contains(.write) { counts["\(grant.scheme):\(grant.id)", default: 0] += 1 }
        }
        return counts.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { ($0.key, $0.value) }
    }

    /// Kafka's top-level znodes (KafkaZkClient's paths) found under the audited root.
    public static let kafkaRoots = [
        "/admin", "/brokers", "/cluster", "/config", "/controller", "/controller_epoch", "/isr_change_notification", "/latest_producer_id_block",
        "/log_dir_event_notification", "/feature",
    ]

    /// Kafka's znodes that do not hold what `zookeeper.set.acl=true` writes: no identity but the world may
    /// write them (the setting is off, or the tree predates it: kafka's zookeeper-security-migration).
    public var kafkaOpen: [Entry] {
        entries.filter { entry in
            Self.kafkaRoots.contains { entry.path == $0 || entry.path.hasPrefix($0 + "/") }
                && !entry.acl.contains { $0.scheme != "world" && $0.permissions.contains(.write) }
        }
    }

    public var kafkaZnodes: Int { entries.filter { entry in Self.kafkaRoots.contains { entry.path == $0 || entry.path.hasPrefix($0 + "/") } }.count }

    /// Walks from `root` through `client`, at most `limit` znodes.
    public static func walk(_ client: ZooKeeperClient, from root: String = "/", limit: Int = 100_000) throws(ZooKeeperClientError) -> ACLAudit {
        var audit = ACLAudit()
        var queue = [root]
        while !queue.isEmpty {
            if audit.entries.count >= limit {
                audit.truncated = true
                break
            }
            let path = queue.removeFirst()
            do {
                let (acl, _) = try client.getACL(path)
                audit.entries.append(Entry(path: path, acl: acl))
                let children = try client.getChildren(path).sorted()
                queue += children.map { path == "/" ? "/" + $0 : path + "/" + $0 }
            } catch .server(.noAuth, _) {
                audit.unreadable.append(path)
            } catch .server(.noNode, _) {
                continue
            }
        }
        return audit
    }
}
