import Foundation
import ZKRunbookClient
import ZKRunbookZooKeeper

/// `zk acl-audit` as text or JSON: what was read, then each finding with a few example paths.
enum ACLAuditText {
    static func render(_ audit: ACLAudit, root: String, identity: SASLIdentity?, json: Bool) -> String {
        let who = identity.map { "sasl:\($0.name)" } ?? "world:anyone (no SASL identity)"
        func text(_ acl: [ACL]) -> String { acl.map { "\($0.scheme):\($0.id):\($0.permissionLetters)" }.joined(separator: ",") }
        if json {
            let object: [String: Any] = [
                "root": root, "identity": who, "znodes": audit.entries.count, "truncated": audit.truncated, "unreadable": audit.unreadable,
                "worldWritable": audit.worldWritable.map { ["path": $0.path, "acl": text($0.acl)] },
                "writers": audit.writers.map { ["identity": $0.identity, "znodes": $0.znodes] },
                "kafka": ["znodes": audit.kafkaZnodes, "open": audit.kafkaOpen.map { ["path": $0.path, "acl": text($0.acl)] }],
            ]
            return ZKCommand.json(object)
        }
        func examples(_ entries: [ACLAudit.Entry]) -> String {
            entries.prefix(5).map { "\($0.path) (\(text($0.acl)))" }.joined(separator: ", ") + (entries.count > 5 ? ", …" : "")
        }
        var lines = [
            "acl-audit of \(root) as \(who): \(audit.entries.count) znode(s) read"
                + (audit.truncated ? " (stopped at the limit: the rest not audited)" : "")
        ]
        lines.append(
            audit.unreadable.isEmpty
                ? "every znode under \(root) was readable: the view is whole"
                : "PARTIAL: \(audit.unreadable.count) znode(s) this identity may not read, their subtrees not audited: "
                    + audit.unreadable.prefix(5).joined(separator: ", ") + (audit.unreadable.count > 5 ? ", …" : ""))
        let open = audit.worldWritable
        lines.append(
            open.isEmpty
                ? "world-writable: none (anyone may at most read)"
                : "world-writable: \(open.count) znode(s) anyone may write, create, delete or re-ACL: \(examples(open))")
        lines.append("who may write: " + audit.writers.map { "\($0.identity) \($0.znodes)" }.joined(separator: ", "))
        if audit.kafkaZnodes > 0 {
            let kafkaOpen = audit.kafkaOpen
            lines.append(
                kafkaOpen.isEmpty
                    ? "kafka: \(audit.kafkaZnodes) znode(s), each writable only by an identity, as zookeeper.set.acl=true writes them"
                    : "kafka: \(kafkaOpen.count) of \(audit.kafkaZnodes) znode(s) writable by no identity but the world, not as zookeeper.set.acl=true writes them (the setting is off, or the tree predates it: kafka's zookeeper-security-migration.sh --zookeeper.acl=secure): \(examples(kafkaOpen))"
            )
        }
        return lines.joined(separator: "\n")
    }
}
