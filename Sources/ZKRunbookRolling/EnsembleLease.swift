import Foundation
import ZKRunbookAgent
import ZKRunbookEngine
import ZKRunbookProcess
import ZKRunbookZooKeeper
import ZKRunbookZooKeeperActions

/// The conductor's hold on every node of an ensemble for one run: a lease file on each node, taken
/// through the node's own agent before the first change, all or nothing, renewed while the run lives.
///
/// Why on the nodes and not in the conductor's state directory: the nodes are the one thing two
/// conductors on two machines, with two state directories or two spellings of the ensemble file, share.
/// Why a lease (an expiry) and not a lock: a conductor that dies cannot release anything; its lease
/// runs out, and each node's agent refuses to change the node for a run whose lease it no longer holds.
public final class EnsembleLease: RunFence, @unchecked Sendable {
    public struct Options: Sendable {
        /// How long a lease lasts without renewal; renewed every third of it.
        public var ttl: Double
        /// Runbooks the run will ask each node's agent to run: their absence is found now, not mid-run.
        public var needs: [String]
        /// Only these members' leases (a run that changes no other); nil: every member.
        public var only: Set<Int>?
        /// How each node's agent is reached.
        public var connector: any NodeConnector

        public init(ttl: Double = 60, needs: [String] = [], only: Set<Int>? = nil, connector: any NodeConnector = TransportNodeConnector()) {
            self.ttl = min(max(ttl, 5), 3600)
            self.needs = needs
            self.only = only
            self.connector = connector
        }
    }

    /// Why the lease could not be taken; `cause` is `.locked` (exit 4) or `.refused` (exit 3).
    public struct Failure: Error, Sendable {
        public var cause: FailureCause
        public var message: String
        public var evidence: [String]
    }

    public let file: EnsembleFile
    public let runID: String
    public let runbook: String
    let options: Options
    private let state = NSLock()
    private var held: [EnsembleNode] = []
    private var lostReason: String?
    private var stopped = false
    private let wake = DispatchSemaphore(value: 0)
    private let renewerDone = DispatchSemaphore(value: 0)
    private var renewing = false
    /// Leases of dead conductors that this run took over, said in the run's events.
    public private(set) var replaced: [String] = []

    init(file: EnsembleFile, runID: String, runbook: String, options: Options) {
        (self.file, self.runID, self.runbook, self.options) = (file, runID, runbook, options)
    }

    /// The lease key on a node: the same for every conductor, and the same as restart-node's lock.
    public static func key(for member: EnsembleNode) -> String { key(clientPort: member.clientPort) }

    static func key(clientPort: Int) -> String { NodeLeaseStore.key(clientPort: String(clientPort)) }

    /// The ensemble's identity: its members' endpoints, sorted and hashed (the name is only shown).
    public static func identity(of file: EnsembleFile) -> String { identity(of: file.members) }

    public static func identity(of members: [EnsembleMember]) -> String {
        let endpoints = members.map { "\($0.host.lowercased()):\($0.clientPort)" }.sorted().joined(separator: ",")
        return String(SHA256.hex(Data(endpoints.utf8)).prefix(16))
    }

    public static var hostName: String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "unknown-host" }
        return String(cString: buffer)
    }

    /// Takes the lease on the member with the lowest id first, so two conductors meet on the same node and
    /// only one gets past it; then on the others at once (whoever holds the first is the only one asking).
    /// Gives back what it took if any node refuses, naming the lowest refusing id.
    public static func acquire(
        file: EnsembleFile, runID: String, runbook: String, options: Options, cancellation: CancellationToken?
    ) -> Result<EnsembleLease, Failure> {
        let lease = EnsembleLease(file: file, runID: runID, runbook: runbook, options: options)
        let members = file.nodes.filter { options.only?.contains($0.id) ?? true }.sorted(by: { $0.id < $1.id })
        guard let first = members.first else { return .success(lease) }
        func record(_ member: EnsembleNode, _ result: Result<String?, Failure>) -> Failure? {
            switch result {
            case .success(let note):
                lease.state.withLock {
                    lease.held.append(member)
                    if let note { lease.replaced.append(note) }
                }
                return nil
            case .failure(let failure):
                return failure
            }
        }
        if let failure = record(first, lease.request(first, verb: .acquire, cancellation: cancellation)) {
            return .failure(failure)
        }
        let rest = Array(members.dropFirst())
        let results = Parallel.map(rest) { lease.request($0, verb: .acquire, cancellation: cancellation) }
        let failures = zip(rest, results).compactMap { record($0, $1) }
        if let failure = failures.first {
            lease.release()
            return .failure(failure)
        }
        return .success(lease)
    }

    /// Renews every third of the TTL until `release`. A node that another run now holds is recorded as
    /// lost; the run checks `lost` before each node.
    public func startRenewing() {
        state.withLock { renewing = true }
        Thread.detachNewThread { [self] in
            defer { renewerDone.signal() }
            while true {
                _ = wake.wait(timeout: .now() + options.ttl / 3)
                if state.withLock({ stopped }) { return }
                let members = state.withLock { held }
                let results = Parallel.map(members) { self.request($0, verb: .acquire, cancellation: nil) }
                for (member, result) in zip(members, results) {
                    if case .failure(let failure) = result, failure.cause == .locked {
                        state.withLock { if lostReason == nil { lostReason = "node \(member.id): \(failure.message)" } }
                    }
                }
            }
        }
    }

    /// Why the run no longer holds every node (another run took a node over after our lease expired).
    public var lost: String? { state.withLock { lostReason } }

    public func check() -> String? { lost }

    /// The node's agent checks the same lease before each change it makes there.
    public func hold(on node: NodeFields) -> NodeHold? {
        guard let port = node["clientPort"].flatMap(Int.init) else { return nil }
        return NodeHold(runID: runID, key: Self.key(clientPort: port))
    }

    /// Whether this lease holds exactly `other`'s members (the same ensemble, whatever the file's name).
    public func covers(_ other: EnsembleFile) -> Bool { Self.identity(of: other) == Self.identity(of: file) }

    /// Stops renewing and removes the lease from every node that has it (best effort: a node that cannot
    /// be reached now keeps it until it expires).
    public func release() {
        let wasRenewing = state.withLock { () -> Bool in
            stopped = true
            return renewing
        }
        if wasRenewing {
            wake.signal()
            renewerDone.wait()
        }
        let members = state.withLock { () -> [EnsembleNode] in
            defer { held = [] }
            return held
        }
        _ = Parallel.map(members) { self.request($0, verb: .release, cancellation: nil) }
    }

    /// `zkrunbook lease VERB` on the node through its agent; success carries a note of a replaced lease.
    func request(_ member: EnsembleNode, verb: LeaseRequest.Verb, cancellation: CancellationToken?) -> Result<String?, Failure> {
        var request = LeaseRequest(verb, key: Self.key(for: member), runID: runID)
        if verb == .acquire {
            request.terms = LeaseRequest.Terms(
                ttlSeconds: Int(options.ttl), runbook: runbook, ensemble: file.name, ensembleID: Self.identity(of: file), holderHost: Self.hostName,
                holderPID: getpid(), needs: options.needs)
        }
        let agent = member.nodeAgent(environment: file.agentEnvironment, connector: options.connector)
        let (result, reply) = agent.lease(request, cancellation: cancellation)
        switch ExitCode.of(result.termination) {
        case .success?:
            if let previous = reply?.replaced {
                return .success("\(agent.location): took over the expired lease of run \(previous.runID) (pid \(previous.holderPID) on \(previous.holderHost))")
            }
            return .success(nil)
        case .locked?:
            let holder = reply?.message ?? result.stdout.lastLines(1).joined()
            return .failure(Failure(cause: .locked, message: "\(agent.location): \(holder)\(Self.staleHint(reply?.lease, file: file))", evidence: []))
        default:
            let failure = AgentFailure(request: .lease(request), result: result, agent: agent.path, location: agent.location)
            switch failure.kind {
            case .notInstalled, .unreachable:
                return .failure(Failure(cause: .refused, message: failure.message, evidence: result.stderr.lastLines(3)))
            default:
                let why = reply?.message ?? result.stderr.lastLines(2).joined(separator: " ")
                return .failure(
                    Failure(
                        cause: .refused, message: "\(agent.location): lease \(verb.rawValue) \(result.termination.summary): \(why)",
                        evidence: result.stderr.lastLines(5)))
            }
        }
    }

    /// A holder on this machine whose process is gone left a stale lease: say so, and how to break it.
    static func staleHint(_ lease: LeaseRecord?, file: EnsembleFile) -> String {
        guard let lease else { return "" }
        let (host, pid) = (lease.holderHost, lease.holderPID)
        let expires = Event.timestamp(Date(timeIntervalSince1970: lease.expires))
        if host == hostName && kill(pid, 0) != 0 && errno == ESRCH {
            return
                "; STALE: pid \(pid) no longer runs on this host; the lease expires at \(expires), or break it now: zkrunbook lease break --ensemble \(file.path)"
        }
        return "; it expires at \(expires) unless its conductor renews it"
    }
}

/// `lease show|break` on every node of an ensemble, through each node's agent, for the operator.
public enum EnsembleLeaseInspector {
    public struct Answer: Sendable {
        public var member: EnsembleNode
        public var reached: Bool
        public var text: String
        public var json: String
    }

    public static func run(_ verb: LeaseRequest.Verb, file: EnsembleFile) -> [Answer] {
        Parallel.map(file.nodes) { member in
            let (human, _) = member.nodeAgent().lease(LeaseRequest(verb, key: EnsembleLease.key(for: member), json: false))
            let reached = human.exitStatus == 0
            let text = reached ? human.stdout.lastLines(1).joined() : "cannot ask the agent: \(human.termination.summary) \(human.stderr.lastLines(1).joined())"
            let escaped = text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            return Answer(member: member, reached: reached, text: text, json: "{\"node\":\(member.id),\"reached\":\(reached),\"answer\":\"\(escaped)\"}")
        }
    }
}

/// Takes the members' lease for a runbook that declares `lease: { ensemble: … }`: every member of the
/// ensemble file, through each node's agent, all or nothing, renewed until the run ends.
public struct EnsembleLeaseProvider: RunFenceProvider {
    /// How each node's agent is reached for its lease.
    public var connector: any NodeConnector

    public init(connector: any NodeConnector = TransportNodeConnector()) { self.connector = connector }

    public func acquire(
        target: String, nodes: String?, ttl: Double, runID: String, runbook: Runbook, parameters: [String: ParameterValue], cancellation: CancellationToken
    ) -> Result<(fence: any RunFence, note: String), FenceRefusal> {
        let file: EnsembleFile
        do { file = try EnsembleFile.load(path: target) } catch {
            return .failure(FenceRefusal(cause: .refused, message: "the ensemble file: \(error.singleLine)"))
        }
        var only: Set<Int>?
        if let nodes {
            switch Self.memberIDs(nodes, of: file) {
            case .success(let ids): only = ids
            case .failure(let refusal): return .failure(refusal)
            }
        }
        return Self.take(
            file: file, runID: runID, runbook: runbook.name,
            options: .init(ttl: ttl, needs: Self.agentRunbooks(of: runbook, parameters: parameters), only: only, connector: connector),
            cancellation: cancellation
        ).map { ($0.lease, $0.note) }
    }

    /// `lease.nodes` as member ids: every word an id of the file, at least one.
    static func memberIDs(_ text: String, of file: EnsembleFile) -> Result<Set<Int>, FenceRefusal> {
        var ids = Set<Int>()
        for word in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !word.isEmpty {
            guard let id = Int(word), file.nodes.contains(where: { $0.id == id }) else {
                let known = file.nodes.map { String($0.id) }.joined(separator: ", ")
                return .failure(FenceRefusal(cause: .refused, message: "lease.nodes: '\(word)' is not a member id of \(file.path) (members: \(known))"))
            }
            ids.insert(id)
        }
        if ids.isEmpty { return .failure(FenceRefusal(cause: .refused, message: "lease.nodes names no member of \(file.path)")) }
        return .success(ids)
    }

    /// Takes every member's lease, starts renewing it, and says what was taken (the lease-taken event's
    /// message): for a runbook's `lease`, and for a `zk-rolling-restart` whose runbook declares none.
    static func take(
        file: EnsembleFile, runID: String, runbook: String, options: EnsembleLease.Options, cancellation: CancellationToken?
    ) -> Result<(lease: EnsembleLease, note: String), FenceRefusal> {
        switch EnsembleLease.acquire(file: file, runID: runID, runbook: runbook, options: options, cancellation: cancellation) {
        case .failure(let failure):
            return .failure(FenceRefusal(cause: failure.cause, message: failure.message, evidence: failure.evidence))
        case .success(let lease):
            lease.startRenewing()
            let scope =
                options.only.map { "nodes \($0.sorted().map(String.init).joined(separator: ", ")) of \(file.nodes.count)" }
                ?? "every node (\(file.nodes.count))"
            let note =
                "leased \(scope) of ensemble \(file.name) [\(EnsembleLease.identity(of: file))] for this run"
                + (lease.replaced.isEmpty ? "" : "; " + lease.replaced.joined(separator: "; "))
            return .success((lease, note))
        }
    }

    /// The runbooks the run will ask the nodes' agents to run, as far as parameters tell: each agent must
    /// have them before the first change, not when its node's turn comes.
    static func agentRunbooks(of runbook: Runbook, parameters: [String: ParameterValue]) -> [String] {
        let resolver = TemplateResolver(parameters: parameters)
        var names: [String] = []
        func walk(_ steps: [Step]) {
            for step in steps {
                if let agentRun = step.action as? AgentRunAction, case .success(let name) = agentRun.runbook.resolve(resolver), !names.contains(name) {
                    names.append(name)
                }
                walk(step.action.nestedSteps + step.rollback)
            }
        }
        walk(runbook.steps)
        return names
    }
}
