import Foundation
import ZKRunbookEngine
import ZKRunbookJSON5
import ZKRunbookProcess
import ZKRunbookZooKeeper

/// `zk-peer-reach`: from this node, do the servers named in `peers` answer on the election (and, to prove
/// them cut off, quorum) ports zoo.cfg gives them? Those ports are the links ZooKeeper itself needs, so they say whether a data centre
/// is cut off (`expect: "unreachable"`) or back (`expect: "reachable"`).
struct ZKPeerReachAction: ArgumentsDecodable {
    static let name = "zk-peer-reach"
    static let summary = "read-only: from this node, try the election (and quorum) ports zoo.cfg gives the servers in 'peers'; asExpected against 'expect'"

    var config: Template
    var peers: Template
    /// "unreachable" (every port refused or silent) or "reachable" (every port answers).
    var expect: Template
    var timeout: DurationSpec?
    var isReadOnly: Bool { true }
    static var defaults: [String: any ArgumentValue] { ["expect": Template.literal("unreachable")] }

    func describe(_ resolver: TemplateResolver) -> [String] {
        [
            "connect from this node to the election ports (and, to prove them cut off, the quorum ports) of servers \(peers.display(resolver)) "
                + "as \(config.display(resolver)) gives them; expected: all \(expect.display(resolver))"
        ]
    }

    func execute(_ context: ActionContext) throws(ActionOutcome) -> ActionOutcome {
        let values = try context.resolved([config, peers, expect])
        guard values[2] == "reachable" || values[2] == "unreachable" else {
            return .failure(cause: .invalidArgument, message: "expect must be \"reachable\" or \"unreachable\", found '\(values[2])'")
        }
        let ids: [Int]
        switch SurvivorLayout.parse(values[1], name: "peers") {
        case .success(let parsed): ids = parsed.survivors
        case .failure(let problem): return .failure(cause: .invalidArgument, message: problem.message)
        }
        let loaded: ZooConfig
        do { loaded = try ZooConfig.load(path: values[0], readMyid: false) } catch {
            return .failure(cause: .invalidArgument, message: error.description)
        }
        var entries: [ServerEntry] = []
        for id in ids {
            guard let entry = loaded.servers.first(where: { $0.id == id }) else {
                return .failure(cause: .invalidArgument, message: "server \(id) is not in the server list of \(values[0])")
            }
            entries.append(entry)
        }
        let seconds = limits(timeout, context.resolver).connectTimeout
        // Every server listens on its election port; only a leader listens on its quorum port, so that one
        // counts when proving a server is cut off, never when proving it is back.
        let wantReachable = values[2] == "reachable"
        let targets = entries.flatMap { entry in
            [("server \(entry.id) election port", Endpoint(host: entry.host, port: entry.electionPort))]
                + (wantReachable ? [] : [("server \(entry.id) quorum port", Endpoint(host: entry.host, port: entry.quorumPort))])
        }
        let answers = Parallel.map(targets) { target -> String? in
            switch SocketClient.connect(target.1, timeout: seconds) {
            case .success(let fd):
                close(fd)
                return nil
            case .failure(let error): return error.description
            }
        }
        let reachable = zip(targets, answers).filter { $0.1 == nil }.map { "\($0.0.0) (\($0.0.1))" }
        let unreachable = zip(targets, answers).compactMap { pair in pair.1.map { "\(pair.0.0): \($0)" } }
        let asExpected = wantReachable ? unreachable.isEmpty : reachable.isEmpty
        var summary = "\(reachable.count) of \(targets.count) ports of servers \(values[1]) answer from this node"
        if !reachable.isEmpty && values[2] == "unreachable" { summary += ": " + reachable.joined(separator: ", ") }
        if !unreachable.isEmpty && values[2] == "reachable" { summary += "; no answer: " + unreachable.joined(separator: "; ") }
        return .success(
            summary,
            facts: [
                "checked": .int(Int64(targets.count)), "reachable": .int(Int64(reachable.count)), "asExpected": .bool(asExpected),
                "reachablePorts": .string(reachable.joined(separator: "; ")), "unreachablePorts": .string(unreachable.joined(separator: "; ")),
            ])
    }
}
