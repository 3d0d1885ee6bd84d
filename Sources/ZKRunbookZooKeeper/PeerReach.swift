import Foundation

/// What one machine saw connecting to a list of endpoints: the agent's answer to `zkrunbook reach`, read back
/// by the conductor as this type (never as loose JSON).
///
/// Why from the node: the voters that stay must reach each other on their election ports to elect a leader
/// when one stops, and only a node itself sees the links it has (a conductor elsewhere sees its own).
public struct ReachReport: Sendable, Codable, Equatable {
    public struct Attempt: Sendable, Codable, Equatable {
        public var endpoint: String
        public var reached: Bool
        /// Why not, as the socket said it (refused, timed out, no route).
        public var error: String?
        public var milliseconds: Int
    }

    public var attempts: [Attempt]

    /// Connects to every endpoint at once, closing each connection as soon as it is made.
    public static func attempt(_ endpoints: [Endpoint], timeout: Double) -> ReachReport {
        let attempts = Parallel.map(endpoints) { endpoint -> Attempt in
            let started = Date()
            let result = SocketClient.connect(endpoint, timeout: timeout)
            let milliseconds = Int(Date().timeIntervalSince(started) * 1000)
            switch result {
            case .success(let descriptor):
                close(descriptor)
                return Attempt(endpoint: endpoint.description, reached: true, error: nil, milliseconds: milliseconds)
            case .failure(let error):
                return Attempt(endpoint: endpoint.description, reached: false, error: error.description, milliseconds: milliseconds)
            }
        }
        return ReachReport(attempts: attempts)
    }
}
