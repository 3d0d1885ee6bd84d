import Foundation
import ZKRunbookJSON5

/// A ZooKeeper transaction id: the leader epoch in the high 32 bits, a counter in the low 32.
///
/// The counter is what rolls over (forcing an election) and what lag is measured in.
public struct Zxid: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    public var raw: UInt64

    public init(raw: UInt64) { self.raw = raw }
    public init(epoch: UInt32, counter: UInt32) { raw = UInt64(epoch) << 32 | UInt64(counter) }

    /// Parses `0x100000003` (srvr) or a decimal (AdminServer JSON).
    public init?(parsing text: String) {
        let trimmed = text.trimmingSpaces
        if trimmed.lowercased().hasPrefix("0x") {
            guard let value = UInt64(trimmed.dropFirst(2), radix: 16) else { return nil }
            raw = value
        } else {
            guard let value = UInt64(trimmed) else { return nil }
            raw = value
        }
    }

    public var epoch: UInt32 { UInt32(truncatingIfNeeded: raw >> 32) }
    public var counter: UInt32 { UInt32(truncatingIfNeeded: raw) }
    public var description: String { "0x" + String(raw, radix: 16) }
    public static func < (lhs: Zxid, rhs: Zxid) -> Bool { lhs.raw < rhs.raw }

    /// Transactions this zxid is behind `leader`. Across epochs the follower has seen none of the leader's
    /// epoch, so the lag is the leader's counter (0 right after an election: nothing committed yet).
    public func lag(behind leader: Zxid) -> UInt64 {
        if epoch == leader.epoch { return leader.counter > counter ? UInt64(leader.counter - counter) : 0 }
        if epoch > leader.epoch { return 0 }
        return UInt64(leader.counter)
    }
}

/// A server's role as it reports it.
public enum ServerMode: String, Sendable, Codable, CaseIterable {
    case leader, follower, observer, standalone
    /// Up, but answering "not currently serving requests": no quorum, or still syncing.
    case notServing = "not-serving"
    /// No answer at all: refused, timed out, unresolvable.
    case unreachable
    /// Answered, but nothing said what it is (every channel refused).
    case unknown
    /// Answered, but what it said proves it is not the member written at this endpoint (another ensemble's
    /// member list, another client address): never counted (`MemberIdentity`).
    case stranger = "not-a-member"
    /// Claims to lead but says nothing of who it is while the other servers say who they are: not counted.
    case unconfirmed

    public var isServing: Bool { [.leader, .follower, .observer, .standalone].contains(self) }
}

/// What one probe learned about one server, with the channel each fact came from.
public struct ServerFacts: Sendable, Codable {
    public var endpoint: Endpoint
    public var mode: ServerMode = .unknown
    public var zxid: Zxid?
    public var version: String?
    public var latencyMin: Double?
    public var latencyAvg: Double?
    public var latencyMax: Double?
    public var received: Int64?
    public var sent: Int64?
    public var connections: Int64?
    public var outstanding: Int64?
    public var nodeCount: Int64?
    /// `ruok` answered `imok`. Note: true even when the server is not serving (ZooKeeper's own docs say so).
    public var imok: Bool?
    public var readOnly: Bool?
    /// Leader only (mntr or AdminServer): learners connected, followers in sync, syncs pending.
    public var learners: Int64?
    public var syncedFollowers: Int64?
    public var syncedObservers: Int64?
    public var pendingSyncs: Int64?
    /// Voters in the ensemble as the server counts them (`zk_quorum_size`, 3.6+).
    public var quorumSize: Int64?
    public var uptimeMs: Int64?
    /// What `conf` says: this server's own id (its myid) and the members it is configured with.
    public var serverID: Int?
    public var membership: [ServerEntry]?
    /// 3.6+ mntr `zk_peer_state`, e.g. "following - broadcast": a learner still syncing says otherwise.
    public var peerState: String?
    public var configVersion: String?
    /// The whole `mntr` map, when it could be read.
    public var monitor: [String: String] = [:]
    /// fact name -> channel ("4lw srvr", "4lw mntr", "admin mntr", …).
    public var channels: [String: String] = [:]
    /// What could not be learned and why ("mntr: not in 4lw.commands.whitelist").
    public var notes: [String] = []
    /// `conf`'s `maxClientCnxns`: connections one client address may hold (0: no limit).
    public var maxClientCnxns: Int?
    /// Why the server is unreachable or not serving, when it is.
    public var error: String?
    public var errorKind: String?
    public var probeMs: Int = 0
    /// The certificate the server showed over TLS this round: when it stops being valid, its serial.
    public var certificate: PeerCertificate?

    public init(endpoint: Endpoint) { self.endpoint = endpoint }

    /// `errorKind` of a server that accepted every connection and closed it without a word, asked one word
    /// at a time too: up, its state unknown — what ZooKeeper does to a client address at its maxClientCnxns.
    public static let closedWithoutAnswer = "closed-without-answer"
    public var closedWithoutAnswer: Bool { errorKind == Self.closedWithoutAnswer }

}

/// Parsers for the replies of srvr/stat, mntr and the AdminServer.
public enum ReplyParser {
    /// `srvr` and `stat` share these lines; `stat` adds a Clients: block, which is skipped.
    public static func applyServerStats(_ text: String, to facts: inout ServerFacts, channel: String) -> Result<Void, InputProblem> {
        var seenMode = false
        for rawLine in text.split(separator: "\n") {
            let line = rawLine.trimmingSpaces
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingSpaces
            let value = line[line.index(after: colon)...].trimmingSpaces
            switch key {
            case "Zookeeper version":
                facts.version = value
                facts.channels["version"] = channel
            case "Latency min/avg/max":
                let parts = value.split(separator: "/").compactMap { Double($0) }
                if parts.count == 3 {
                    (facts.latencyMin, facts.latencyAvg, facts.latencyMax) = (parts[0], parts[1], parts[2])
                    facts.channels["latency"] = channel
                }
            case "Received": facts.received = Int64(value)
            case "Sent": facts.sent = Int64(value)
            case "Connections":
                facts.connections = Int64(value)
                facts.channels["connections"] = channel
            case "Outstanding": facts.outstanding = Int64(value)
            case "Node count": facts.nodeCount = Int64(value)
            case "Zxid":
                guard let zxid = Zxid(parsing: value) else { return .failure(InputProblem("Zxid '\(value)' is not a number")) }
                facts.zxid = zxid
                facts.channels["zxid"] = channel
            case "Mode":
                guard let mode = ServerMode(rawValue: value), mode.isServing else { return .failure(InputProblem("unknown Mode '\(value)'")) }
                facts.mode = mode
                facts.channels["mode"] = channel
                seenMode = true
            default:
                continue
            }
        }
        return seenMode ? .success(()) : .failure(InputProblem("no 'Mode:' line (reply cut short?)"))
    }

    /// `mntr`: one `key<TAB>value` per line.
    /// `zk_key<TAB>value` lines into a map, read as bytes (a leader's reply is 500 lines and 17 KB).
    public static func parseMonitor(_ text: String) -> Result<[String: String], InputProblem> {
        var text = text
        return text.withUTF8 { bytes -> Result<[String: String], InputProblem> in
            var map: [String: String] = [:]
            var start = 0
            while start < bytes.count {
                let end = bytes[start...].firstIndex(of: 0x0A) ?? bytes.count
                defer { start = end + 1 }
                guard end > start else { continue }
                let line = UnsafeBufferPointer(rebasing: bytes[start..<end])
                guard let tab = line.firstIndex(of: 0x09), ReplyBytes.starts(UnsafeBufferPointer(rebasing: line[..<tab]), with: "zk_") else {
                    return .failure(InputProblem("line '\(String(decoding: line.prefix(80), as: UTF8.self))' is not 'zk_key<TAB>value'"))
                }
                var valueStart = tab + 1
                var valueEnd = line.endIndex
                while valueStart < valueEnd, line[valueStart] == 0x20 || line[valueStart] == 0x09 { valueStart += 1 }
                while valueEnd > valueStart, line[valueEnd - 1] == 0x20 || line[valueEnd - 1] == 0x09 || line[valueEnd - 1] == 0x0D { valueEnd -= 1 }
                map[String(decoding: line[..<tab], as: UTF8.self)] = String(decoding: line[valueStart..<valueEnd], as: UTF8.self)
            }
            return map.isEmpty ? .failure(InputProblem("no zk_ lines")) : .success(map)
        }
    }

    /// Typed facts from the mntr map. 3.5 says zk_followers where 3.6+ says zk_learners.
    public static func applyMonitor(_ map: [String: String], to facts: inout ServerFacts, channel: String) {
        facts.monitor = map
        func int(_ key: String) -> Int64? { map[key].flatMap { Int64($0) ?? Double($0).map { Int64($0) } } }
        if let state = map["zk_server_state"], let mode = ServerMode(rawValue: state), facts.mode == .unknown {
            facts.mode = mode
            facts.channels["mode"] = channel
        }
        if let learners = int("zk_learners") ?? int("zk_followers") {
            facts.learners = learners
            facts.channels["learners"] = channel
        }
        if let synced = int("zk_synced_followers") {
            facts.syncedFollowers = synced
            facts.channels["syncedFollowers"] = channel
        }
        if let synced = int("zk_synced_observers") { facts.syncedObservers = synced }
        if let pending = int("zk_pending_syncs") {
            facts.pendingSyncs = pending
            facts.channels["pendingSyncs"] = channel
        }
        if let size = int("zk_quorum_size") { facts.quorumSize = size }
        if let state = map["zk_peer_state"] { facts.peerState = state }
        if let uptime = int("zk_uptime") { facts.uptimeMs = uptime }
        if facts.version == nil { facts.version = map["zk_version"] }
        if facts.outstanding == nil { facts.outstanding = int("zk_outstanding_requests") }
        if facts.nodeCount == nil { facts.nodeCount = int("zk_znode_count") }
        if facts.connections == nil { facts.connections = int("zk_num_alive_connections") }
        if facts.latencyAvg == nil { facts.latencyAvg = map["zk_avg_latency"].flatMap(Double.init) }
    }

    /// `conf`: `key=value` lines; 3.5+ ends with `membership:` and the `server.N=` lines, then `version=`.
    public static func applyConfig(_ text: String, to facts: inout ServerFacts, channel: String) -> Result<Void, InputProblem> {
        var servers: [ServerEntry] = []
        var sawServerID = false
        for (index, rawLine) in text.split(separator: "\n").enumerated() {
            guard let equals = rawLine.firstIndex(of: "=") else { continue }
            let key = rawLine[..<equals].trimmingSpaces
            let value = rawLine[rawLine.index(after: equals)...].trimmingSpaces
            if key == "serverId" {
                guard let id = Int(value) else { return .failure(InputProblem("serverId '\(value)' is not a number")) }
                facts.serverID = id
                sawServerID = true
            } else if key == "version" {
                facts.configVersion = value
            } else if key == "maxClientCnxns" {
                facts.maxClientCnxns = Int(value)
            } else if key.hasPrefix("server.") {
                do { servers.append(try ZooConfig.parseServer(key: key, value: value, path: "conf", line: index + 1)) } catch {
                    return .failure(InputProblem(error.message))
                }
            }
        }
        guard sawServerID || !servers.isEmpty else { return .failure(InputProblem("no serverId or server.N lines")) }
        // 3.4 lists no members in conf: the list stays unknown rather than empty.
        if !servers.isEmpty {
            facts.membership = servers
            facts.channels["membership"] = channel
        }
        return .success(())
    }

    /// AdminServer `voting_view` (the members, keyed by id) and `configuration` (`server_id`).
    public static func applyAdminMembership(votingView: [String: Any]?, configuration: [String: Any]?, to facts: inout ServerFacts) {
        if let id = (configuration?["server_id"] as? NSNumber)?.intValue { facts.serverID = id }
        guard let current = votingView?["current_config"] as? [String: Any] else { return }
        var servers: [ServerEntry] = []
        for (key, value) in current {
            guard let id = Int(key), let entry = value as? [String: Any] else { continue }
            func address(_ field: String) -> Endpoint? {
                ((entry[field] as? [Any])?.first as? String).flatMap { Endpoint(parsing: $0, defaultPort: 0) }
            }
            guard let quorum = address("server_addresses"), let election = address("election_addresses") else { continue }
            let role: ServerEntry.Role = (entry["learner_type"] as? String) == "observer" ? .observer : .participant
            let client = (entry["client_address"] as? String).flatMap { Endpoint(parsing: $0, defaultPort: 0) }
            servers.append(
                ServerEntry(
                    id: id, host: quorum.host, quorumPort: quorum.port, electionPort: election.port, role: role, clientAddress: client?.host,
                    clientPort: client?.port, line: 0))
        }
        if !servers.isEmpty {
            facts.membership = servers.sorted { $0.id < $1.id }
            facts.channels["membership"] = "admin voting_view"
        }
    }

    /// AdminServer `srvr` (server_stats) JSON.
    public static func applyAdminStats(_ json: [String: Any], to facts: inout ServerFacts, channel: String) -> Result<Void, InputProblem> {
        guard let stats = json["server_stats"] as? [String: Any] else { return .failure(InputProblem("no server_stats in the JSON")) }
        func int(_ key: String) -> Int64? { (stats[key] as? NSNumber)?.int64Value }
        if let state = stats["server_state"] as? String, let mode = ServerMode(rawValue: state) {
            facts.mode = mode
            facts.channels["mode"] = channel
        }
        if let zxid = (stats["last_processed_zxid"] as? NSNumber)?.uint64Value {
            facts.zxid = Zxid(raw: zxid)
            facts.channels["zxid"] = channel
        }
        facts.version = json["version"] as? String ?? facts.version
        facts.outstanding = int("outstanding_requests")
        facts.connections = int("num_alive_client_connections")
        facts.received = int("packets_received")
        facts.sent = int("packets_sent")
        facts.latencyAvg = (stats["avg_latency"] as? NSNumber)?.doubleValue
        facts.latencyMin = (stats["min_latency"] as? NSNumber)?.doubleValue
        facts.latencyMax = (stats["max_latency"] as? NSNumber)?.doubleValue
        facts.uptimeMs = int("uptime")
        facts.nodeCount = (json["node_count"] as? NSNumber)?.int64Value
        facts.readOnly = json["read_only"] as? Bool
        return facts.mode == .unknown ? .failure(InputProblem("no server_state in the JSON")) : .success(())
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs: what `trimmingCharacters(in: .whitespaces)` does to an
    /// ASCII reply, without bridging every line to NSString.
    var trimmingSpaces: String {
        let text = Substring(self)
        let bytes = text.utf8
        var start = bytes.startIndex
        var end = bytes.endIndex
        while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 { start = bytes.index(after: start) }
        while start < end {
            let last = bytes.index(before: end)
            guard bytes[last] == 0x20 || bytes[last] == 0x09 else { break }
            end = last
        }
        return String(text[start..<end])
    }
}
