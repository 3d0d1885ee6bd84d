import ZKRunbookEngine
import ZKRunbookProcess
import ZKRunbookTransport
import ZKRunbookZooKeeper

/// How the conductor reaches a node to run commands there: over the transport its ensemble entry names
/// (`TransportNodeConnector`), or a test double that runs the node loop, the order and `agent-run` in
/// memory. Handed to a run in `RunOptions.services[NodeConnectorKey.self]`.
public protocol NodeConnector: Sendable {
    func runner(for node: EnsembleNode) -> any CommandRunner
}

/// ssh, kubectl exec or this machine, as the member's entry says.
public struct TransportNodeConnector: NodeConnector {
    public init() {}
    /// Command by command over ssh for now, not through the node's relay (`NodeAccess.runner(host:agent:)`):
    /// OpenSSH closes every inherited descriptor as it starts, Foundation's process monitor takes that for the
    /// child's exit and waits for it, blocking every other child's end for as long as a relay's ssh lives (a
    /// test process hung on it). The relay goes back on once its ssh is spawned outside Foundation's `Process`.
    public func runner(for node: EnsembleNode) -> any CommandRunner { node.access.runner(host: node.host) }
}

public enum NodeConnectorKey: RunServiceKey {
    public typealias Value = any NodeConnector
}

extension RunServices {
    /// The run's node connector, else the transports the ensemble file names.
    public var nodeConnector: any NodeConnector { self[NodeConnectorKey.self] ?? TransportNodeConnector() }
}
