import Dispatch
import Foundation

/// Learns what a server is, through whichever channel it allows.
///
/// `srvr` first: it is the one word whitelisted by default since 3.5.3 and it carries mode and zxid.
/// `mntr` (leader sync counts) and `ruok` follow; where the whitelist refuses them and an AdminServer
/// port is known, the same command is asked over HTTP. Each fact records the channel it came from.
public struct ServerProbe: Sendable {
    public var limits: SocketLimits
    public var wantMonitor: Bool
    public var wantRuok: Bool

    public init(limits: SocketLimits = .standard, wantMonitor: Bool = true, wantRuok: Bool = true) {
        self.limits = limits
        self.wantMonitor = wantMonitor
        self.wantRuok = wantRuok
    }

    public func probe(_ endpoint: Endpoint, adminPort: Int? = nil) -> ServerFacts {
        let started = Date()
        var facts = ServerFacts(endpoint: endpoint)
        let words = FourLetterWordClient(limits: limits)
        let admin = AdminServerClient(limits: limits)
        let adminEndpoint = adminPort.map { Endpoint(host: endpoint.host, port: $0) }
        defer { facts.probeMs = Int(Date().timeIntervalSince(started) * 1000) }

        switch words.send(.srvr, to: endpoint) {
        case .success(let text):
            if case .failure(let problem) = ReplyParser.applyServerStats(text, to: &facts, channel: "4lw srvr") {
                facts.mode = .unknown
                record(.malformed(endpoint: endpoint.description, command: "srvr", reason: problem.message), in: &facts)
                return facts
            }
        case .failure(let error):
            if case .notServing = error {
                facts.mode = .notServing
                facts.channels["mode"] = "4lw srvr"
                record(error, in: &facts)
            } else if let adminEndpoint, error.isUnreachable || error.kind == "not-whitelisted" {
                facts.notes.append("srvr: \(error)")
                switch admin.command("srvr", at: adminEndpoint) {
                case .success(let json):
                    if case .failure(let problem) = ReplyParser.applyAdminStats(json, to: &facts, channel: "admin srvr") {
                        facts.mode = .unknown
                        facts.notes.append("admin srvr: \(problem.message)")
                    }
                case .failure(let adminError):
                    if case .notServing = adminError {
                        facts.mode = .notServing
                        facts.channels["mode"] = "admin srvr"
                        record(adminError, in: &facts)
                    } else {
                        facts.mode = error.isUnreachable ? .unreachable : .unknown
                        record(error, in: &facts)
                        facts.notes.append("admin srvr: \(adminError)")
                    }
                }
            } else {
                facts.mode = error.isUnreachable ? .unreachable : .unknown
                record(error, in: &facts)
            }
        }
        if facts.mode == .unreachable { return facts }

        if wantRuok {
            switch words.send(.ruok, to: endpoint) {
            case .success(let text):
                facts.imok = text.trimmingCharacters(in: .whitespacesAndNewlines) == "imok"
                facts.channels["imok"] = "4lw ruok"
            case .failure(.notWhitelisted):
                if let adminEndpoint, case .success = admin.command("ruok", at: adminEndpoint) {
                    facts.imok = true
                    facts.channels["imok"] = "admin ruok"
                } else {
                    facts.notes.append("ruok: not in 4lw.commands.whitelist" + (adminEndpoint == nil ? "" : " and the AdminServer did not answer"))
                }
            case .failure(let error):
                facts.notes.append("ruok: \(error)")
            }
        }

        if wantMonitor && facts.mode.isServing {
            switch words.send(.mntr, to: endpoint) {
            case .success(let text):
                switch ReplyParser.parseMonitor(text) {
                case .success(let map): ReplyParser.applyMonitor(map, to: &facts, channel: "4lw mntr")
                case .failure(let problem): facts.notes.append("mntr: malformed reply: \(problem.message)")
                }
            case .failure(.notWhitelisted):
                if let adminEndpoint {
                    switch admin.command("mntr", at: adminEndpoint) {
                    case .success(let json): ReplyParser.applyMonitor(Self.monitorMap(fromAdmin: json), to: &facts, channel: "admin mntr")
                    case .failure(let error): facts.notes.append("mntr: not in 4lw.commands.whitelist; admin mntr: \(error)")
                    }
                } else {
                    facts.notes.append("mntr: not in 4lw.commands.whitelist (and no AdminServer port to ask instead)")
                }
            case .failure(let error):
                facts.notes.append("mntr: \(error)")
            }
        }
        return facts
    }

    /// Probes every endpoint at once; the answer keeps the order given.
    public func probeAll(_ targets: [(Endpoint, Int?)]) -> [ServerFacts] {
        let results = ResultSlots<ServerFacts>(count: targets.count)
        DispatchQueue.concurrentPerform(iterations: targets.count) { index in
            results.set(index, probe(targets[index].0, adminPort: targets[index].1))
        }
        return results.values
    }

    private func record(_ error: ZooKeeperError, in facts: inout ServerFacts) {
        facts.error = error.description
        facts.errorKind = error.kind
    }

    /// The AdminServer's monitor JSON uses mntr's names without the zk_ prefix.
    static func monitorMap(fromAdmin json: [String: Any]) -> [String: String] {
        var map: [String: String] = [:]
        for (key, value) in json where key != "command" && key != "error" {
            switch value {
            case let number as NSNumber: map["zk_" + key] = number.stringValue
            case let text as String: map["zk_" + key] = text
            default: continue
            }
        }
        return map
    }
}

/// Fixed slots written from concurrent iterations.
final class ResultSlots<Value>: @unchecked Sendable {
    private var slots: [Value?]
    private let lock = NSLock()

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ value: Value) {
        lock.lock()
        slots[index] = value
        lock.unlock()
    }

    var values: [Value] {
        lock.lock()
        defer { lock.unlock() }
        return slots.map { $0! }
    }
}
