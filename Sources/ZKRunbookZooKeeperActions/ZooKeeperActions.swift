import Foundation
import ZKRunbookAgent
import ZKRunbookClient
import ZKRunbookEngine
import ZKRunbookJSON5
import ZKRunbookProcess
import ZKRunbookZooKeeper

/// The ZooKeeper actions runbooks may use, registered beside the engine's built-ins.
public enum ZooKeeperActions {
    public static let all: [any ActionKind] = [
        ZKProbeAction.kind, ZKEnsembleAction.kind, ZKConfigBackupAction.kind, ZKConfigRenumberAction.kind, ZKConfigRestoreAction.kind, ZKPeerReachAction.kind,
        ZKDiskAction.kind, ZKWriteCheckAction.kind, ZKNodeAction.kind, ZKConfigChangeAction.kind, ZKReconfigAction.kind, ZKConfigJoinAction.kind,
        ZKDataAsideAction.kind, ZKRestorePreflightAction.kind, ZKBackupAction.kind, ZKBackupVerifyAction.kind, ZKBackupInstallAction.kind,
        ZKRestoreCheckAction.kind, ZKRestoreLossAction.kind, ZKPurgeAction.kind, ZKVoterLinksAction.kind, ZKLogLineAction.kind, ZKCertificatesAction.kind,
        ZKInstallAction.kind,
        ZKLogErrorsAction.kind, ZKUpgradeSettingsAction.kind, ZKHandOffCheckAction.kind,
    ]

    /// Members named by one string: a .json5 ensemble file, another existing file (a zoo.cfg), or host:port,….
    public static func members(fromSource text: String) -> Result<[EnsembleMember], ActionOutcome> { ensembleMembers(fromSource: text) }

    /// A client session with any member `source` names (see `members(fromSource:)`), through the run's server
    /// connector; the failure says which it was: the source unreadable, or no member accepting a session.
    static func session(
        fromSource source: String, connectTimeout: Double, requestTimeout: Double, context: ActionContext, purpose: String
    ) -> Result<ZooKeeperClient, ActionOutcome> {
        let endpoints: [Endpoint]
        switch Self.members(fromSource: source) {
        case .success(let found): endpoints = found.map(\.endpoint)
        case .failure(let outcome): return .failure(outcome)
        }
        let options = context.options.services.clientOptions(connectTimeout: connectTimeout, requestTimeout: requestTimeout)
        do { return .success(try ZooKeeperClient.connect(endpoints, options: options)) } catch {
            return .failure(.failure(cause: .unreachable, message: "no member accepted a session \(purpose): \(error)"))
        }
    }

    /// `/zookeeper/config` through the client protocol from any of `servers`, or nil: what the membership
    /// check reads where the whitelist refuses `conf` and no AdminServer answers.
    public static func readConfig(
        from servers: [Endpoint], timeout: Double, connector: any ServerConnector = PlaintextConnector(), sasl: SASLIdentity? = nil
    ) -> String? {
        let options = ClientOptions(connectTimeout: timeout, requestTimeout: timeout, connector: connector, sasl: sasl)
        guard let client = try? ZooKeeperClient.connect(servers, options: options) else { return nil }
        defer { client.close() }
        return try? client.getConfig().text
    }

    /// A 3.4 member's `server.N` lines, read on its node over its transport: the zoo.cfg the member names
    /// (`cat`), else the one its running server was started with, which the node's agent finds. `nodes`:
    /// how each member's node is reached (an ensemble file's); a member without an entry is this machine.
    public static func readMembersFile(
        nodes: [EnsembleNode]
    ) -> @Sendable (EnsembleMember) -> Result<(servers: [ServerEntry], channel: String), ConfigReadFailure> {
        { member in readMembersFile(nodes.first(where: { $0.id == member.id && $0.clientPort == member.clientPort }) ?? EnsembleNode(member)) }
    }

    static func readMembersFile(_ member: EnsembleNode) -> Result<(servers: [ServerEntry], channel: String), ConfigReadFailure> {
        if let path = member.zooCfg {
            let result = member.access.runner(host: member.host).run(CommandSpec(argv: ["cat", path], timeout: 10, outputCap: 1 << 20), cancellation: nil)
            guard result.termination == .exited(0) else { return .failure(ConfigReadFailure("cat \(path): \(result.termination.summary)")) }
            guard let config = try? ZooConfig.parse(result.stdout.text, path: path), !config.servers.isEmpty else {
                return .failure(ConfigReadFailure("\(path) lists no server.N lines"))
            }
            return .success((config.servers, "zoo.cfg \(path) (ZooKeeper 3.4 lists no members over conf)"))
        }
        let snapshot: NodeConfigSnapshot
        switch member.nodeAgent().nodeConfig(clientPort: member.clientPort) {
        case .success(let read): snapshot = read
        case .failure(let failure): return .failure(ConfigReadFailure(failure.message))
        }
        let servers = snapshot.servers.compactMap { key, value in
            Int(key).flatMap { _ in try? ZooConfig.parseServer(key: "server." + key, value: value, path: snapshot.serversFile, line: 0) }
        }
        guard !servers.isEmpty else { return .failure(ConfigReadFailure("\(snapshot.zooCfg) (\(snapshot.source ?? "read")) lists no server.N lines")) }
        return .success((servers, "zoo.cfg \(snapshot.zooCfg), \(snapshot.source ?? "read by the agent") (ZooKeeper 3.4 lists no members over conf)"))
    }
}

/// Probe limits from a step's `timeout` argument (per connect and per reply).
func limits(_ spec: DurationSpec?, _ resolver: TemplateResolver) -> SocketLimits {
    let seconds = spec?.resolve(resolver.parameters)?.seconds ?? 2
    return SocketLimits(connectTimeout: seconds, readTimeout: seconds, maxReplyBytes: 1 << 20)
}

/// Resolves templates that each hold one endpoint or a comma-separated list of them.
func endpoints(_ templates: [Template], _ context: ActionContext) -> Result<[Endpoint], ActionOutcome> {
    var out: [Endpoint] = []
    for template in templates {
        switch context.resolve(template) {
        case .failure(let outcome): return .failure(outcome)
        case .success(let text):
            for part in text.split(separator: ",") where !part.trimmingCharacters(in: .whitespaces).isEmpty {
                // `local:PORT`: the server on this machine, at the address the kernel says it listens on.
                if part.hasPrefix("local:"), let port = Int(part.dropFirst(6)), (1...65535).contains(port) {
                    out.append(Endpoint(host: ListeningAddress.resolve(port: port).host, port: port))
                    continue
                }
                guard let endpoint = Endpoint(parsing: String(part), defaultPort: 2181) else {
                    return .failure(.failure(cause: .invalidArgument, message: "'\(part)' is not host:port"))
                }
                out.append(endpoint)
            }
        }
    }
    return .success(out)
}

/// Members named by one string: a .json5 ensemble file, another existing file (a zoo.cfg), or host:port,….
func ensembleMembers(fromSource text: String) -> Result<[EnsembleMember], ActionOutcome> {
    ensembleSource(text).map(\.members)
}

/// The members a source names; when the source is an ensemble file (read once), its name and how each
/// member's node is reached too (else none: this machine).
func ensembleSource(_ text: String) -> Result<(members: [EnsembleMember], name: String?, nodes: [EnsembleNode]), ActionOutcome> {
    if text.hasSuffix(".json5") {
        do {
            let file = try EnsembleFile.load(path: text)
            return .success((file.members, file.name, file.nodes))
        } catch {
            return .failure(.failure(cause: .invalidArgument, message: error.singleLine))
        }
    }
    return ensembleMembersOutsideAFile(text).map { ($0, nil, []) }
}

private func ensembleMembersOutsideAFile(_ text: String) -> Result<[EnsembleMember], ActionOutcome> {
    if FileManager.default.fileExists(atPath: text) {
        do { return .success(EnsembleMember.members(from: try ZooConfig.load(path: text, readMyid: false))) } catch {
            return .failure(.failure(cause: .invalidArgument, message: error.description))
        }
    }
    if text.contains("/") { return .failure(.failure(cause: .invalidArgument, message: "'\(text)': no such file")) }
    var out: [EnsembleMember] = []
    for part in text.split(separator: ",") where !part.trimmingCharacters(in: .whitespaces).isEmpty {
        guard let endpoint = Endpoint(parsing: String(part), defaultPort: 2181) else {
            return .failure(.failure(cause: .invalidArgument, message: "'\(part)' is not host:port"))
        }
        out.append(EnsembleMember(id: out.count + 1, host: endpoint.host, clientPort: endpoint.port))
    }
    return .success(out)
}

/// How a run's actions connect to ZooKeeper servers (plaintext TCP unless the host program says otherwise:
/// TLS, or a test double), in `RunOptions.services`.
public enum ServerConnectorKey: RunServiceKey {
    public typealias Value = any ServerConnector
}

/// The run's TLS settings, kept beside the connector made from them so a step that asks a node's agent
/// passes them on (the agent reaches its own server the same way).
public enum ServerTLSKey: RunServiceKey {
    public typealias Value = ServerTLS
}

/// Who a run's client sessions authenticate as with SASL (an ensemble file's `sasl` block), in
/// `RunOptions.services`; none: sessions without SASL.
public enum SASLIdentityKey: RunServiceKey {
    public typealias Value = SASLIdentity
}

extension RunServices {
    public var serverConnector: any ServerConnector { self[ServerConnectorKey.self] ?? PlaintextConnector() }

    public var saslIdentity: SASLIdentity? { self[SASLIdentityKey.self] }

    /// The options of a client session of this run: its connector and its SASL identity.
    public func clientOptions(sessionTimeout: Double = 10, connectTimeout: Double, requestTimeout: Double) -> ClientOptions {
        ClientOptions(
            sessionTimeout: sessionTimeout, connectTimeout: connectTimeout, requestTimeout: requestTimeout, connector: serverConnector, sasl: saslIdentity)
    }

    public var serverTLS: ServerTLS? { self[ServerTLSKey.self] }

    /// Servers reached over TLS as `tls` says: its files are loaded here, once, for the whole run.
    public mutating func reach(over tls: ServerTLS) throws(ZooKeeperError) {
        self[ServerConnectorKey.self] = try tls.connector()
        self[ServerTLSKey.self] = tls
    }
}
