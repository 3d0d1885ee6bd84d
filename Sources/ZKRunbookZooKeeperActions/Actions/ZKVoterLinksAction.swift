import Foundation
import ZKRunbookAgent
import ZKRunbookEngine
import ZKRunbookJSON5
import ZKRunbookProcess
import ZKRunbookZooKeeper

/// `zk-voter-links`: can the voters that stay up without node `without` reach each other on their election
/// ports? Asked on each such voter's node, through its agent (`zkrunbook reach`), because only a node sees
/// its own links: two followers cut off from each other both still follow the leader and serve, so every
/// other check passes — and when the leader stops, neither can gather a majority.
struct ZKVoterLinksAction: ArgumentsDecodable {
    static let name = "zk-voter-links"
    static let summary =
        "read-only: from each voter but 'without', through its agent, connect to every other such voter's election port; connected, and the pairs that cannot talk"

    var ensemble: Template
    var without: Template?
    var timeout: DurationSpec?
    var isReadOnly: Bool { true }

    var yieldedFacts: FactNames? { FactNames(["connected", "cutLinks", "checkedLinks"]) }

    func describe(_ resolver: TemplateResolver) -> [String] {
        let but = without.map { " but node \($0.display(resolver))" } ?? ""
        return ["from every voter\(but) of \(ensemble.display(resolver)), through its agent, connect to every other such voter's election port"]
    }

    func execute(_ context: ActionContext) throws(ActionOutcome) -> ActionOutcome {
        let source = try context.resolved(ensemble)
        guard source.hasSuffix(".json5") else {
            return .failure(cause: .invalidArgument, message: "zk-voter-links needs an ensemble file (.json5): each voter is asked through its node's agent")
        }
        let file: EnsembleFile
        do { file = try EnsembleFile.load(path: source) } catch {
            return .failure(cause: .invalidArgument, message: error.singleLine)
        }
        var left: Int?
        if let without {
            let text = try context.resolved(without)
            guard let id = Int(text) else { return .failure(cause: .invalidArgument, message: "without '\(text)' is not a node id") }
            left = id
        }
        let seconds = limits(timeout, context.resolver).connectTimeout
        let staying = file.nodes.filter { $0.role == .participant && $0.id != left }
        let links = Self.electionAddresses(of: staying.map(\.member), seconds: seconds)
        guard staying.count > 1 else {
            return .success(
                "\(staying.count) voter stays up: no link between voters to check",
                facts: ["connected": .bool(true), "cutLinks": .string(""), "checkedLinks": .int(0)])
        }
        let asked = Parallel.map(staying) { voter -> Result<ReachReport, ConfigReadFailure> in
            let targets = staying.filter { $0.id != voter.id }.map { links[$0.id]!.description }
            return voter.nodeAgent(connector: context.options.services.nodeConnector).reach(targets, timeout: seconds, cancellation: context.cancellation)
                .mapError { ConfigReadFailure($0.message) }
        }
        var cut: [String] = []
        var unasked: [String] = []
        var checked = 0
        for (voter, answer) in zip(staying, asked) {
            switch answer {
            case .failure(let failure): unasked.append("server \(voter.id) could not be asked: \(failure.message)")
            case .success(let report):
                for attempt in report.attempts {
                    checked += 1
                    guard !attempt.reached else { continue }
                    let peer = staying.first { links[$0.id]?.description == attempt.endpoint }.map { "server \($0.id)'s" } ?? "the"
                    // The socket's words without the endpoint they repeat.
                    let why = (attempt.error ?? "no connection").replacingOccurrences(of: attempt.endpoint + ": ", with: "")
                    cut.append("server \(voter.id) cannot reach \(peer) election port \(attempt.endpoint): \(why)")
                }
            }
        }
        let ids = staying.map { String($0.id) }.joined(separator: ", ")
        if !unasked.isEmpty {
            // A link nobody could test is not a link that works: the guard cannot be evaluated.
            return .failure(
                cause: .unreachable, message: "the links between voters \(ids) could not all be checked: " + (unasked + cut).joined(separator: "; "))
        }
        let facts: [String: FactValue] = [
            "connected": .bool(cut.isEmpty), "cutLinks": .string(cut.joined(separator: "; ")), "checkedLinks": .int(Int64(checked)),
        ]
        if cut.isEmpty {
            return .success("voters \(ids) reach each other's election ports (\(checked) links, each checked from its own node)", facts: facts)
        }
        return .success(
            "voters \(ids) cannot all reach each other: " + cut.joined(separator: "; ")
                + "; a server restarted now could not rejoin over these links, and the others could not elect a leader without it", facts: facts)
    }

    /// Each voter's election address as the servers' own member list gives it (what ZooKeeper connects to),
    /// else as the ensemble file writes it (its electionPort, or ZooKeeper's default 3888).
    static func electionAddresses(of voters: [EnsembleMember], seconds: Double) -> [Int: Endpoint] {
        let probe = ServerProbe(
            limits: SocketLimits(connectTimeout: seconds, readTimeout: seconds, maxReplyBytes: 1 << 20), wantMonitor: false, wantRuok: false, wantConfig: true)
        let facts = probe.probeAll(voters.map { ($0.endpoint, $0.adminPort) })
        let reported = facts.lazy.compactMap(\.membership).first ?? []
        var out: [Int: Endpoint] = [:]
        for voter in voters {
            if let entry = reported.first(where: { $0.id == voter.id }) {
                out[voter.id] = Endpoint(host: entry.host, port: entry.electionPort)
            } else {
                out[voter.id] = Endpoint(host: voter.host, port: voter.electionPort ?? 3888)
            }
        }
        return out
    }
}
