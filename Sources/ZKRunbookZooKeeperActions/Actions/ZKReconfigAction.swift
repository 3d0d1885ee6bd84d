import Foundation
import ZKRunbookClient
import ZKRunbookEngine
import ZKRunbookProcess
import ZKRunbookZooKeeper

/// `zk-reconfig`: adds, removes or re-roles one server through ZooKeeper's own `reconfig` (3.5+,
/// reconfigEnabled), over the client protocol. Before asking, it checks ZooKeeper's rule itself: a majority
/// of the old voters and a majority of the new voters must serve (a joining server as a follower that has
/// synced), and refuses otherwise, changing nothing. The change is made against the config version it read
/// (a concurrent change fails it, named); afterwards every member of the new config is asked for its
/// `/zookeeper/config` until all hold the new version. With `check: true` it changes nothing: the preflight
/// of add-server, remove-server and set-role, where a joining server counts as serving once started.
struct ZKReconfigAction: ArgumentsDecodable {
    static let name = "zk-reconfig"
    static let summary =
        "add, remove or re-role one server through reconfig (3.5+), a quorum of the old and of the new voters checked first; every member's config read back"

    /// The ensemble file: it gives the joining server's line (host, ports, role) and where to connect.
    var ensemble: Template
    /// The id of the server to add (it must be in the ensemble file).
    var add: Template?
    /// The id of the server to remove.
    var remove: Template?
    /// The id of the server whose role changes to `role`.
    var setRole: Template?
    /// With `setRole`: `observer` or `participant`.
    var role: Template?
    /// Only check that the change is possible now; change nothing.
    var check: Bool
    /// The config version (hex, as `version` facts give it) the run planned against, read by its `check`
    /// step: a membership changed since then — by another run or a person — refuses this change with
    /// nothing done, instead of building on it. ZooKeeper enforces it too (reconfig's fromConfig).
    var fromVersion: Template?
    /// With `setRole`: a server already in that role is success, nothing changed. A hand-off's undo, which
    /// must hold whether or not the hand-back before it got that far.
    var ifNeeded: Bool = false
    var timeout: DurationSpec?
    var isReadOnly: Bool { check }
    static var defaults: [String: any ArgumentValue] { ["check": false, "ifNeeded": false] }
    var yieldedFacts: FactNames? {
        FactNames(["version", "previousVersion", "members", "voters", "observers", "config", "serverLine", "servers", "modePattern", "serverEndpoint"])
    }

    func describe(_ resolver: TemplateResolver) -> [String] {
        let change = [
            add.map { "add server \($0.display(resolver))" }, remove.map { "remove server \($0.display(resolver))" },
            setRole.map { "make server \($0.display(resolver)) \(role?.display(resolver) ?? "?")" + (ifNeeded ? " (nothing if it is one)" : "") },
        ].compactMap { $0 }
        let what = change.joined(separator: ", ")
        if check {
            return [
                "check only, change nothing: \(what) through \(ensemble.display(resolver)) is possible now (3.5+ with reconfigEnabled, the",
                "membership allows it, a majority of the old voters and of the new voters serve, a joining server counted once started)",
            ]
        }
        return [
            "reconfig through \(ensemble.display(resolver)): \(what), against the config version read first;",
            "refused unless a majority of the old voters and of the new voters serve; then every member's /zookeeper/config read back",
        ]
    }

    /// The one change the arguments ask for.
    func change(_ context: ActionContext) throws(ActionOutcome) -> MembershipChange {
        func value(_ template: Template?) throws(ActionOutcome) -> String? {
            guard let template else { return nil }
            let text = try context.resolved(template)
            return text.isEmpty ? nil : text
        }
        let given = [("add", try value(add)), ("remove", try value(remove)), ("setRole", try value(setRole))].compactMap { name, text in text.map { (name, $0) }
        }
        guard given.count == 1, let (name, text) = given.first else {
            throw .failure(cause: .invalidArgument, message: "zk-reconfig takes one of 'add', 'remove' or 'setRole' (a server id)")
        }
        guard let id = Int(text) else { throw .failure(cause: .invalidArgument, message: "\(name) '\(text)' is not a server id") }
        switch name {
        case "add": return .add(id)
        case "remove": return .remove(id)
        default:
            let roleText = try value(role) ?? ""
            guard let newRole = ServerEntry.Role(rawValue: roleText) else {
                throw .failure(cause: .invalidArgument, message: "role '\(roleText)' must be observer or participant")
            }
            return .setRole(id, newRole)
        }
    }

    func execute(_ context: ActionContext) throws(ActionOutcome) -> ActionOutcome {
        let source = try context.resolved(ensemble)
        let change = try change(context)
        let id = change.serverID
        let members: [EnsembleMember]
        switch ZooKeeperActions.members(fromSource: source) {
        case .success(let found): members = found
        case .failure(let outcome): return outcome
        }
        let seconds = min(timeout?.resolve(context.resolver.parameters)?.seconds ?? 10, max(1, context.remainingSeconds))
        let options = context.options.services.clientOptions(connectTimeout: min(seconds, 3), requestTimeout: seconds)
        let client: ZooKeeperClient
        // Through a server that stays as it is: a leaving or re-roled one (and a leaving leader's followers
        // while they re-elect) close their clients' sessions as the change commits.
        let staying = members.filter { $0.id != id }
        do { client = try ZooKeeperClient.connect(staying.map(\.endpoint), options: options) } catch {
            return ActionOutcome.refusal("no member accepted a session: \(error)")
        }
        defer { client.close() }
        let before: Membership
        do {
            try client.sync("/zookeeper/config")
            before = try Membership.parse(try client.getConfig().text)
        } catch let error as ZooKeeperClientError {
            return ActionOutcome.refusal("cannot read /zookeeper/config: \(error)")
        } catch {
            return ActionOutcome.refusal("\(error)")
        }
        if check, let refused = mayReconfigure(client) ?? mayWriteConfig(client, as: context.options.services.saslIdentity) {
            return ActionOutcome.refusal(refused)
        }
        var planned = before.version
        if !check, let fromVersion {
            let text = try context.resolved(fromVersion)
            guard let version = Int64(text, radix: 16) else {
                return .failure(cause: .invalidArgument, message: "fromVersion '\(text)' is not a config version (hex, as the check step's 'version' fact)")
            }
            if version != before.version {
                return ActionOutcome.refusal(
                    "the membership changed since this run planned its change against config version \(text): it is now version \(before.versionText), members \(before.ids) (another run or a person changed it); this run changed nothing: look at the ensemble and start again"
                )
            }
            planned = version
        }
        if ifNeeded, case .setRole(let id, let role) = change, let entry = before.servers.first(where: { $0.id == id }), entry.role == role {
            return .success(
                "server \(id) is already \(role == .observer ? "an observer" : "a participant"): nothing to change (config version \(before.versionText))",
                facts: ["version": .string(before.versionText), "previousVersion": .string(before.versionText), "members": .string(before.ids)])
        }
        let request: MembershipChange.Request
        switch change.request(current: before.servers, written: members) {
        case .success(let decided): request = decided
        case .failure(let refused) where refused.isInput: return .failure(cause: .invalidArgument, message: refused.message)
        case .failure(let refused): return ActionOutcome.refusal(refused.message + " (config version \(before.versionText))")
        }
        // ZooKeeper's incremental reconfig takes a server only with its client port ("each server should have 3
        // ports specified"), which a server reached only on its secureClientPort has none of: said before any change.
        if let joining = request.joining, let newcomer = request.newcomer,
            members.first(where: { $0.id == newcomer }).map({ $0.secure && $0.plaintextClientPort == nil }) == true
        {
            return ActionOutcome.refusal(
                "server \(newcomer) has no plaintext client port (only its secureClientPort), and ZooKeeper's reconfig needs one in its line (\(joining)): "
                    + "keep a clientPort beside its secureClientPort (in zoo.cfg and the ensemble file), or change the membership without reconfig (add-server-static)"
            )
        }
        // A static list gives no client port: where the file gives the server, its endpoint comes from there.
        let written = Dictionary(members.map { ($0.id, $0.endpoint) }, uniquingKeysWith: { first, _ in first })
        let endpoint = { (server: ServerEntry) in server.clientPort == nil ? written[server.id] ?? server.clientEndpoint : server.clientEndpoint }
        if let reason = quorumRefusal(
            before: before.servers, after: request.after, joinerAssumedServing: check ? request.newcomer : nil, endpoint: endpoint, connector: options.connector
        ) {
            return ActionOutcome.refusal("ZooKeeper would refuse (NewConfigNoQuorum): " + reason)
        }
        var facts: [String: FactValue] = [
            "previousVersion": .string(before.versionText), "members": .string(Membership.idList(request.after.map(\.id))),
            "voters": .string(Membership.idList(request.after.filter { $0.role == .participant }.map(\.id))),
            "observers": .string(Membership.idList(request.after.filter { $0.role == .observer }.map(\.id))),
            "serverLine": .string(request.joining ?? ""),
            "serverEndpoint": .string((written[id] ?? request.after.first { $0.id == id }?.clientEndpoint)?.description ?? ""),
            // The modes srvr may report for the server once the change holds (a gate matches against it).
            "modePattern": .string(request.after.first { $0.id == id }.map { $0.role == .observer ? "^observer$" : "^(leader|follower)$" } ?? "^unreachable$"),
            // The members' lines as they are now, one word each: what a joining server's dynamic file starts from.
            "servers": .string(before.servers.map(\.dynamicLine).joined(separator: " ")),
        ]
        if check {
            facts["version"] = .string(before.versionText)
            facts["config"] = .string(before.text)
            return .success(
                "\(change) is possible now: config version \(before.versionText), members \(before.ids) -> \(Membership.idList(request.after.map(\.id)))",
                facts: facts)
        }

        let changed: Membership
        let deadline = Date().addingTimeInterval(seconds)
        var note = ""
        do {
            changed = try Membership.parse(try client.reconfig(joining: request.joining, leaving: request.leaving, fromConfig: planned).text)
        } catch let error as ZooKeeperClientError where error.code == nil {
            // The session ended before the reply (a leaving leader closes its clients' sessions): whether the
            // change committed is read from the servers that stay, never assumed.
            switch settled(from: staying.map(\.endpoint), before: before, expected: request.after, options: options, until: deadline, context: context) {
            case .success(let membership):
                changed = membership
                note = " (the session closed before the reply: \(error); the committed config was read from the servers that stay)"
            case .failure(let problem):
                return .failure(cause: .reconfigRefused, message: "reconfig sent, its session lost before the reply (\(error)); \(problem.message)")
            }
        } catch let error as ZooKeeperClientError {
            // An error reply: the reconfig did not commit (ReconfigInProgress, BadVersion, NewConfigNoQuorum):
            // nothing changed, said as a refusal (exit 3 when nothing changed before it).
            return ActionOutcome.refusal("ZooKeeper refused the reconfig, nothing changed: \(error)")
        } catch {
            return .failure(cause: .reconfigRefused, message: "\(error)")
        }
        facts["version"] = .string(changed.versionText)
        facts["members"] = .string(changed.ids)
        facts["voters"] = .string(Membership.idList(changed.servers.filter { $0.role == .participant }.map(\.id)))
        facts["observers"] = .string(Membership.idList(changed.servers.filter { $0.role == .observer }.map(\.id)))
        facts["config"] = .string(changed.text)
        let behind = readBack(changed, endpoint: endpoint, options: options, until: deadline, context: context)
        guard behind.isEmpty else {
            return .failure(
                cause: .verifyFailed,
                message: "reconfig committed (version \(changed.versionText)), but not every member holds it: " + behind.joined(separator: "; "),
                facts: facts)
        }
        return .success(
            "\(change): config version \(before.versionText) -> \(changed.versionText), members \(changed.ids), read back from every member\(note)",
            facts: facts)
    }

    /// Whether the leader would take a reconfig now, asked without any risk of one: a request against a
    /// config version that can never exist. ZooKeeper (3.5 to 3.9) checks reconfigEnabled, standalone mode
    /// and a reconfig in progress before the version, so BadVersion means those passed and nothing changed.
    /// The session's right to write /zookeeper/config is checked only after the version, so it is not
    /// proven here: a NoAuth at the reconfig itself changes nothing. Nil when it would; otherwise why not.
    private func mayReconfigure(_ client: ZooKeeperClient) -> String? {
        do {
            _ = try client.reconfig(fromConfig: Int64.max)
            return "the probe reconfig against an impossible config version was accepted: refusing to go on"
        } catch {
            switch error.code {
            case .badVersion?: return nil
            case .reconfigDisabled?:
                return "reconfigEnabled is false on the leader: enable it on every server (rolling-config-change --param set=reconfigEnabled=true) first"
            case .reconfigInProgress?: return "another reconfig has not finished: try again once it has"
            case .unimplemented?: return "the server runs standalone or before 3.5: reconfig is not available"
            default: return "cannot tell whether reconfig is allowed: \(error)"
            }
        }
    }

    /// Whether this session may write `/zookeeper/config`, which reconfig needs after every other check (the
    /// version probe above passes without it): its ACL grants WRITE to anyone or to this identity, or the
    /// session is the super user or the servers skip ACLs — proven by reading back an ephemeral znode whose
    /// ACL lets nobody read it. Nothing lasting is changed; a refusal names the ACL and how to grant the right.
    private func mayWriteConfig(_ client: ZooKeeperClient, as identity: SASLIdentity?) -> String? {
        let who = identity.map { "sasl:\($0.name)" } ?? "this session (no SASL identity: world:anyone)"
        let acl: [ACL]
        do { acl = try client.getACL("/zookeeper/config").acl } catch { return "cannot read the ACL of /zookeeper/config: \(error)" }
        let writers = acl.filter { $0.permissions.contains(.write) }
        if writers.contains(where: { ($0.scheme == "world" && $0.id == "anyone") || ($0.scheme == "sasl" && $0.id == identity?.name) }) { return nil }
        let probe = "/zkrunbook-reconfig-right-\(UInt64.random(in: 0...UInt64.max))"
        do {
            _ = try client.create(
                probe, [], acl: [ACL(permissions: .read, scheme: "digest", id: "zkrunbook-nobody:AAAAAAAAAAAAAAAAAAAAAAAAAAA=")], mode: .ephemeral)
        } catch {
            return "cannot tell whether \(who) may reconfig: it cannot create an ephemeral znode at \(probe) to find out: \(error)"
        }
        // Ephemeral: gone with the session even if this delete is refused.
        defer { try? client.delete(probe) }
        do {
            _ = try client.getData(probe)
            return nil
        } catch  where error.code == .noAuth {
            let written = acl.map { "\($0.scheme):\($0.id):\($0.permissionLetters)" }.joined(separator: ",")
            return
                "\(who) may not reconfig: /zookeeper/config's ACL is \(written) and grants it no WRITE, and it is neither the super user nor do the servers skip ACLs; "
                + "give it the right on every server (zookeeper.superUser=\(identity?.name ?? "NAME") for a SASL user, DigestAuthenticationProvider.superDigest for a digest one) or set skipACL=yes; nothing was changed"
        } catch {
            return "cannot tell whether \(who) may reconfig: reading \(probe) back: \(error)"
        }
    }

    /// ZooKeeper's rule: a majority of the old voters and of the new voters serve. Probed now, each server on
    /// its client port; `joinerAssumedServing` (a check before the server is started) counts as serving.
    private func quorumRefusal(
        before: [ServerEntry], after: [ServerEntry], joinerAssumedServing: Int?, endpoint: (ServerEntry) -> Endpoint, connector: any ServerConnector
    ) -> String? {
        let probe = ServerProbe(limits: SocketLimits(connectTimeout: 2, readTimeout: 2), wantMonitor: false, wantRuok: false, connector: connector)
        let everyone = Dictionary((before + after).map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first }).values.sorted { $0.id < $1.id }
        let probed = everyone.filter { $0.id != joinerAssumedServing }
        let facts = zip(probed, probe.probeAll(probed.map { (endpoint($0), nil) })).reduce(into: [Int: ServerFacts]()) { $0[$1.0.id] = $1.1 }
        let serving = Set(everyone.map(\.id).filter { $0 == joinerAssumedServing || (facts[$0]?.mode.isServing == true && facts[$0]?.mode != .standalone) })
        let voters = { (servers: [ServerEntry]) in servers.filter { $0.role == .participant }.map(\.id) }
        return QuorumMath.reconfigRefusal(oldVoters: voters(before), newVoters: voters(after), serving: serving)
    }

    /// After a reconfig whose reply was lost: the config the staying servers hold once one answers. The
    /// expected membership at a newer version is the change committed; the old version is the change not
    /// made; anything else is another actor's change.
    private func settled(
        from servers: [Endpoint], before: Membership, expected: [ServerEntry], options: ClientOptions, until deadline: Date, context: ActionContext
    ) -> Result<Membership, Problem> {
        var last = "no staying server answered"
        repeat {
            do {
                let client = try ZooKeeperClient.connect(servers, options: options)
                defer { client.close() }
                try client.sync("/zookeeper/config")
                let seen = try Membership.parse(try client.getConfig().text)
                if seen.version == before.version {
                    last = "the servers still hold version \(before.versionText): the change was not made"
                } else if Set(seen.servers.map { "\($0.id):\($0.role)" }) == Set(expected.map { "\($0.id):\($0.role)" }) {
                    return .success(seen)
                } else {
                    return .failure(
                        Problem(
                            "the servers now hold version \(seen.versionText) with members \(seen.ids), not the change asked for: another actor changed the membership"
                        ))
                }
            } catch {
                last = "\(error)"
            }
            guard context.cancellation.sleep(seconds: 0.2) else { break }
        } while Date() < deadline
        return .failure(Problem(last))
    }

    struct Problem: Error {
        var message: String
        init(_ message: String) { self.message = message }
    }

    /// The members of `changed` that do not yet report its version, each asked on its own session after sync.
    private func readBack(_ changed: Membership, endpoint: (ServerEntry) -> Endpoint, options: ClientOptions, until deadline: Date, context: ActionContext)
        -> [String]
    {
        var behind: [String] = []
        repeat {
            behind = changed.servers.compactMap { server in
                do {
                    let own = try ZooKeeperClient.connect([endpoint(server)], options: options)
                    defer { own.close() }
                    try own.sync("/zookeeper/config")
                    let seen = try Membership.parse(try own.getConfig().text)
                    return seen.version == changed.version ? nil : "server \(server.id) holds version \(seen.versionText)"
                } catch {
                    return "server \(server.id): \(error)"
                }
            }
            if behind.isEmpty { break }
            guard context.cancellation.sleep(seconds: 0.2) else { break }
        } while Date() < deadline
        return behind
    }

}

/// A dynamic configuration as `/zookeeper/config` gives it: `server.N=…` lines and `version=<hex>`.
struct Membership {
    var servers: [ServerEntry]
    var version: Int64
    var text: String

    var versionText: String { String(version, radix: 16) }
    var ids: String { Self.idList(servers.map(\.id)) }

    static func idList(_ ids: [Int]) -> String { ids.sorted().map(String.init).joined(separator: ",") }

    static func parse(_ text: String) throws -> Membership {
        let config = try ZooConfig.parse(text, path: "/zookeeper/config")
        guard let hex = config.properties["version"], let version = Int64(hex, radix: 16) else {
            throw ZooConfigError(path: "/zookeeper/config", line: nil, message: "no version= line: is this server 3.5 or later?")
        }
        return Membership(servers: config.servers, version: version, text: text)
    }

    /// One `server.N=…` line.
    static func entry(_ line: String) throws -> ServerEntry {
        let parsed = try ZooConfig.parse(line, path: "add")
        guard parsed.servers.count == 1, parsed.properties.isEmpty else {
            throw ZooConfigError(
                path: "add", line: nil, message: "expected one server.N=host:quorumPort:electionPort:role;host:clientPort line, found '\(line)'")
        }
        return parsed.servers[0]
    }
}

extension ServerEntry {
    /// Where clients reach this server: the client half of its line (clientAddress 0.0.0.0 means its host).
    var clientEndpoint: Endpoint {
        let address = clientAddress.flatMap { $0 == "0.0.0.0" || $0.isEmpty ? nil : $0 } ?? host
        return Endpoint(host: address, port: clientPort ?? 2181)
    }
}
