import Foundation

extension ServerEntry {
    /// Its line in a dynamic config file, the role always written: `server.N=host:quorum:election:role;client`.
    public var dynamicLine: String {
        let address = host.contains(":") ? "[\(host)]" : host
        var text = "server.\(id)=\(address):\(quorumPort):\(electionPort):\(role.rawValue)"
        if let clientPort { text += ";" + (clientAddress.map { "\($0):" } ?? "") + String(clientPort) }
        return text
    }
}

/// One change to an ensemble's membership through `reconfig`, one server at a time.
public enum MembershipChange: Sendable, Hashable, CustomStringConvertible {
    case add(Int)
    case remove(Int)
    /// participant <-> observer, in place: ZooKeeper replaces the server's line with the same id.
    case setRole(Int, ServerEntry.Role)

    public var serverID: Int {
        switch self {
        case .add(let id), .remove(let id), .setRole(let id, _): return id
        }
    }

    public var description: String {
        switch self {
        case .add(let id): return "add server \(id)"
        case .remove(let id): return "remove server \(id)"
        case .setRole(let id, let role): return "make server \(id) \(role == .observer ? "an observer" : "a participant")"
        }
    }

    /// What to send and what the membership becomes, decided from the config the servers hold now and the
    /// servers as the ensemble file writes them (the new server's line comes from the file).
    public struct Request: Sendable, Hashable {
        /// `joining` of ZooKeeper's incremental reconfig: server lines, comma-separated.
        public var joining: String?
        /// `leaving`: server ids.
        public var leaving: String?
        public var after: [ServerEntry]
        /// A server that must be serving before the change (a joining one): a check made before it starts
        /// counts it as serving once started.
        public var newcomer: Int?
    }

    public func request(current: [ServerEntry], written: [EnsembleMember]) -> Result<Request, MembershipChangeRefusal> {
        let id = serverID
        let existing = current.first { $0.id == id }
        let ids = current.map(\.id).sorted().map(String.init).joined(separator: ",")
        switch self {
        case .add:
            if existing != nil { return .failure(.init("server \(id) is already a member (servers \(ids))")) }
            guard let member = written.first(where: { $0.id == id }) else {
                return .failure(.init("server \(id) is not in the ensemble file: add it there (host, clientPort, quorumPort, electionPort) so its line can be written", isInput: true))
            }
            guard let entry = try? ZooConfig.parse(member.serverLine, path: "server \(id)").servers.first else {
                return .failure(.init("server \(id): '\(member.serverLine)' is not a server line", isInput: true))
            }
            return .success(Request(joining: entry.dynamicLine, leaving: nil, after: current + [entry], newcomer: id))
        case .remove:
            guard existing != nil else { return .failure(.init("server \(id) is not a member (servers \(ids))")) }
            let after = current.filter { $0.id != id }
            guard after.contains(where: { $0.role == .participant }) else { return .failure(.init("removing server \(id) would leave no voter")) }
            return .success(Request(joining: nil, leaving: String(id), after: after, newcomer: nil))
        case .setRole(_, let role):
            guard var entry = existing else { return .failure(.init("server \(id) is not a member (servers \(ids))")) }
            if entry.role == role { return .failure(.init("server \(id) is already \(role == .observer ? "an observer" : "a participant")")) }
            entry.role = role
            if entry.clientPort == nil, let member = written.first(where: { $0.id == id }) {
                // A static list has no client part; reconfig's line must have one.
                (entry.clientAddress, entry.clientPort) = (member.host, member.clientPort)
            }
            let after = current.map { $0.id == id ? entry : $0 }
            guard after.contains(where: { $0.role == .participant }) else { return .failure(.init("making server \(id) an observer would leave no voter")) }
            return .success(Request(joining: entry.dynamicLine, leaving: nil, after: after, newcomer: nil))
        }
    }
}

/// Why a membership change is not asked for; `isInput`: the request itself is wrong (not the ensemble's state).
public struct MembershipChangeRefusal: Error, Sendable, Hashable {
    public var message: String
    public var isInput: Bool
    public init(_ message: String, isInput: Bool = false) { (self.message, self.isInput) = (message, isInput) }
}
