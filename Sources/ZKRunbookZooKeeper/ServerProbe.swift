import Dispatch
import Foundation

/// Learns what a server is, through whichever channel it allows.
///
/// `srvr` first: it is the one word whitelisted by default since 3.5.3 and it carries mode and zxid.
/// `mntr` (leader sync counts) and `ruok` follow; where the whitelist refuses them and an AdminServer
/// port is known, the same command is asked over HTTP. Each fact records the channel it came from.
public struct ServerProbe: Sendable {
    public var limits: SocketLimits
    public var wantMonitor: Bool
    public var wantRuok: Bool
    /// `conf` too: the server's own id and the members it is configured with (the membership check).
    public var wantConfig: Bool
    /// `mntr` is asked of every server with the other words, but read only from the leader: its sync counts are
    /// what a verdict needs, and asking everyone at once saves the round trip of asking the leader afterwards.
    public var monitorLeaderOnly: Bool
    /// What every connection to a server goes through (plaintext TCP unless told otherwise).
    public var connector: any ServerConnector

    public init(
        limits: SocketLimits = .standard, wantMonitor: Bool = true, wantRuok: Bool = true, wantConfig: Bool = false, monitorLeaderOnly: Bool = false,
        connector: any ServerConnector = PlaintextConnector()
    ) {
        (self.limits, self.wantMonitor, self.wantRuok, self.wantConfig) = (limits, wantMonitor, wantRuok, wantConfig)
        (self.monitorLeaderOnly, self.connector) = (monitorLeaderOnly, connector)
    }

    public func probe(_ endpoint: Endpoint, adminPort: Int? = nil) -> ServerFacts {
        probeAll([(endpoint, adminPort)])[0]
    }

    /// The words asked of every server: each costs a connection and about a millisecond of the server's time,
    /// and nothing about asking one depends on another's answer.
    var askedWords: [FourLetterWord] { [.srvr] + (wantRuok ? [.ruok] : []) + (wantMonitor ? [.mntr] : []) + (wantConfig ? [.conf] : []) }

    /// Probes every endpoint at once: every word to every server in one round from this thread
    /// (`SocketClient.exchangeAll`), then each server's facts from its replies, asking its AdminServer where a
    /// word was refused. `monitorAt`: the indices of the targets asked `mntr` (nil: all of them). The answer
    /// keeps the order given.
    public func probeAll(_ targets: [(Endpoint, Int?)], monitorAt: Set<Int>? = nil) -> [ServerFacts] {
        let started = Date()
        let asked = targets.indices.map { index in askedWords.filter { $0 != .mntr || monitorAt?.contains(index) != false } }
        let requests = targets.indices.flatMap { index in
            asked[index].map { SocketClient.Request(Data($0.rawValue.utf8), to: targets[index].0, command: $0.rawValue) }
        }
        let exchanged = SocketClient.exchangeAll(requests, limits: limits, connector: connector)
        var replies: [Result<String, ZooKeeperError>] = zip(requests, exchanged).map { request, result in
            result.flatMap { FourLetterWordClient.classify($0, word: FourLetterWord(rawValue: request.command)!, endpoint: request.endpoint) }
        }
        // A server at its connection limit (maxClientCnxns per client address) closes the connections beyond
        // it at once, without a word: those words are asked again one at a time, servers in parallel, so a
        // low limit is never taken for a refused word or a server that is down.
        let closed = replies.indices.filter { Self.closedWithoutAnswer(replies[$0]) }
        if !closed.isEmpty {
            let byServer = Dictionary(grouping: closed, by: { requests[$0].endpoint.description }).map(\.value)
            let client = FourLetterWordClient(limits: limits, connector: connector)
            let again = Parallel.map(byServer) { indices in
                indices.map { index in (index, client.send(FourLetterWord(rawValue: requests[index].command)!, to: requests[index].endpoint)) }
            }
            for (index, result) in again.flatMap({ $0 }) { replies[index] = result }
        }
        var perTarget: [[Result<String, ZooKeeperError>]] = []
        var offset = 0
        for words in asked {
            perTarget.append(Array(replies[offset..<(offset + words.count)]))
            offset += words.count
        }
        // A server silent to srvr in plaintext until the deadline may be a TLS port waiting for a handshake:
        // asked a TLS hello, one that answers it is said to speak TLS, never to be down or hung. A connection
        // closed without a word is a plaintext server's (starting, or at its connection limit): never sent a
        // hello, which such a server would log as a request over jute.maxbuffer.
        let silent = targets.indices.filter { !connector.usesTLS(for: targets[$0].0) && Self.silent(perTarget[$0][0]) }
        let speaksTLS = Parallel.map(silent) { TLSSniffer.speaksTLS(targets[$0].0, timeout: min(limits.connectTimeout, 1)) }
        for (index, tls) in zip(silent, speaksTLS) where tls {
            let error = ZooKeeperError.tls(
                endpoint: targets[index].0.description, failure: .speaksTLS, detail: "srvr got no answer; a TLS hello got a TLS record")
            perTarget[index] = perTarget[index].map { _ in .failure(error) }
        }
        let facts = { @Sendable [perTarget] (index: Int) -> ServerFacts in
            var facts = self.facts(targets[index].0, adminPort: targets[index].1, asked: asked[index], replies: perTarget[index])
            facts.probeMs = Int(Date().timeIntervalSince(started) * 1000)
            facts.certificate = self.connector.peerCertificate(of: targets[index].0)
            return facts
        }
        // Only a refused word sends a server's facts back to the network (its AdminServer): then in parallel.
        let asksAdmin = targets.indices.contains { index in targets[index].1 != nil && perTarget[index].contains { (try? $0.get()) == nil } }
        return asksAdmin ? Parallel.map(Array(targets.indices), facts) : targets.indices.map(facts)
    }

    /// A word the AdminServer is asked instead: one the whitelist refuses or a server not serving will not
    /// answer, and — where an AdminServer is given — one whose connection was closed without an answer (a
    /// server at its maxClientCnxns limit still answers over HTTP, which that limit does not count).
    static func askAdminInstead(_ error: ZooKeeperError, adminGiven: Bool) -> Bool {
        switch error {
        case .notWhitelisted, .notServing: return true
        default: return adminGiven && closedWithoutAnswer(.failure(error))
        }
    }

    /// The 4lw failure in a note that also says what the AdminServer answered.
    static func refusal(_ error: ZooKeeperError) -> String {
        switch error {
        case .notWhitelisted: return "not in 4lw.commands.whitelist"
        case .notServing: return "not serving"
        default: return "\(error)"
        }
    }

    /// No byte at all before the deadline, the connection still open: how a TLS port meets a plaintext word.
    static func silent(_ reply: Result<String, ZooKeeperError>) -> Bool {
        if case .failure(.readTimedOut(_, _, _, 0)) = reply { return true }
        return false
    }

    /// A connection the server closed (or reset) without an answer: not a refused word, not a server down.
    static func closedWithoutAnswer(_ reply: Result<String, ZooKeeperError>) -> Bool {
        switch reply {
        case .failure(let error) where error.isClosedByPeer:
            // EPIPE and ECONNRESET: the peer closed; a route or host that cannot be reached is not this.
            return true
        case .failure(.malformed(_, _, let reason)): return reason.hasPrefix("empty reply")
        default: return false
        }
    }

    /// One server's facts from its replies to `asked`, in that order.
    private func facts(_ endpoint: Endpoint, adminPort: Int?, asked: [FourLetterWord], replies: [Result<String, ZooKeeperError>]) -> ServerFacts {
        var facts = ServerFacts(endpoint: endpoint)
        let admin = AdminServerClient(limits: limits, connector: connector)
        let adminEndpoint = adminPort.map { Endpoint(host: endpoint.host, port: $0) }
        func reply(_ word: FourLetterWord) -> Result<String, ZooKeeperError>? {
            asked.firstIndex(of: word).map { replies[$0] }
        }

        switch reply(.srvr)! {
        case .success(let text):
            if case .failure(let problem) = ReplyParser.applyServerStats(text, to: &facts, channel: "4lw srvr") {
                facts.mode = .unknown
                record(.malformed(endpoint: endpoint.description, command: "srvr", reason: problem.message), in: &facts)
                return facts
            }
        case .failure(let error):
            if case .notServing = error {
                facts.mode = .notServing
                facts.channels["mode"] = "4lw srvr"
                record(error, in: &facts)
                // A leader with leaderServes=no says "not serving" to every client, four-letter words too; its
                // AdminServer still says what it is.
                if let adminEndpoint, case .success(let json) = admin.command("srvr", at: adminEndpoint) {
                    var asked = facts
                    if case .success = ReplyParser.applyAdminStats(json, to: &asked, channel: "admin srvr"), asked.mode == .leader {
                        asked.error = nil
                        asked.errorKind = nil
                        asked.notes.append(
                            "srvr over 4lw: not serving clients, but the AdminServer says it leads (leaderServes=no: a leader that takes no client connections)"
                        )
                        facts = asked
                    }
                }
            } else if let adminEndpoint, error.isUnreachable || error.kind == "not-whitelisted" || Self.closedWithoutAnswer(.failure(error)) {
                facts.notes.append("srvr: \(error)")
                switch admin.command("srvr", at: adminEndpoint) {
                case .success(let json):
                    if case .failure(let problem) = ReplyParser.applyAdminStats(json, to: &facts, channel: "admin srvr") {
                        facts.mode = .unknown
                        facts.notes.append("admin srvr: \(problem.message)")
                    }
                case .failure(let adminError):
                    if case .notServing = adminError {
                        facts.mode = .notServing
                        facts.channels["mode"] = "admin srvr"
                        record(adminError, in: &facts)
                    } else if Self.closedWithoutAnswer(.failure(error)) {
                        markClosed(&facts, endpoint)
                        facts.notes.append("admin srvr: \(adminError)")
                        return facts
                    } else {
                        facts.mode = error.isUnreachable ? .unreachable : .unknown
                        record(error, in: &facts)
                        facts.notes.append("admin srvr: \(adminError)")
                    }
                }
            } else if Self.closedWithoutAnswer(.failure(error)) {
                markClosed(&facts, endpoint)
                return facts
            } else {
                facts.mode = error.isUnreachable ? .unreachable : .unknown
                record(error, in: &facts)
            }
        }
        if facts.mode == .unreachable { return facts }

        if let ruok = reply(.ruok) {
            switch ruok {
            case .success(let text):
                facts.imok = text.trimmingCharacters(in: .whitespacesAndNewlines) == "imok"
                facts.channels["imok"] = "4lw ruok"
            case .failure(let error) where Self.askAdminInstead(error, adminGiven: adminEndpoint != nil) && error.kind != "not-serving":
                if let adminEndpoint, case .success = admin.command("ruok", at: adminEndpoint) {
                    facts.imok = true
                    facts.channels["imok"] = "admin ruok"
                } else {
                    facts.notes.append("ruok: \(Self.refusal(error))" + (adminEndpoint == nil ? "" : " and the AdminServer did not answer"))
                }
            case .failure(let error):
                facts.notes.append("ruok: \(error)")
            }
        }

        if let mntr = reply(.mntr), facts.mode.isServing, !monitorLeaderOnly || facts.mode == .leader {
            applyMonitor(mntr, to: &facts, adminPort: adminPort)
        }
        if let conf = reply(.conf) {
            applyConfig(conf, to: &facts, adminEndpoint: adminEndpoint)
        }
        return facts
    }

    /// `conf`, or where the whitelist refuses it, the AdminServer's `voting_view` and `configuration`.
    private func applyConfig(_ reply: Result<String, ZooKeeperError>, to facts: inout ServerFacts, adminEndpoint: Endpoint?) {
        switch reply {
        case .success(let text):
            if case .failure(let problem) = ReplyParser.applyConfig(text, to: &facts, channel: "4lw conf") {
                facts.notes.append("conf: malformed reply: \(problem.message)")
            }
        case .failure(let error) where Self.askAdminInstead(error, adminGiven: adminEndpoint != nil):
            guard let adminEndpoint else {
                facts.notes.append("conf: not in 4lw.commands.whitelist (and no AdminServer port to ask instead)")
                return
            }
            let admin = AdminServerClient(limits: limits, connector: connector)
            let answers = Parallel.map(["voting_view", "configuration"]) { admin.command($0, at: adminEndpoint) }
            ReplyParser.applyAdminMembership(
                votingView: try? answers[0].get(), configuration: try? answers[1].get(), to: &facts)
            if facts.membership == nil, case .failure(let adminError) = answers[0] {
                facts.notes.append("conf: \(Self.refusal(error)); admin voting_view: \(adminError)")
            }
        case .failure(let error):
            facts.notes.append("conf: \(error)")
        }
    }

    /// Asks `mntr` (or the AdminServer's monitor) and adds what it says: sync counts, learners, quorum size.
    public func addMonitor(to facts: inout ServerFacts, adminPort: Int?) {
        applyMonitor(FourLetterWordClient(limits: limits, connector: connector).send(.mntr, to: facts.endpoint), to: &facts, adminPort: adminPort)
    }

    private func applyMonitor(_ reply: Result<String, ZooKeeperError>, to facts: inout ServerFacts, adminPort: Int?) {
        switch reply {
        case .success(let text):
            switch ReplyParser.parseMonitor(text) {
            case .success(let map): ReplyParser.applyMonitor(map, to: &facts, channel: "4lw mntr")
            case .failure(let problem): facts.notes.append("mntr: malformed reply: \(problem.message)")
            }
        case .failure(let error) where Self.askAdminInstead(error, adminGiven: adminPort != nil):
            if let adminPort {
                switch AdminServerClient(limits: limits, connector: connector).command("mntr", at: Endpoint(host: facts.endpoint.host, port: adminPort)) {
                case .success(let json): ReplyParser.applyMonitor(Self.monitorMap(fromAdmin: json), to: &facts, channel: "admin mntr")
                case .failure(let adminError): facts.notes.append("mntr: \(Self.refusal(error)); admin mntr: \(adminError)")
                }
            } else {
                facts.notes.append("mntr: not in 4lw.commands.whitelist (and no AdminServer port to ask instead)")
            }
        case .failure(let error):
            facts.notes.append("mntr: \(error)")
        }
    }

    /// Up, its state unknown: every connection accepted and closed without a word.
    private func markClosed(_ facts: inout ServerFacts, _ endpoint: Endpoint) {
        facts.mode = .unknown
        facts.error =
            "\(endpoint): accepted the connection and closed it without an answer, asked again one word at a time too (ZooKeeper does this to a client address that holds maxClientCnxns connections; its log then says 'Too many connections from')"
        facts.errorKind = ServerFacts.closedWithoutAnswer
    }

    private func record(_ error: ZooKeeperError, in facts: inout ServerFacts) {
        facts.error = error.description
        facts.errorKind = error.kind
    }

    /// The AdminServer's monitor JSON uses mntr's names without the zk_ prefix.
    static func monitorMap(fromAdmin json: [String: Any]) -> [String: String] {
        var map: [String: String] = [:]
        for (key, value) in json where key != "command" && key != "error" {
            switch value {
            case let number as NSNumber: map["zk_" + key] = number.stringValue
            case let text as String: map["zk_" + key] = text
            default: continue
            }
        }
        return map
    }
}
