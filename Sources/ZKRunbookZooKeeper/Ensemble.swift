import Foundation
import ZKRunbookJSON5
import ZKRunbookProcess
import ZKRunbookTransport

/// One server of an ensemble as zkrunbook addresses it.
public struct EnsembleMember: Sendable, Codable, Hashable {
    public var id: Int
    public var host: String
    public var clientPort: Int
    public var adminPort: Int?
    public var role: ServerEntry.Role
    /// Reached over ssh with these settings (nil and no `kubectl`: the node is this machine).
    public var ssh: SSHSettings?
    /// Reached by `kubectl exec` into its pod.
    public var kubectl: KubectlSettings?
    /// The node's ZooKeeper log, for evidence when it does not come back.
    public var logFile: String?
    /// `--state-dir` for the agent on the node (default: the agent's own default).
    public var stateDir: String?
    /// The zkrunbook binary on the node (default: the ensemble's agentPath, filled in when the file is
    /// loaded, else "zkrunbook": `agent`).
    public var agentPath: String?
    /// The agent to run on this node: the one place the default is written.
    public var agent: String { agentPath ?? "zkrunbook" }
    /// The node's zoo.cfg, for runbooks that edit it (default: Debian's /etc/zookeeper/conf/zoo.cfg).
    public var zooCfg: String?
    /// The data centre (or zone) the node is in: only with it does doctor ever advise a data-centre failover.
    public var dataCentre: String?
    /// The ports the servers talk on (ZooKeeper's defaults 2888 and 3888): what its `server.N` line says.
    public var quorumPort: Int?
    public var electionPort: Int?

    /// Its line in a dynamic config: `server.N=host:quorumPort:electionPort:role;host:clientPort`.
    public var serverLine: String {
        let address = host.utf8.contains(UInt8(ascii: ":")) ? "[\(host)]" : host
        return "server.\(id)=\(address):\(quorumPort ?? 2888):\(electionPort ?? 3888):\(role.rawValue);\(address):\(clientPort)"
    }

    public var endpoint: Endpoint { Endpoint(host: host, port: clientPort) }

    /// How the conductor reaches this node.
    public var access: NodeAccess { kubectl.map(NodeAccess.kubectl) ?? ssh.map(NodeAccess.ssh) ?? .local }

    public init(
        id: Int, host: String, clientPort: Int, adminPort: Int? = nil, role: ServerEntry.Role = .participant, ssh: SSHSettings? = nil,
        kubectl: KubectlSettings? = nil, logFile: String? = nil, stateDir: String? = nil, agentPath: String? = nil, zooCfg: String? = nil,
        dataCentre: String? = nil,
        quorumPort: Int? = nil, electionPort: Int? = nil
    ) {
        (self.quorumPort, self.electionPort) = (quorumPort, electionPort)
        (self.id, self.host, self.clientPort, self.adminPort) = (id, host, clientPort, adminPort)
        (self.role, self.ssh, self.kubectl, self.logFile) = (role, ssh, kubectl, logFile)
        (self.stateDir, self.agentPath, self.zooCfg, self.dataCentre) = (stateDir, agentPath, zooCfg, dataCentre)
    }
}

/// An ensemble file (JSON5): the nodes, how to reach them, and how to restart ZooKeeper on each.
///
/// ```json5
/// { name: "prod-zk", nodes: [{ id: 1, host: "zk1", clientPort: 2181, adminPort: 8080, role: "participant" }],
///   restartCommand: ["systemctl", "restart", "zookeeper"], agentPath: "/usr/bin/zkrunbook" }
/// ```
public struct EnsembleFile: Sendable {
    public var name: String
    public var members: [EnsembleMember]
    public var restartCommand: [String]
    /// How a node's server is stopped (remove-server stops the server it removed); empty: not given.
    public var stopCommand: [String] = []
    public var agentPath: String?
    /// Where the agent on each node finds runbooks (ZKRUNBOOK_RUNBOOK_PATH there); default: its own search path.
    public var runbookPath: String?
    public var path: String

    public static func load(path: String) throws(InputFileError) -> EnsembleFile {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            let why = FileManager.default.fileExists(atPath: path) ? "not readable UTF-8 text" : "no such file"
            throw .unreadable(path: path, reason: "cannot read the ensemble file: \(why)")
        }
        let root: JSON5Node
        do { root = try JSON5Parser.parse(text, file: path) } catch {
            throw .invalid([Diagnostic(location: error.location, severity: .error, message: error.message)])
        }
        let diagnostics = DiagnosticCollector()
        guard let top = ObjectReader(root, context: "the ensemble file", diagnostics: diagnostics) else {
            throw .invalid(diagnostics.items)
        }
        let name = top.string("name") ?? (path as NSString).lastPathComponent
        let restart = Self.strings(top, "restartCommand")
        let stop = Self.strings(top, "stopCommand")
        let agentPath = top.string("agentPath")
        let runbookPath = top.string("runbookPath")
        var members: [EnsembleMember] = []
        if let nodes = top.value("nodes", required: true, expected: "an array of nodes") {
            if case .array(let elements) = nodes.value {
                for element in elements {
                    guard let node = ObjectReader(element, context: "a node", diagnostics: diagnostics) else { continue }
                    let id = node.integer("id", required: true, range: 0...255)
                    let host = node.string("host", required: true)
                    let clientPort = node.integer("clientPort", range: 1...65535) ?? 2181
                    let adminPort = node.integer("adminPort", range: 1...65535)
                    var role = ServerEntry.Role.participant
                    if let text = node.string("role") {
                        if let parsed = ServerEntry.Role(rawValue: text) {
                            role = parsed
                        } else {
                            diagnostics.error(node.object["role"]!.location, "role must be \"participant\" or \"observer\", found '\(text)'")
                        }
                    }
                    let logFile = node.string("logFile")
                    let stateDir = node.string("stateDir")
                    let nodeAgent = node.string("agentPath")
                    let zooCfg = node.string("zooCfg")
                    let dataCentre = node.string("dataCentre")
                    let quorumPort = node.integer("quorumPort", range: 1...65535)
                    let electionPort = node.integer("electionPort", range: 1...65535)
                    var ssh: SSHSettings?
                    if let sshReader = node.object("ssh") {
                        ssh = SSHSettings(
                            user: sshReader.string("user"), port: sshReader.integer("port", range: 1...65535).map(Int.init),
                            identityFile: sshReader.string("identityFile"), options: Self.strings(sshReader, "options"))
                        sshReader.finish()
                    }
                    var kubectl: KubectlSettings?
                    if let kubeReader = node.object("kubectl") {
                        kubectl = KubectlSettings(
                            pod: kubeReader.string("pod"), namespace: kubeReader.string("namespace"), context: kubeReader.string("context"),
                            container: kubeReader.string("container"))
                        kubeReader.finish()
                        if ssh != nil { diagnostics.error(node.object["kubectl"]!.location, "a node is reached over ssh or kubectl, not both") }
                    }
                    node.finish()
                    if let id, let host {
                        if members.contains(where: { $0.id == Int(id) }) {
                            diagnostics.error(element.location, "node id \(id) appears twice")
                        }
                        var member = EnsembleMember(
                            id: Int(id), host: host, clientPort: Int(clientPort), adminPort: adminPort.map(Int.init), role: role, ssh: ssh, kubectl: kubectl,
                            logFile: logFile, stateDir: stateDir, agentPath: nodeAgent ?? agentPath, zooCfg: zooCfg, dataCentre: dataCentre)
                        (member.quorumPort, member.electionPort) = (quorumPort.map(Int.init), electionPort.map(Int.init))
                        members.append(member)
                    }
                }
                if elements.isEmpty { diagnostics.error(nodes.location, "'nodes' is empty") }
            } else {
                top.typeError("nodes", nodes, "an array of nodes")
            }
        }
        top.finish()
        if diagnostics.hasErrors { throw .invalid(diagnostics.items) }
        var file = EnsembleFile(name: name, members: members, restartCommand: restart, agentPath: agentPath, runbookPath: runbookPath, path: path)
        file.stopCommand = stop
        return file
    }

    /// The names `nodeFields` and `restartCommand(for:)` give a per-node procedure: what `${node.*}` may name.
    public static let nodeFieldNames: Set<String> = [
        "id", "host", "clientPort", "adminPort", "endpoint", "role", "logFile", "stateDir", "agentPath", "restartCommand", "runbookPath", "zooCfg",
        "dataCentre", "quorumPort", "electionPort", "serverLine", "stopCommand",
    ]

    /// The text `${node.*}` values for a per-node procedure on `member` (`restartCommand` apart: it is words).
    public func nodeFields(_ member: EnsembleMember) -> [String: String] {
        var fields: [String: String] = [
            "id": String(member.id), "host": member.host, "clientPort": String(member.clientPort), "endpoint": member.endpoint.description,
            "role": member.role.rawValue, "agentPath": member.agentPath ?? agentPath ?? member.agent,
        ]
        // Empty when unknown: a probe then asks no AdminServer instead of failing on a missing value.
        fields["adminPort"] = member.adminPort.map(String.init) ?? ""
        if let runbookPath { fields["runbookPath"] = runbookPath }
        if let logFile = member.logFile { fields["logFile"] = logFile }
        if let stateDir = member.stateDir { fields["stateDir"] = stateDir }
        if let dataCentre = member.dataCentre { fields["dataCentre"] = dataCentre }
        fields["zooCfg"] = member.zooCfg ?? "/etc/zookeeper/conf/zoo.cfg"
        fields["quorumPort"] = String(member.quorumPort ?? 2888)
        fields["electionPort"] = String(member.electionPort ?? 3888)
        fields["serverLine"] = member.serverLine
        return fields
    }

    /// The ensemble's restart command for `member`, its `${node.*}` placeholders filled in.
    public func restartCommand(for member: EnsembleMember) -> [String] { command(restartCommand, for: member) }

    /// The ensemble's stop command for `member` (empty when the file gives none).
    public func stopCommand(for member: EnsembleMember) -> [String] { command(stopCommand, for: member) }

    func command(_ words: [String], for member: EnsembleMember) -> [String] {
        guard words.contains(where: \.containsReferenceMark) else { return words }
        let fields = nodeFields(member)
        return words.map { Self.fillingNodeFields(in: $0, fields) }
    }

    /// `${node.FIELD}` replaced by the field's value; an unknown field stays as written.
    static func fillingNodeFields(in word: String, _ fields: [String: String]) -> String {
        fields.reduce(word) { text, field in text.replacingEvery("${node.\(field.key)}", with: field.value) }
    }

    /// An array of plain strings (`${node.id}` in a restart command is the node's, not a runbook reference).
    static func strings(_ reader: ObjectReader, _ key: String) -> [String] {
        guard let node = reader.value(key) else { return [] }
        guard case .array(let elements) = node.value else {
            reader.typeError(key, node, "an array of strings")
            return []
        }
        return elements.compactMap { element in
            if case .string(let text) = element.value { return text }
            reader.diagnostics.error(element.location, "each element of '\(key)' must be a string, found \(element.kindName)")
            return nil
        }
    }

    /// Members from a zoo.cfg's server lines (client port from the line, or the file's clientPort).
    public static func members(from config: ZooConfig) -> [EnsembleMember] {
        config.servers.map { entry in
            EnsembleMember(
                id: entry.id, host: entry.host, clientPort: entry.clientPort ?? config.clientPort ?? 2181, adminPort: config.adminPort,
                role: entry.role)
        }
    }
}

/// The ensemble's health in one word.
public enum EnsembleVerdict: String, Sendable, Codable, CaseIterable {
    case healthy
    case degraded = "degraded-but-quorate"
    case noQuorum = "no-quorum"
    /// No server leads yet, but a majority of the voters is up (answering, not serving): an election (or a
    /// sync with a new leader) is under way and can finish. Not "no quorum": too few up to elect is that.
    case electing
    case split
    /// A partial view in which nothing serves: what it saw cannot tell whether the ensemble has a quorum.
    case unknown
}

/// What every member said, who leads, how far behind each one is, and the verdict with its reasons.
public struct EnsembleView: Sendable, Codable {
    public struct MemberStatus: Sendable, Codable {
        public var member: EnsembleMember
        public var facts: ServerFacts
        /// Transactions behind the leader (nil for the leader itself or when unknown).
        public var lag: UInt64?
    }

    public var members: [MemberStatus]
    public var leaderID: Int?
    public var leaderZxid: Zxid?
    public var verdict: EnsembleVerdict
    public var reasons: [String]
    /// Facts that could not be learned, which do not change the verdict.
    public var notes: [String]
    public var quorum: QuorumAssessment
    public var probeMs: Int
    /// Who the members are as the servers report them, what differs from the list given, and so how
    /// much of the ensemble this view covers.
    public var membership: MembershipReport
    public var scope: ViewScope { membership.scope }
    /// Why the rolling gates could not be judged on some member (ruok, mntr or conf refused with no
    /// AdminServer to ask); empty when every gate can be evaluated. Filled by a thorough inspection only.
    public var gateProblems: [String] = []

}

/// Probes every member at once and judges the ensemble.
public struct EnsembleInspector: Sendable {
    public var probe: ServerProbe
    /// A follower further behind than this many transactions makes the ensemble degraded.
    public var maxLag: UInt64
    /// Reads `/zookeeper/config` through ZooKeeper's client protocol from any of the given members (3.5+),
    /// for the membership check where neither `conf` nor an AdminServer answers; given by a caller that
    /// has the client (this target does not speak the protocol).
    public var readConfig: (@Sendable ([Endpoint]) -> String?)?
    /// Where the last leader of these members is remembered, to ask only it `mntr` in the first round.
    public var hints = LeaderHints.shared

    public init(probe: ServerProbe = ServerProbe(), maxLag: UInt64 = 1000) {
        self.probe = probe
        self.maxLag = maxLag
    }

    /// srvr and ruok on every member at once, in one round, and mntr, which only the leader's is read for
    /// (followers' changes no verdict): asked of the member that led when this process (or, through `hints`,
    /// an earlier one) last looked at these members, or of every member the first time (a short connection
    /// each, instead of a second round). A leader that was not asked is asked afterwards.
    ///
    /// `thorough` (a preflight): ruok, mntr and conf on every member, all read, so the view also says whether
    /// every gate a rolling change will poll can be evaluated on whichever member leads next.
    /// `namedByPosition`: the members were numbered by their place in a list (`status --server`), not by
    /// their myid: each is renamed by the myid it reports (conf, AdminServer) before it is judged, and one
    /// that does not say is named as such, so the leader is never "server 1" because it came first.
    public func inspect(_ members: [EnsembleMember], thorough: Bool = false, namedByPosition: Bool = false) -> EnsembleView {
        let started = Date()
        let firstPass =
            thorough
            ? ServerProbe(limits: probe.limits, wantMonitor: true, wantRuok: true, wantConfig: true)
            : ServerProbe(limits: probe.limits, wantMonitor: probe.wantMonitor, wantRuok: probe.wantRuok, wantConfig: probe.wantConfig, monitorLeaderOnly: true)
        let targets = members.map { ($0.endpoint, $0.adminPort) }
        let endpoints = members.map(\.endpoint)
        let monitorAt = thorough || !firstPass.wantMonitor ? nil : hints.leader(among: endpoints).map { Set([$0]) }
        var facts = firstPass.probeAll(targets, monitorAt: monitorAt)
        let leaders = facts.indices.filter { facts[$0].mode == .leader }
        if let monitorAt {
            for index in leaders where !monitorAt.contains(index) { firstPass.addMonitor(to: &facts[index], adminPort: members[index].adminPort) }
        }
        hints.record(leaders.count == 1 ? leaders[0] : nil, among: endpoints)
        if thorough || probe.wantConfig {
            Self.addZooCfgMembership(members: members, facts: &facts)
            if let readConfig { Self.addConfigZnodeMembership(facts: &facts, read: readConfig) }
        }
        var members = members
        var relabelNotes: [String] = []
        if namedByPosition { (members, relabelNotes) = Self.named(byTheirMyid: members, facts: facts) }
        var view = judge(members: members, facts: facts, probeMs: Int(Date().timeIntervalSince(started) * 1000))
        view.notes += relabelNotes
        if thorough { view.gateProblems = Self.gateProblems(members: members, facts: facts) }
        return view
    }

    /// Members numbered by their place in a list, renamed by the myid each reported; one that reported none
    /// (or the same as another) gets an id no server claimed, said in a note.
    public static func named(byTheirMyid members: [EnsembleMember], facts: [ServerFacts]) -> (members: [EnsembleMember], notes: [String]) {
        let said = facts.map(\.serverID)
        let unique = Set(said.compactMap { $0 }.filter { id in said.filter { $0 == id }.count == 1 })
        var used = unique
        var next = 1
        var out = members
        var notes: [String] = []
        for index in out.indices {
            if let id = said[index], unique.contains(id) {
                out[index].id = id
                continue
            }
            while used.contains(next) { next += 1 }
            used.insert(next)
            out[index].id = next
            let why =
                said[index].map { "says myid \($0), as another server does" } ?? "did not say its myid (conf refused and no AdminServer asked, or no answer)"
            notes.append("the server at \(members[index].endpoint) \(why): called server \(next) here, by no myid of its own")
        }
        return (out, notes)
    }

    /// The members `/zookeeper/config` lists, for the serving 3.5+ members that reported none (the whitelist
    /// refuses `conf` and no AdminServer answered): one read, through the client protocol, which no
    /// whitelist limits.
    static func addConfigZnodeMembership(facts: inout [ServerFacts], read: ([Endpoint]) -> String?) {
        let wanted = facts.indices.filter { facts[$0].membership == nil && facts[$0].mode.isServing && facts[$0].version?.hasPrefix("3.4.") != true }
        guard !wanted.isEmpty, let text = read(wanted.map { facts[$0].endpoint }),
            let config = try? ZooConfig.parse(text, path: "/zookeeper/config"), !config.servers.isEmpty
        else { return }
        for index in wanted {
            facts[index].membership = config.servers.sorted { $0.id < $1.id }
            facts[index].channels["membership"] = "client /zookeeper/config"
        }
    }

    /// ZooKeeper 3.4 keeps its members only in zoo.cfg (`conf` does not list them, and there is no
    /// AdminServer): for a 3.4 server, its members are read from the node's zoo.cfg over the node's
    /// transport — the one the member names, else the one its running server was started with, found by
    /// the agent on the node — and said to come from there; what stopped the read is said too.
    static func addZooCfgMembership(members: [EnsembleMember], facts: inout [ServerFacts]) {
        let wanted = facts.indices.filter { facts[$0].membership == nil && facts[$0].version?.hasPrefix("3.4.") == true }
        let read = Parallel.map(wanted.map { members[$0] }) { member -> Result<(servers: [ServerEntry], channel: String), ConfigReadFailure> in
            let runner = member.access.runner(host: member.host)
            if let path = member.zooCfg {
                let result = runner.run(CommandSpec(argv: ["cat", path], timeout: 10, outputCap: 1 << 20), cancellation: nil)
                guard result.termination == .exited(0) else { return .failure(ConfigReadFailure("cat \(path): \(result.termination.summary)")) }
                guard let config = try? ZooConfig.parse(result.stdout.text, path: path), !config.servers.isEmpty else {
                    return .failure(ConfigReadFailure("\(path) lists no server.N lines"))
                }
                return .success((config.servers, "zoo.cfg \(path) (ZooKeeper 3.4 lists no members over conf)"))
            }
            let argv = [member.agent, "node-config", "--client-port", String(member.clientPort)]
            let result = runner.run(CommandSpec(argv: argv, timeout: 20, outputCap: 4 << 20), cancellation: nil)
            guard result.termination == .exited(0), let snapshot = try? JSONDecoder().decode(NodeConfigSnapshot.self, from: Data(result.stdout.text.utf8))
            else {
                let said = result.stderr.lastLines(2).joined(separator: " ")
                return .failure(ConfigReadFailure("the agent (\(ShellQuoting.join(argv))) \(result.termination.summary)" + (said.isEmpty ? "" : ": " + said)))
            }
            let servers = snapshot.servers.compactMap { key, value in
                Int(key).flatMap { _ in try? ZooConfig.parseServer(key: "server." + key, value: value, path: snapshot.serversFile, line: 0) }
            }
            guard !servers.isEmpty else { return .failure(ConfigReadFailure("\(snapshot.zooCfg) (\(snapshot.source ?? "read")) lists no server.N lines")) }
            return .success((servers, "zoo.cfg \(snapshot.zooCfg), \(snapshot.source ?? "read by the agent") (ZooKeeper 3.4 lists no members over conf)"))
        }
        for (index, result) in zip(wanted, read) {
            switch result {
            case .success(let found):
                facts[index].membership = found.servers.sorted { $0.id < $1.id }
                facts[index].channels["membership"] = found.channel
            case .failure(let failure):
                facts[index].notes.append("membership: ZooKeeper 3.4 lists its members only in zoo.cfg, which could not be read: \(failure.message)")
            }
        }
    }

    /// Members on which a gate cannot be evaluated, with the fix. A member that does not answer at all is
    /// the verdict's business, not a gate problem.
    public static func gateProblems(members: [EnsembleMember], facts: [ServerFacts]) -> [String] {
        var problems: [String] = []
        var refusedByWhitelist = false
        for (member, fact) in zip(members, facts) where fact.mode.isServing {
            var missing: [String] = []
            if fact.imok == nil { missing.append("ruok") }
            if fact.monitor.isEmpty { missing.append("mntr") }
            if fact.membership == nil && fact.serverID == nil && fact.version?.hasPrefix("3.4.") != true { missing.append("conf") }
            guard !missing.isEmpty else { continue }
            // Said as seen: a word the whitelist refused, or one the server did not answer (a connection it
            // closed at its limit, a timeout) — only the first is fixed by the whitelist.
            let refused = missing.filter { word in fact.notes.contains { $0.hasPrefix(word + ":") && $0.contains("not in 4lw.commands.whitelist") } }
            let unanswered = missing.filter { !refused.contains($0) }
            if !refused.isEmpty {
                refusedByWhitelist = true
                let admin = member.adminPort.map { "the AdminServer on port \($0) did not answer either" } ?? "no adminPort is given to ask instead"
                problems.append("server \(member.id) (\(member.endpoint)) refuses \(refused.joined(separator: ", ")) (\(admin))")
            }
            if !unanswered.isEmpty {
                let seen = unanswered.map { word in fact.notes.first { $0.hasPrefix(word + ":") } ?? "\(word): no answer" }
                problems.append(
                    "server \(member.id) (\(member.endpoint)) gave no answer to \(unanswered.joined(separator: ", ")): \(seen.joined(separator: "; "))")
            }
        }
        if refusedByWhitelist {
            problems.append(
                "fix: add 4lw.commands.whitelist=srvr,ruok,mntr,conf to zoo.cfg (a restart applies it), or give each node's adminPort with the AdminServer enabled"
            )
        }
        return problems
    }

    /// The verdict from facts already gathered (separate from probing so it can be tested on any facts).
    ///
    /// Judged only on what was seen: when the servers report members that were not probed (or a probed
    /// follower's leader is not in the list), the view is partial. A serving follower or observer then
    /// proves that a leader with a quorum exists; a partial view in which nothing serves is `unknown`,
    /// never `no-quorum`.
    public func judge(members: [EnsembleMember], facts: [ServerFacts], probeMs: Int = 0) -> EnsembleView {
        // A server that is not the member written at its endpoint counts neither up nor down: that member was
        // not seen, so the view is partial, and the stranger is named.
        let doubts = MemberIdentity.doubts(written: members, facts: facts)
        var facts = facts
        for doubt in doubts {
            facts[doubt.index].mode = doubt.kind == .stranger ? .stranger : .unconfirmed
            facts[doubt.index].error = doubt.message
            facts[doubt.index].membership = nil
            facts[doubt.index].serverID = nil
        }
        let doubted = Set(doubts.map { members[$0.index].id })
        var statuses = zip(members, facts).map { member, facts -> EnsembleView.MemberStatus in
            var member = member
            if facts.mode == .observer { member.role = .observer }
            return EnsembleView.MemberStatus(member: member, facts: facts, lag: nil)
        }
        var membership = MembershipCheck.compare(written: members, facts: facts)
        if membership.scope == .unconfirmed && members.count == 1 && facts.first?.mode != .standalone {
            // One server of an ensemble whose members nobody reported: it cannot stand for the whole.
            membership.scope = .partial
        }
        if !doubted.isEmpty { membership.scope = .partial }
        let partial = membership.scope == .partial
        let roles = membership.roles(written: statuses.map(\.member))
        let probedIDs = Set(members.map(\.id))
        let notServing = Set(statuses.filter { !$0.facts.mode.isServing }.map(\.member.id)).subtracting(doubted)
        // Up but not serving: "This ZooKeeper instance is not currently serving requests" — electing or syncing.
        let alive = Set(statuses.filter { $0.facts.mode == .notServing }.map(\.member.id))
        let unseen = Set(roles.voters + roles.observers).subtracting(probedIDs).union(doubted)
        let silent = Set(statuses.filter { $0.facts.closedWithoutAnswer }.map(\.member.id))
        var quorum = QuorumMath.assess(voters: roles.voters, observers: roles.observers, unreachable: notServing, unseen: unseen, alive: alive, silent: silent)
        let upVoters = roles.voters.filter { id in alive.contains(id) || statuses.contains { $0.member.id == id && $0.facts.mode.isServing } }.count
        let voters = roles.voters
        var reasons: [String] = []
        var notes: [String] = []
        let leaders = statuses.filter { $0.facts.mode == .leader }
        let standalone = statuses.filter { $0.facts.mode == .standalone }
        let inQuorum = statuses.filter { [.follower, .observer].contains($0.facts.mode) }

        func describe(_ status: EnsembleView.MemberStatus) -> String {
            "server \(status.member.id) (\(status.member.endpoint))"
        }
        for doubt in doubts { reasons.append(doubt.message) }
        for status in statuses where !status.facts.mode.isServing && !doubted.contains(status.member.id) {
            let why = status.facts.error ?? status.facts.notes.first ?? "no usable answer"
            if status.facts.closedWithoutAnswer {
                // The limit as the servers that answered report it: a setting seen, not guessed.
                let limits = statuses.compactMap { other in other.facts.maxClientCnxns.map { "server \(other.member.id) has maxClientCnxns=\($0)" } }
                reasons.append("\(describe(status)) answered nothing: \(why)" + (limits.isEmpty ? "" : "; " + limits.joined(separator: ", ")))
                continue
            }
            reasons.append("\(describe(status)) is \(status.facts.mode.rawValue): \(why)")
        }
        for finding in membership.findings {
            switch finding.kind {
            case .unknown, .missingMember, .missingLeader: notes.append("membership: " + finding.message)
            default: reasons.append("membership: " + finding.message)
            }
        }
        if partial {
            let others = unseen.sorted().map(String.init).joined(separator: ", ")
            notes.insert(
                "partial view: \(members.count - doubted.count) server(s) of this ensemble probed" + (others.isEmpty ? "" : "; members \(others) were not seen")
                    + "; the verdict covers only what was seen",
                at: 0)
        }

        var verdict: EnsembleVerdict
        var leaderID: Int?
        var leaderZxid: Zxid?
        if leaders.count > 1 {
            verdict = .split
            let claims = leaders.map { "\($0.member.id) (epoch \($0.facts.zxid.map { String($0.epoch) } ?? "?"))" }
            reasons.insert("more than one server reports Mode: leader: \(claims.joined(separator: ", "))", at: 0)
        } else if let leader = leaders.first {
            leaderID = leader.member.id
            leaderZxid = leader.facts.zxid
            let servingVoters = statuses.filter { $0.member.role == .participant && ($0.facts.mode == .leader || $0.facts.mode == .follower) }.count
            if partial && servingVoters < quorum.majority {
                quorum.canElect = true
                quorum.reason += " Server \(leader.member.id) serves as leader: it holds a quorum."
            }
            if servingVoters < quorum.majority && !partial && upVoters >= quorum.majority {
                verdict = .electing
                reasons.insert(
                    "server \(leader.member.id) says it leads, \(servingVoters) of \(voters.count) voters serve, and \(upVoters) are up: the others are syncing with it or electing (\(quorum.majority) needed to serve)",
                    at: 0)
            } else if servingVoters < quorum.majority && !partial {
                verdict = .noQuorum
                reasons.insert(
                    "server \(leader.member.id) says it leads, but only \(servingVoters) of \(voters.count) voters serve and \(upVoters) are up (\(quorum.majority) needed)",
                    at: 0)
            } else {
                verdict = reasons.isEmpty ? .healthy : .degraded
            }
            for index in statuses.indices where statuses[index].member.id != leader.member.id {
                guard let zxid = statuses[index].facts.zxid, let leaderZxid, statuses[index].facts.mode.isServing else { continue }
                let lag = zxid.lag(behind: leaderZxid)
                statuses[index].lag = lag
                if lag > maxLag {
                    reasons.append("\(describe(statuses[index])) is \(lag) transactions behind the leader (more than \(maxLag))")
                }
            }
            let expectedFollowers = voters.count - 1
            if let synced = leader.facts.syncedFollowers {
                if synced < expectedFollowers {
                    reasons.append("the leader reports \(synced) of \(expectedFollowers) followers synced")
                }
            } else {
                notes.append("synced followers unknown: \(leader.facts.notes.first { $0.hasPrefix("mntr") } ?? "mntr gave no zk_synced_followers")")
            }
            if let pending = leader.facts.pendingSyncs, pending > 0 {
                reasons.append("the leader has \(pending) pending sync(s)")
            }
            if let size = leader.facts.quorumSize, size != Int64(voters.count) {
                notes.append("the leader counts \(size) voters; \(voters.count) are listed here")
            }
            if verdict == .healthy && !reasons.isEmpty { verdict = .degraded }
        } else if members.count == 1, standalone.count == 1 {
            verdict = .healthy
            notes.append("a standalone server: no ensemble, no failover")
        } else if let witness = inQuorum.first {
            // A follower serves only while it is synced with a leader that holds a quorum.
            verdict = reasons.isEmpty ? .healthy : .degraded
            let unseenLeader = partial ? "the leader was not probed" : "no server answered as leader"
            notes.insert(
                "\(unseenLeader); \(describe(witness)) serves as \(witness.facts.mode.rawValue), which proves a leader with a quorum", at: min(1, notes.count))
            quorum.canElect = true
            quorum.reason += " Server \(witness.member.id) serves as \(witness.facts.mode.rawValue): a leader with a quorum exists."
        } else if partial {
            verdict = .unknown
            reasons.insert(
                "none of the \(members.count) server(s) probed serves, and the others were not probed: a partial view cannot tell whether the ensemble has a quorum",
                at: 0)
        } else if upVoters >= quorum.majority {
            verdict = .electing
            reasons.insert(
                "no server leads yet: \(upVoters) of \(voters.count) voters are up (a majority is \(quorum.majority)) and electing or syncing; clients are not served until a leader is elected",
                at: 0)
        } else {
            verdict = .noQuorum
            reasons.insert("no server is leading, and only \(upVoters) of \(voters.count) voters are up (\(quorum.majority) needed to elect)", at: 0)
        }
        for status in statuses where status.facts.mode == .standalone && members.count > 1 {
            reasons.append("\(describe(status)) runs standalone: it has not joined the ensemble")
            if verdict == .healthy { verdict = .degraded }
        }
        return EnsembleView(
            members: statuses, leaderID: leaderID, leaderZxid: leaderZxid, verdict: verdict, reasons: reasons, notes: notes,
            quorum: quorum, probeMs: probeMs, membership: membership)
    }
}

/// Which member led when this process, or an earlier one keeping its hints in the same state folder, last
/// inspected a set of members: where `mntr` is asked in the first round of the next inspection. A hint, not
/// a fact: the round's `srvr` says who leads now, and a leader that moved is asked afterwards.
///
/// The file holds one line per set of members (their sorted endpoints, a tab, the leader's endpoint) and
/// is rewritten only when a leader changes; a lost or torn write costs one round of `mntr` to everyone.
public final class LeaderHints: @unchecked Sendable {
    public static let shared = LeaderHints()
    static let fileName = "leader-hints"
    static let maxEnsembles = 64

    private let lock = NSLock()
    private var path: String?
    /// Each set of members' key to its leader's endpoint: what the file holds, read from it once.
    private var known: [String: String]?

    public init(stateDirectory: String? = nil) {
        path = stateDirectory.map { $0 + "/" + Self.fileName }
    }

    /// Keeps the hints in `directory` too, when it exists and is writable: a hint never creates a folder.
    public func keep(inStateDirectory directory: String) {
        guard access(directory, W_OK) == 0 else { return }
        lock.withLock {
            path = directory + "/" + Self.fileName
            known = nil
        }
    }

    /// The index in `members` of the member that led last time, nil when none is known.
    func leader(among members: [Endpoint]) -> Int? {
        lock.withLock {
            guard let text = leaders()[Self.key(members)] else { return nil }
            return members.firstIndex { $0.description == text }
        }
    }

    /// Records the leader at `index` (nil: no single leader seen, so the next inspection asks everyone).
    func record(_ index: Int?, among members: [Endpoint]) {
        lock.withLock {
            var all = leaders()
            let key = Self.key(members)
            let leader = index.map { members[$0].description }
            guard all[key] != leader else { return }
            if all.count >= Self.maxEnsembles { all = [:] }
            all[key] = leader
            known = all
            guard let path else { return }
            let text = all.keys.sorted().map { "\($0)\t\(all[$0]!)\n" }.joined()
            let temporary = path + ".\(getpid()).tmp"
            guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8)) else { return }
            if rename(temporary, path) != 0 { unlink(temporary) }
        }
    }

    /// The hints, from the file the first time (the caller holds the lock).
    private func leaders() -> [String: String] {
        if let known { return known }
        var read: [String: String] = [:]
        if let path, let data = FileManager.default.contents(atPath: path), data.count <= 1 << 20 {
            for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
                let fields = line.split(separator: "\t")
                if fields.count == 2 { read[String(fields[0])] = String(fields[1]) }
            }
        }
        known = read
        return read
    }

    static func key(_ members: [Endpoint]) -> String { members.map(\.description).sorted().joined(separator: ",") }
}
