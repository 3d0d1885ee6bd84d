import ZKRunbookEngine
import ZKRunbookZooKeeper

/// One thing a conductor asks of a node's agent, as a value; `arguments` is the one place it becomes a
/// command line (the agent is zkrunbook itself on the node, reached over the node's transport).
public enum AgentRequest: Sendable, Equatable {
    case run(RunRequest)
    case lease(LeaseRequest)
    /// The node's configuration (`NodeConfigSnapshot`): the zoo.cfg given, else the one the server on
    /// `clientPort` was started with, else Debian's; `checkDirectories` are checked writable.
    case nodeConfig(clientPort: Int, zooCfg: String? = nil, checkDirectories: [String] = [])
    case collect(CollectRequest)
    /// Which of `targets` (host:port) answer a connection from the node (`ReachReport`).
    case reach(timeoutMilliseconds: Int, targets: [String])
    /// Starts, stops or restarts one server of a sandbox ensemble (the commands a sandbox writes into its
    /// ensemble file; `node` may be the `${node.id}` reference).
    case sandbox(SandboxNodeVerb, directory: String, node: String)

    /// The words after the agent's path.
    public var arguments: [String] {
        switch self {
        case .run(let request): return request.arguments
        case .lease(let request): return request.arguments
        case .nodeConfig(let port, let zooCfg, let directories):
            return [AgentVerb.nodeConfig.rawValue, AgentOption.clientPort.rawValue, String(port)]
                + (zooCfg.map { [AgentOption.zooCfg.rawValue, $0] } ?? []) + directories.flatMap { [AgentOption.checkDir.rawValue, $0] }
        case .collect(let request): return request.arguments
        case .reach(let milliseconds, let targets):
            return [AgentVerb.reach.rawValue, AgentOption.timeout.rawValue, "\(milliseconds)ms"] + targets
        case .sandbox(let verb, let directory, let node):
            return [AgentVerb.sandbox.rawValue, verb.rawValue, AgentOption.dir.rawValue, directory, AgentOption.node.rawValue, node]
        }
    }

    /// The whole command line, with the agent at `agent` (a path, or a name found on the node's PATH).
    public func argv(agent: String) -> [String] { [agent] + arguments }
}

/// What `zkrunbook sandbox VERB --node N` does to one sandbox server.
public enum SandboxNodeVerb: String, Sendable, CaseIterable {
    case start, stop, restart
}

/// `zkrunbook run RUNBOOK --json …` on a node.
public struct RunRequest: Sendable, Equatable {
    public struct Parameter: Sendable, Equatable {
        public var name: String
        public var value: String
        public init(_ name: String, _ value: String) { (self.name, self.value) = (name, value) }
    }

    public var runbook: String
    public var parameters: [Parameter]
    public var stateDir: String?
    /// A run that changes the node stops when its conductor goes away (its standard input closes).
    public var stopsWithConductor: Bool
    /// `RUN.STEP.nodeN`: asked again for a run that already succeeded there, the agent answers its record.
    public var once: String?
    /// The conductor's lease on the node, checked there before each change.
    public var lease: NodeHold?
    /// How the run reaches the node's server over TLS (the conductor's ensemble file's `tls` block).
    public var tls: ServerTLS?

    public init(
        runbook: String, parameters: [Parameter] = [], stateDir: String? = nil, stopsWithConductor: Bool = false, once: String? = nil,
        lease: NodeHold? = nil
    ) {
        (self.runbook, self.parameters, self.stateDir) = (runbook, parameters, stateDir)
        (self.stopsWithConductor, self.once, self.lease) = (stopsWithConductor, once, lease)
    }

    var arguments: [String] {
        var words = [AgentVerb.run.rawValue, runbook, AgentOption.json.rawValue]
        if stopsWithConductor {
            words.append(AgentOption.stopWhenStdinCloses.rawValue)
            if let once { words += [AgentOption.once.rawValue, once] }
        }
        if let stateDir { words += [AgentOption.stateDir.rawValue, stateDir] }
        for parameter in parameters { words += [AgentOption.param.rawValue, "\(parameter.name)=\(parameter.value)"] }
        if let lease { words += [AgentOption.lease.rawValue, lease.runID, AgentOption.leaseKey.rawValue, lease.key] }
        if let tls { words += tls.arguments }
        return words
    }
}

/// `zkrunbook lease VERB --key KEY …` on a node.
public struct LeaseRequest: Sendable, Equatable {
    public enum Verb: String, Sendable, CaseIterable {
        case acquire, release, show
        case breakIt = "break"
    }

    /// What an acquire asks for, and who asks (written into the lease for whoever meets it).
    public struct Terms: Sendable, Equatable {
        public var ttlSeconds: Int
        public var runbook: String
        public var ensemble: String
        public var ensembleID: String
        public var holderHost: String
        public var holderPID: Int32
        /// Runbooks the run will ask this agent to run: refused now if it cannot load them.
        public var needs: [String]

        public init(ttlSeconds: Int, runbook: String, ensemble: String, ensembleID: String, holderHost: String, holderPID: Int32, needs: [String]) {
            (self.ttlSeconds, self.runbook, self.ensemble, self.ensembleID) = (ttlSeconds, runbook, ensemble, ensembleID)
            (self.holderHost, self.holderPID, self.needs) = (holderHost, holderPID, needs)
        }
    }

    public var verb: Verb
    public var key: String
    /// The run that acquires or releases (none for show and break).
    public var runID: String?
    public var terms: Terms?
    /// The reply as one line of JSON (`LeaseReply`) rather than words for a person.
    public var json: Bool

    public init(_ verb: Verb, key: String, runID: String? = nil, terms: Terms? = nil, json: Bool = true) {
        (self.verb, self.key, self.runID, self.terms, self.json) = (verb, key, runID, terms, json)
    }

    var arguments: [String] {
        var words = [AgentVerb.lease.rawValue, verb.rawValue, AgentOption.key.rawValue, key]
        if let runID { words += [AgentOption.runID.rawValue, runID] }
        if json { words.append(AgentOption.json.rawValue) }
        if let terms {
            words += [
                AgentOption.ttl.rawValue, "\(terms.ttlSeconds)s", AgentOption.runbook.rawValue, terms.runbook, AgentOption.ensemble.rawValue, terms.ensemble,
                AgentOption.ensembleID.rawValue, terms.ensembleID, AgentOption.holderHost.rawValue, terms.holderHost, AgentOption.holderPID.rawValue,
                String(terms.holderPID),
            ]
            for name in terms.needs { words += [AgentOption.needs.rawValue, name] }
        }
        return words
    }
}

/// `zkrunbook collect --json …` on a node: its bundle written into `output`.
public struct CollectRequest: Sendable, Equatable {
    public var zooCfg: String
    public var output: String
    public var since: String
    public var maxLogBytes: Int64
    public var stateDir: String
    public var logDir: String?
    /// How the node's server is reached over TLS (the ensemble file's `tls` block).
    public var tls: ServerTLS?

    public init(zooCfg: String, output: String, since: String, maxLogBytes: Int64, stateDir: String, logDir: String?) {
        (self.zooCfg, self.output, self.since, self.maxLogBytes, self.stateDir, self.logDir) = (zooCfg, output, since, maxLogBytes, stateDir, logDir)
    }

    var arguments: [String] {
        [
            AgentVerb.collect.rawValue, AgentOption.json.rawValue, AgentOption.zooCfg.rawValue, zooCfg, AgentOption.output.rawValue, output,
            AgentOption.since.rawValue, since, AgentOption.maxLogBytes.rawValue, String(maxLogBytes), AgentOption.stateDir.rawValue, stateDir,
        ] + (logDir.map { [AgentOption.logDir.rawValue, $0] } ?? []) + (tls?.arguments ?? [])
    }
}
