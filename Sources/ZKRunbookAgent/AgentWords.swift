/// The words of the conductor–agent protocol: the subcommands a conductor asks of a node's agent and the
/// options it puts after them. The CLI parses its command line with these same values (`valueOptions`,
/// `flagOptions`), so what a conductor writes and what an agent reads cannot drift apart.
public enum AgentVerb: String, Sendable, CaseIterable {
    /// Run a runbook on the node (the agent's own lock and journal), events as JSON Lines.
    case run
    /// Take, renew, give back or read the node's lease for a conductor's run.
    case lease
    /// The node's configuration files as one JSON snapshot.
    case nodeConfig = "node-config"
    /// A diagnostics bundle made on the node.
    case collect
    /// Which endpoints answer a connection from the node.
    case reach
    /// The throwaway loopback ensemble (a stop command written into its ensemble file).
    case sandbox

    /// The options a conductor may send after this verb that take a value.
    public var valueOptions: Set<String> {
        let options: [AgentOption]
        switch self {
        case .run: options = [.param, .stateDir, .once, .lease, .leaseKey] + AgentOption.tlsValues
        case .lease: options = [.key, .runID, .ttl, .runbook, .ensemble, .ensembleID, .holderHost, .holderPID, .needs, .stateDir]
        case .nodeConfig: options = [.clientPort, .zooCfg, .checkDir]
        case .collect: options = [.zooCfg, .output, .since, .maxLogBytes, .stateDir, .logDir] + AgentOption.tlsValues
        case .reach: options = [.timeout]
        case .sandbox: options = [.dir, .node]
        }
        return Set(options.map(\.rawValue))
    }

    /// The options a conductor may send after this verb that take no value.
    public var flagOptions: Set<String> {
        switch self {
        case .run: return [AgentOption.json.rawValue, AgentOption.stopWhenStdinCloses.rawValue, AgentOption.tlsNoVerifyHostname.rawValue]
        case .collect: return [AgentOption.json.rawValue, AgentOption.tlsNoVerifyHostname.rawValue]
        case .lease: return [AgentOption.json.rawValue]
        case .nodeConfig, .reach, .sandbox: return []
        }
    }
}

/// Every option of the protocol, spelled once.
public enum AgentOption: String, Sendable, CaseIterable {
    case json = "--json"
    case param = "--param"
    case stateDir = "--state-dir"
    /// The agent stops (as SIGTERM would stop it) when its standard input closes: its conductor is gone.
    case stopWhenStdinCloses = "--stop-when-stdin-closes"
    /// `RUN.STEP.nodeN`: a request whose run already succeeded on the node is answered from its record.
    case once = "--once"
    /// The conductor's run id and the node's lease key: checked on the node before each change there.
    case lease = "--lease"
    case leaseKey = "--lease-key"
    case key = "--key"
    case runID = "--run"
    case ttl = "--ttl"
    case runbook = "--runbook"
    case ensemble = "--ensemble"
    case ensembleID = "--ensemble-id"
    case holderHost = "--holder-host"
    case holderPID = "--holder-pid"
    case needs = "--needs"
    case clientPort = "--client-port"
    case zooCfg = "--zoo-cfg"
    case checkDir = "--check-dir"
    case output = "--output"
    case since = "--since"
    case maxLogBytes = "--max-log-bytes"
    case logDir = "--log-dir"
    case timeout = "--timeout"
    case dir = "--dir"
    case node = "--node"
    /// How the node's servers are reached over TLS (`ServerTLS`): files on the node, never a password.
    case tlsCA = "--tls-ca"
    case tlsCertificate = "--tls-cert"
    case tlsKey = "--tls-key"
    case tlsKeyPasswordFile = "--tls-key-password-file"
    case tlsPKCS12 = "--tls-pkcs12"
    /// A port that speaks TLS (repeatable); none: every port.
    case tlsPort = "--tls-port"
    case tlsNoVerifyHostname = "--tls-no-verify-hostname"

    /// The TLS options that take a value (every command that reaches servers takes them too).
    public static let tlsValues: [AgentOption] = [.tlsCA, .tlsCertificate, .tlsKey, .tlsKeyPasswordFile, .tlsPKCS12, .tlsPort]
}
