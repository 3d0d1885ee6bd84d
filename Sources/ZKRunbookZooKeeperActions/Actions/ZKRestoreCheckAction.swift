import Foundation
import ZKRunbookClient
import ZKRunbookEngine
import ZKRunbookProcess
import ZKRunbookZooKeeper

/// `zk-restore-check`: after a restore, reads the ensemble through the client and compares it with the
/// backup: a sample of persistent nodes (one path in `sampleEvery`, by a hash of the path) read back byte
/// for byte, and the node count — the backup's, or the backup's without its ephemerals once their sessions
/// expired, as ZooKeeper defines.
struct ZKRestoreCheckAction: ArgumentsDecodable {
    static let name = "zk-restore-check"
    static let summary = "read-only: compare the ensemble with a backup: sampled nodes byte for byte, the node count"

    var ensemble: Template
    var backup: Template
    var sampleEvery: Template
    var timeout: DurationSpec?
    var isReadOnly: Bool { true }
    static var defaults: [String: any ArgumentValue] { ["sampleEvery": Template.literal("10")] }
    var yieldedFacts: FactNames? { FactNames(["sampled", "znodes", "expected", "ephemerals"]) }

    func describe(_ resolver: TemplateResolver) -> [String] {
        ["read the ensemble through the client: one node in \(sampleEvery.display(resolver)) of \(backup.display(resolver)) byte for byte, and the node count"]
    }

    func execute(_ context: ActionContext) throws(ActionOutcome) -> ActionOutcome {
        let values = try context.resolved([ensemble, backup, sampleEvery])
        guard let every = Int(values[2]), every >= 1 else { return .failure(cause: .invalidArgument, message: "sampleEvery '\(values[2])' must be 1 or more") }
        let members: [EnsembleMember]
        switch ZooKeeperActions.members(fromSource: values[0]) {
        case .success(let found): members = found
        case .failure(let outcome): return outcome
        }
        let contents: BackupFolder.Contents
        do { contents = try BackupFolder(path: values[1]).verify(sample: DataSample(every: every)).contents } catch {
            return .failure(cause: .verifyFailed, message: error.description)
        }
        let seconds = timeout?.resolve(context.resolver.parameters)?.seconds ?? 10
        let client: ZooKeeperClient
        do {
            client = try ZooKeeperClient.connect(
                members.map(\.endpoint), options: context.options.services.clientOptions(connectTimeout: 3, requestTimeout: seconds)
            )
        } catch {
            return .failure(cause: .unreachable, message: "no member accepted a session: \(error)")
        }
        defer { client.close() }
        var differ: [String] = []
        do {
            try client.sync("/")
            for (path, data) in contents.replay.sampled.sorted(by: { $0.key < $1.key }) {
                guard try client.exists(path.isEmpty ? "/" : path) != nil else {
                    differ.append("\(path): missing")
                    continue
                }
                if try client.getData(path.isEmpty ? "/" : path).data != data { differ.append("\(path): other data") }
            }
        } catch {
            return .failure(cause: .unreachable, message: "reading the sample: \(error)")
        }
        guard differ.isEmpty else {
            return .failure(
                cause: .verifyFailed,
                message: "\(differ.count) of \(contents.replay.sampled.count) sampled node(s) differ: " + differ.prefix(5).joined(separator: "; "))
        }
        let probe = ServerProbe(
            limits: SocketLimits(connectTimeout: 2, readTimeout: 2), wantMonitor: false, wantRuok: false, connector: context.options.services.serverConnector)
        let counts = probe.probeAll(members.map { ($0.endpoint, nil) }).compactMap(\.nodeCount).map { Int($0) - 1 }
        let ephemerals = contents.replay.ephemerals.values.reduce(0) { $0 + $1.count }
        let expected = contents.replay.nodes
        guard let count = counts.first, counts.allSatisfy({ $0 == count }) else {
            return .failure(cause: .verifyFailed, message: "the members report different node counts (\(counts)): not settled")
        }
        guard count == expected || count == expected - ephemerals else {
            return .failure(
                cause: .verifyFailed,
                message: "the ensemble holds \(count) node(s); the backup \(expected) (\(expected - ephemerals) without its \(ephemerals) ephemeral(s))")
        }
        return .success(
            "\(contents.replay.sampled.count) sampled node(s) byte for byte as backed up; \(count) node(s)"
                + (count == expected
                    ? " as in the backup (its \(ephemerals) ephemeral(s) still held)"
                    : " as in the backup without its \(ephemerals) ephemeral(s), their sessions gone"),
            facts: [
                "sampled": .int(Int64(contents.replay.sampled.count)), "znodes": .int(Int64(count)), "expected": .int(Int64(expected)),
                "ephemerals": .int(Int64(ephemerals)),
            ])
    }
}
