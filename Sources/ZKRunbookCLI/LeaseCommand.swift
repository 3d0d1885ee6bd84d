import Foundation
import ZKRunbookAgent
import ZKRunbookEngine
import ZKRunbookRolling
import ZKRunbookZooKeeper
import ZKRunbookZooKeeperActions

/// `zkrunbook lease`: the node-side lease files a conductor takes through each node's agent, and the
/// operator's view of them across an ensemble (show, break).
enum LeaseCommand {
    static let usage = "Usage: zkrunbook lease (show|break) --ensemble FILE | lease (acquire|release|show|break) --key KEY [options]"
    static let help = """
        \(usage)

        A run that changes an ensemble (every runbook that declares 'lease': rolling-restart, add-server,
        remove-server, set-role, replace-node, restore, rolling-config-change, purge) takes a lease on
        every node before its first step, through the node's own agent, in node-id order, all or
        nothing: a file in the machine's lease folder (ZKRUNBOOK_LEASE_DIR, else /run/zkrunbook/leases as
        root, else /tmp/zkrunbook-leases-UID; never a state directory, which each ensemble file may name
        otherwise) called zookeeper-CLIENTPORT.json, naming the run, its host and pid, and an expiry. It
        is renewed every third of its TTL while the run lives; the conductor checks it before each change
        and each node's agent before each change it makes there. A second conductor — another machine,
        state directory, copy or spelling of the ensemble file — meets the lease on the first node and is
        refused before any change (exit 4, naming the holder). A
        conductor that died stops renewing: its lease expires (default 60 s) and is then taken over and
        reported; one whose holder is known gone can be broken at once.

          lease show --ensemble FILE     every node's lease, through its agent
          lease break --ensemble FILE    remove every node's lease (after making sure its run is dead)

        Node side (what the conductor runs through the agent):
          lease acquire --key KEY --run RUN-ID --ttl DUR [--runbook NAME] [--ensemble NAME]
                        [--ensemble-id ID] [--holder-host HOST] [--holder-pid PID] [--needs RUNBOOK]...
          lease release --key KEY --run RUN-ID
          lease show [--key KEY]
          lease break --key KEY

        Options:
          --json         one JSON object per answer
          -h, --help     show this help

        Exit codes: 0 done, 2 usage error (or a runbook in --needs is missing), 4 another run holds the lease.
        """

    static func run(_ arguments: [String]) throws -> ExitCode {
        let parsed = try ParsedArguments(
            arguments,
            valueOptions: AgentVerb.lease.valueOptions, flagOptions: AgentVerb.lease.flagOptions, usage: usage)
        if parsed.flags.contains("--help") {
            print(help)
            return CLI.ExitCode.success
        }
        guard parsed.positionals.count == 1, let verb = parsed.positionals.first.flatMap(LeaseRequest.Verb.init(rawValue:)) else {
            throw UsageError(message: "lease takes one of acquire, release, show, break", usage: usage)
        }
        if let path = parsed.value("--ensemble"), parsed.value("--key") == nil {
            guard verb == .show || verb == .breakIt else { throw UsageError(message: "with --ensemble, lease takes show or break", usage: usage) }
            return try fanOut(verb, ensemblePath: path, json: parsed.flags.contains("--json"))
        }
        guard let key = parsed.value("--key") else { throw UsageError(message: "give --ensemble FILE, or --key KEY on a node", usage: usage) }
        let store = NodeLeaseStore.standard()
        let json = parsed.flags.contains("--json")
        func emit(_ reply: LeaseReply, _ text: String) { print(json ? reply.line : text) }
        do {
            switch verb {
            case .acquire:
                guard let runID = parsed.value("--run") else { throw UsageError(message: "acquire needs --run RUN-ID", usage: usage) }
                guard let ttlText = parsed.value("--ttl"), let ttl = RunbookDuration.parse(ttlText), ttl.seconds >= 1 else {
                    throw UsageError(message: "acquire needs --ttl DUR (\(RunbookDuration.expectation), at least 1s)", usage: usage)
                }
                for name in parsed.values["--needs"] ?? [] {
                    do { _ = try RunbookLoader(registry: CLI.registry).load(path: try RunbookLocator.standard().locate(name)) } catch {
                        emit(
                            LeaseReply(.missingRunbook, message: "runbook \(name) is not usable on this node: \(error.description)"),
                            "error: runbook \(name): \(error.description)")
                        return CLI.ExitCode.usage
                    }
                }
                let now = Date().timeIntervalSince1970
                let record = LeaseRecord(
                    runID: runID, runbook: parsed.value("--runbook") ?? "?", ensemble: parsed.value("--ensemble") ?? "?",
                    ensembleID: parsed.value("--ensemble-id") ?? "?", holderHost: parsed.value("--holder-host") ?? EnsembleLease.hostName,
                    holderPID: parsed.value("--holder-pid").flatMap { Int32($0) } ?? getppid(), since: now, expires: now + ttl.seconds)
                switch try store.request(key, record, now: now) {
                case .acquired(let replaced):
                    emit(
                        LeaseReply(.acquired, lease: record, replaced: replaced),
                        "acquired \(key) for run \(runID)" + (replaced.map { "; took over the expired lease of \($0.holderDescription)" } ?? ""))
                case .renewed:
                    emit(LeaseReply(.renewed, lease: record), "renewed \(key) for run \(runID)")
                case .held(let holder):
                    emit(
                        LeaseReply(.held, lease: holder, message: "leased to \(holder.holderDescription)"),
                        "error: \(key) is leased to \(holder.holderDescription)")
                    return CLI.ExitCode.locked
                }
            case .release:
                guard let runID = parsed.value("--run") else { throw UsageError(message: "release needs --run RUN-ID", usage: usage) }
                let removed = try store.release(key, runID: runID)
                emit(LeaseReply(removed == nil ? .notHeld : .released), removed == nil ? "\(key): not held by run \(runID)" : "released \(key)")
            case .show:
                if let record = store.read(key) {
                    let expired = record.isExpired(at: Date().timeIntervalSince1970)
                    emit(LeaseReply(expired ? .expired : .held, lease: record), "\(key): \(expired ? "EXPIRED" : "held"): \(record.holderDescription)")
                } else {
                    emit(LeaseReply(.free), "\(key): free")
                }
            case .breakIt:
                let removed = try store.release(key, runID: nil)
                emit(
                    LeaseReply(removed == nil ? .free : .broken, lease: removed),
                    removed.map { "broke \(key): it was held by \($0.holderDescription)" } ?? "\(key): free")
            }
        } catch let error as JournalError {
            throw CommandFailure(message: error.description, exitCode: .stepFailed)
        }
        return CLI.ExitCode.success
    }

    /// show/break on every node of an ensemble through its agent.
    static func fanOut(_ verb: LeaseRequest.Verb, ensemblePath: String, json: Bool) throws -> ExitCode {
        let file: EnsembleFile
        do { file = try EnsembleFile.load(path: ensemblePath) } catch { throw CommandFailure(message: error.description, exitCode: CLI.ExitCode.usage) }
        let answers = EnsembleLeaseInspector.run(verb, file: file)
        var status = CLI.ExitCode.success
        for answer in answers {
            print(json ? answer.json : "node \(answer.member.id) (\(answer.member.host)): \(answer.text)")
            if !answer.reached { status = .stepFailed }
        }
        return status
    }
}
