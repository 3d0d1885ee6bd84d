import Foundation

/// What a restore would change in the tree clients see: the live tree's znodes the backup lacks (written
/// since, lost by the restore) and the backup's the live tree lacks (deleted since, brought back). ZooKeeper's
/// own `/zookeeper` subtree is left out of both: every server makes it.
public struct RestoreLoss: Sendable, Equatable {
    /// Live znodes the backup does not hold, sorted.
    public var lost: [String]
    /// Persistent znodes of the backup the live tree does not hold, sorted.
    public var returning: [String]
    /// Ephemeral znodes of the backup the live tree does not hold: they come back with their old sessions and go
    /// when those expire.
    public var returningEphemerals: Int
    public var backupZnodes: Int
    public var liveZnodes: Int

    /// Compares the backup's paths (a replay's, the root written as "" or "/") with the paths read from the
    /// live tree.
    public init(backup: Set<String>, backupEphemerals: Set<String>, live: Set<String>) {
        let mine = Set(backup.filter(Self.isClientPath))
        let theirs = Set(live.filter(Self.isClientPath))
        lost = theirs.subtracting(mine).sorted()
        let back = mine.subtracting(theirs)
        returning = back.subtracting(backupEphemerals).sorted()
        returningEphemerals = back.intersection(backupEphemerals).count
        (backupZnodes, liveZnodes) = (mine.count, theirs.count)
    }

    /// A client's znode: not the root, not ZooKeeper's own `/zookeeper` subtree.
    public static func isClientPath(_ path: String) -> Bool {
        !(path.isEmpty || path == "/" || path == "/zookeeper" || path.hasPrefix("/zookeeper/"))
    }

    /// The loss in one sentence, with up to `examples` paths of each kind.
    public func sentence(examples: Int = 5) -> String {
        func some(_ paths: [String]) -> String {
            paths.isEmpty ? "" : " (" + paths.prefix(examples).joined(separator: ", ") + (paths.count > examples ? ", …" : "") + ")"
        }
        var parts = ["\(lost.count) znode(s) written since would be lost" + some(lost)]
        parts.append("\(returning.count) deleted since would come back" + some(returning))
        if returningEphemerals > 0 { parts.append("\(returningEphemerals) ephemeral(s) would come back until their old sessions expire") }
        return parts.joined(separator: "; ")
    }
}
