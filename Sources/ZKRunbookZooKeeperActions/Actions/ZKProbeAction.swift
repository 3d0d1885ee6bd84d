import Foundation
import ZKRunbookEngine
import ZKRunbookJSON5
import ZKRunbookProcess
import ZKRunbookZooKeeper

/// `zk-probe`: what one server is (mode, zxid, sync counts…), through 4lw or the AdminServer.
struct ZKProbeAction: ArgumentsDecodable {
    static let name = "zk-probe"
    static let summary = "read-only: one server's mode, zxid (epoch, counter), latency, sync counts; with 'ensemble', its lag behind the leader"

    /// Caught up: serving in a quorum (never standalone), a leader exists, within the lag, and — where the
    /// version says it (3.6+ `zk_peer_state`) — in the broadcast phase, not still synchronizing.
    static func caughtUp(_ facts: ServerFacts, leaderFound: Bool, lag: UInt64?, limit: UInt64) -> Bool {
        let joined = [.leader, .follower, .observer].contains(facts.mode)
        let broadcasting = facts.peerState.map { $0.hasSuffix("broadcast") } ?? true
        return joined && leaderFound && broadcasting && (facts.mode == .leader || (lag.map { $0 <= limit } ?? false))
    }

    var server: Template
    var adminPort: Template?
    var ensemble: [Template]
    /// With `ensemble`: the lag (transactions) within which the server counts as caught up.
    var maxLag: Template?
    var timeout: DurationSpec?
    /// srvr alone (mode, zxid): for a tight poll while a server starts, where every extra word is a
    /// connection the starting JVM must serve, and measurably delays it.
    var srvrOnly: Bool
    /// false: no mntr (a gate that reads only imok, mode or the zxid): mntr is the word a just-started JVM is
    /// slowest to answer.
    var monitor: Bool
    var isReadOnly: Bool { true }
    static var defaults: [String: any ArgumentValue] { ["ensemble": [Template](), "srvrOnly": false, "monitor": true] }

    func check(_ arguments: ActionArguments) {
        if maxLag != nil && ensemble.isEmpty {
            arguments.diagnostics.error(arguments.reader.location, "'maxLag' in zk-probe needs 'ensemble' (the servers among which to find the leader)")
        }
    }
    var yieldedFacts: FactNames? { ServerFacts.factNames.union(FactNames(["leader", "leaderZxid", "lagBehindLeader", "caughtUp"])) }

    func describe(_ resolver: TemplateResolver) -> [String] {
        let shown = server.display(resolver)
        let target = shown.hasPrefix("local:") ? "the server on port \(shown.dropFirst(6)) here, at the address it listens on" : shown
        var line = "probe \(target) (srvr" + (srvrOnly ? " only" : monitor ? ", ruok, mntr" : ", ruok")
        if let adminPort { line += "; AdminServer on port \(adminPort.display(resolver)) where the whitelist refuses" }
        line += ")"
        if !ensemble.isEmpty { line += "; lag measured against the leader among \(ensemble.map { $0.display(resolver) }.joined(separator: ","))" }
        if let maxLag { line += "; caught up within \(maxLag.display(resolver)) transactions" }
        return [line]
    }

    func execute(_ context: ActionContext) throws(ActionOutcome) -> ActionOutcome {
        let target: Endpoint
        switch endpoints([server], context) {
        case .failure(let outcome): return outcome
        case .success(let list):
            guard let first = list.first else { return .failure(cause: .invalidArgument, message: "no server given") }
            target = first
        }
        var admin: Int?
        if let adminPort {
            switch context.resolve(adminPort) {
            case .failure(let outcome): return outcome
            case .success(let text) where text.isEmpty:
                admin = nil
            case .success(let text):
                guard let port = Int(text), (1...65535).contains(port) else {
                    return .failure(cause: .invalidArgument, message: "adminPort '\(text)' is not a port")
                }
                admin = port
            }
        }
        let probe = ServerProbe(
            limits: limits(timeout, context.resolver), wantMonitor: !srvrOnly && monitor, wantRuok: !srvrOnly,
            connector: context.options.services.serverConnector)
        var others: [(endpoint: Endpoint, adminPort: Int?)] = []
        for template in ensemble {
            others += try ensembleMembers(fromSource: context.resolved(template)).get().map { ($0.endpoint, $0.adminPort) }
        }
        let peers = others.filter { $0.endpoint != target }.map { ($0.endpoint, $0.adminPort) }
        // The server and the others (to find the leader) in one round, not one after the other. The others are
        // asked srvr alone, with their AdminServers: a leader with leaderServes=no answers "not serving" over 4lw.
        let quick = ServerProbe(limits: probe.limits, wantMonitor: false, wantRuok: false, connector: probe.connector)
        let targetAdmin = admin
        let asks: [@Sendable () -> [ServerFacts]] =
            [{ [probe.probe(target, adminPort: targetAdmin)] }] + (peers.isEmpty ? [] : [{ quick.probeAll(peers) }])
        let rounds = Parallel.map(asks) { $0() }
        let facts = rounds[0][0]
        var map = facts.factMap
        if !others.isEmpty {
            let leader = rounds.dropFirst().first?.first { $0.mode == .leader } ?? (facts.mode == .leader ? facts : nil)
            var lag: UInt64?
            if let leader {
                map["leader"] = .string(leader.endpoint.description)
                if let leaderZxid = leader.zxid {
                    map["leaderZxid"] = .string(leaderZxid.description)
                    lag = facts.zxid.map { $0.lag(behind: leaderZxid) }
                    if let lag { map["lagBehindLeader"] = .int(Int64(lag)) }
                }
            } else {
                map["leader"] = .string("none")
            }
            if let maxLag {
                switch context.resolve(maxLag) {
                case .failure(let outcome): return outcome
                case .success(let text):
                    guard let limit = UInt64(text) else {
                        return .failure(cause: .invalidArgument, message: "maxLag '\(text)' is not a whole number")
                    }
                    map["caughtUp"] = .bool(ZKProbeAction.caughtUp(facts, leaderFound: leader != nil, lag: lag, limit: limit))
                }
            }
        }
        let summary = "\(target) is \(facts.mode.rawValue)" + (facts.zxid.map { ", zxid \($0)" } ?? "") + (facts.error.map { ": \($0)" } ?? "")
        return .success(summary, facts: map)
    }
}
