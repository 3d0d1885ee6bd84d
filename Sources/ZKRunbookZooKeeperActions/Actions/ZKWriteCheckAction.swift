import Foundation
import ZKRunbookAgent
import ZKRunbookClient
import ZKRunbookEngine
import ZKRunbookZooKeeper

/// `zk-write-check`: the only honest "it serves" — a write made through the server itself, which forwards it
/// to the leader and answers only once a quorum committed it and the server applied it, then read back from
/// it, within the step's deadline. `ruok` answers `imok` from a server that has not joined the quorum; this
/// does not pass until the server serves the ensemble's writes.
///
/// The canary is `/zkrunbook/canary/<ensemble name>` holding the run id: an ephemeral node of the check's own
/// session, gone when the session is closed (or, were the check killed, when the session expires). With
/// `enabled: false` (an ensemble that is read-only to us) the check is skipped and says so.
struct ZKWriteCheckAction: ArgumentsDecodable {
    static let name = "zk-write-check"
    static let summary = "read-only for data: write an ephemeral canary through 'server' (committed by the ensemble's quorum), read it back from it"

    static let root = "/zkrunbook/canary"

    var ensemble: Template
    var server: Template
    var enabled: Template?
    var interval: DurationSpec?
    /// It writes only its own canary znode, and removes it: a plan runs it like a probe.
    var isReadOnly: Bool { true }
    var yieldedFacts: FactNames? { FactNames(["path", "writeMs", "readMs", "attempts", "skipped", "possible"]) }

    func describe(_ resolver: TemplateResolver) -> [String] {
        [
            "write \(Self.root)/<ensemble> of \(ensemble.display(resolver)) through \(server.display(resolver)) (ephemeral, committed by the quorum), read it back from it"
                + (enabled.map { " (enabled: \($0.display(resolver)))" } ?? "")
        ]
    }

    func execute(_ context: ActionContext) throws(ActionOutcome) -> ActionOutcome {
        let values = try context.resolved([ensemble, server] + [enabled].compactMap { $0 })
        if values.count > 2, ["false", "no", "0"].contains(values[2].lowercased()) {
            return .success(
                "skipped: the write check is off (the ensemble is read-only to zkrunbook)", facts: ["skipped": .bool(true), "possible": .bool(true)])
        }
        // A plan changes nothing, not even a canary: what the write would show is known only in a real run.
        if context.isDryRun { return .unknown("not written in a dry run: the canary is written and read back in a real run") }
        // The ensemble's own name where a file gives one: the canaries of two ensembles never meet.
        var named: String?
        if values[0].hasSuffix(".json5") {
            do { named = try EnsembleFile.load(path: values[0]).name } catch {
                return .failure(cause: .invalidArgument, message: error.singleLine)
            }
        } else if case .failure(let outcome) = ZooKeeperActions.members(fromSource: values[0]) {
            return outcome
        }
        // No server named: through whichever member accepts the session (a run's preflight proving the write
        // possible before its first change).
        let targets: [Endpoint]
        if values[1].isEmpty {
            switch ZooKeeperActions.members(fromSource: values[0]) {
            case .success(let members): targets = members.map(\.endpoint)
            case .failure(let outcome): return outcome
            }
        } else {
            guard let target = Endpoint(parsing: values[1], defaultPort: 2181) else {
                return .failure(cause: .invalidArgument, message: "server '\(values[1])' is not HOST:PORT")
            }
            targets = [target]
        }
        let through = targets.count == 1 ? "\(targets[0])" : "the ensemble"
        let name = String((named ?? "ensemble").map { $0.isLetter || $0.isNumber || "-_.".contains($0) ? $0 : "_" })
        let path = "\(Self.root)/\(name)"
        let token = Array("\(context.resolver.runID) \(context.stepID) \(Event.timestamp(Date()))".utf8)
        var wait = interval?.resolve(context.resolver.parameters)?.seconds ?? 0.1
        var attempts = 0
        var last = ""
        while true {
            attempts += 1
            if context.cancellation.isCancelled { return .failure(cause: .interrupted, message: context.cancellation.reason ?? "interrupted") }
            let limit = max(0.5, min(5, context.remainingSeconds))
            switch Self.check(targets: targets, path: path, token: token, limit: limit, services: context.options.services) {
            case .success(let (writeMs, readMs)):
                return .success(
                    "wrote \(path) through \(through), committed by the ensemble, in \(writeMs) ms, read it back in \(readMs) ms",
                    facts: [
                        "path": .string(path), "writeMs": .int(Int64(writeMs)), "readMs": .int(Int64(readMs)), "attempts": .int(Int64(attempts)),
                        "possible": .bool(true),
                    ])
            case .failure(.server(.noAuth, let denied)):
                // An ACL does not change by waiting: said at once, with the ACL and the way out.
                let who = context.options.services.saslIdentity.map { "sasl:\($0.name)" } ?? "world:anyone (no SASL identity)"
                return .failure(
                    cause: .refused,
                    message:
                        "\(who) may not write the canary \(path) (NoAuth on \(denied ?? path)): \(Self.aclNote(targets: targets, services: context.options.services)); "
                        + "grant it create there (zkrunbook zk setacl), or run with --param writeCheck=false where the ensemble is read-only to zkrunbook")
            case .failure(let error):
                last = error.description
            }
            guard context.remainingSeconds > wait else {
                return .failure(cause: .timeout, message: "no write read back from \(through) before the step's deadline (\(attempts) attempt(s)): \(last)")
            }
            _ = context.cancellation.sleep(seconds: wait)
            wait = min(wait * 1.5, 1)
        }
    }

    /// The ACLs of the canary's existing ancestors, nearest first: what a refusal shows.
    static func aclNote(targets: [Endpoint], services: RunServices) -> String {
        let options = services.clientOptions(connectTimeout: 3, requestTimeout: 3)
        guard let client = try? ZooKeeperClient.connect(targets, options: options) else { return "its ACLs could not be read" }
        defer { client.close(awaitingReply: false) }
        for path in [root, "/zkrunbook", "/"] {
            do {
                let (acl, _) = try client.getACL(path)
                return "the ACL of \(path) is " + acl.map { "\($0.scheme):\($0.id):\($0.permissionLetters)" }.joined(separator: ",")
            } catch .server(.noNode, _) {
                continue
            } catch .server(.noAuth, _) {
                return "\(path)'s ACL grants this identity nothing, not even reading it"
            } catch {
                return "its ACLs could not be read: \(error)"
            }
        }
        return "its ACLs could not be read"
    }

    /// One attempt: a session on `targets` (one server, or any member), the canary created through it (the parents only where they
    /// are missing), read back, the session closed (which removes the canary; not waited for).
    static func check(
        targets: [Endpoint], path: String, token: [UInt8], limit: Double, services: RunServices
    ) -> Result<(Int, Int), ZooKeeperClientError> {
        let options = services.clientOptions(sessionTimeout: 10, connectTimeout: limit, requestTimeout: limit)
        let target = targets.count == 1 ? "\(targets[0])" : "the ensemble"
        do {
            let started = Date()
            let client = try ZooKeeperClient.connect(targets, options: options)
            // The check is done once the canary is read back: its removal is committed while the run goes on.
            defer { client.close(awaitingReply: false) }
            do {
                try client.create(path, token, mode: .ephemeral)
            } catch .server(.noNode, _) {
                for parent in ["/zkrunbook", root] {
                    do { try client.create(parent) } catch .server(.nodeExists, _) {}
                }
                try client.create(path, token, mode: .ephemeral)
            } catch .server(.nodeExists, _) {
                // A killed check's canary, until its session expires.
                try client.setData(path, token)
            }
            let wrote = Date()
            let (data, _) = try client.getData(path)
            guard data == token else { return .failure(.malformed("\(target) read back other data than was written (an older write)")) }
            return .success((Int(wrote.timeIntervalSince(started) * 1000), Int(Date().timeIntervalSince(wrote) * 1000)))
        } catch {
            return .failure(error)
        }
    }
}
