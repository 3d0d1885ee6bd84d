import Foundation
import ZKRunbookEngine

/// On a node: the conductor's lease on this server, read again before each change the agent makes.
public final class NodeLeaseFence: RunFence {
    public let store: NodeLeaseStore
    public let key: String
    public let runID: String

    public init(store: NodeLeaseStore, key: String, runID: String) { (self.store, self.key, self.runID) = (store, key, runID) }

    public func check() -> String? {
        LeasePolicy.check(existing: store.read(key), runID: runID, now: Date().timeIntervalSince1970).map { "lease \(key) in \(store.directory): " + $0 }
    }

    public func hold(on node: NodeFields) -> NodeHold? { nil }

    /// The conductor took it and gives it back; the node only reads it.
    public func release() {}
}
