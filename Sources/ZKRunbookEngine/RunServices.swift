/// What the host program hands a run for its actions to reach the world through: the seams a test double
/// stands in for (how nodes are reached, how servers are connected to). The engine only carries them; each
/// room defines its own key (`NodeConnectorKey`, `ServerConnectorKey`) and reads it back, typed.
public struct RunServices: Sendable {
    private var values: [ObjectIdentifier: any Sendable] = [:]

    public init() {}

    public subscript<Key: RunServiceKey>(key: Key.Type) -> Key.Value? {
        get { values[ObjectIdentifier(key)] as? Key.Value }
        set { values[ObjectIdentifier(key)] = newValue }
    }
}

/// Names one service in `RunServices` and its type.
public protocol RunServiceKey {
    associatedtype Value: Sendable
}
