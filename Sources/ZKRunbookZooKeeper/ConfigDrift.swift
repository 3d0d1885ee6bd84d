/// How the nodes' configuration files differ, key by key, and what of that puts the ensemble at risk: a pure
/// comparison of what each node's agent read (`NodeConfigSnapshot`), judged only on the nodes that were read.
public struct ConfigDrift: Sendable, Codable, Equatable {
    /// One key whose value is not the same on every node read.
    public struct Row: Sendable, Codable, Equatable {
        public enum File: String, Sendable, Codable {
            case zooCfg = "zoo.cfg"
            case javaEnv = "java.env"
            case servers, myid
            /// The release each server says it runs (srvr): not a file, but drift all the same.
            case release
        }
        public var file: File
        public var key: String
        /// By node id; nil where the node does not set the key.
        public var values: [String: String?]
        /// A key each node is expected to set for itself (myid, its ports, addresses and folders): shown, not drift.
        public var perNode: Bool

        /// "zoo.cfg maxClientCnxns", "java.env JVMFLAGS", "server.4", "myid".
        public var label: String { file == .zooCfg || file == .javaEnv ? "\(file.rawValue) \(key)" : file == .release ? "release (srvr)" : key }
    }

    public struct Finding: Sendable, Codable, Equatable {
        public enum Kind: String, Sendable, Codable {
            /// Nodes hold different server lists: each may form a quorum the others do not know of.
            case serverListsDiffer = "server-lists-differ"
            /// A node's myid is not the id the ensemble file gives it; a node has no myid.
            case myidMismatch = "myid-mismatch"
            case myidMissing = "myid-missing"
            /// A node's own id has no `server.N` line in its list ("My id N not in the peer list").
            case notInOwnList = "not-in-own-list"
            /// Settings other than per-node ones differ.
            case settingsDiffer = "settings-differ"
            /// A node's files could not be read: what follows judges only the others.
            case unread
            /// The zoo.cfg read is not the one the node's running server was started with.
            case notTheRunningConfig = "not-the-running-config"
            /// The servers run different ZooKeeper releases: an upgrade halted, or a node installed apart.
            case releasesDiffer = "releases-differ"
        }

        public var kind: Kind
        public var nodes: [Int]
        public var message: String
    }

    public var nodesRead: [Int]
    public var rows: [Row]
    public var findings: [Finding]

    /// True when every node was read and nothing but per-node keys differs.
    public var isClean: Bool { findings.isEmpty }

    /// Keys a node sets for itself: different values are expected.
    public static let perNodeKeys: Set<String> = [
        "clientPort", "clientPortAddress", "secureClientPort", "secureClientPortAddress", "dataDir", "dataLogDir", "admin.serverPort",
        "admin.serverAddress", "dynamicConfigFile", "metricsProvider.httpPort", "metricsProvider.httpHost",
    ]

    /// Adds what each server said it runs (`srvr`, nil: no answer): a row and a finding when the releases differ.
    public mutating func addReleases(_ releases: [Int: String?]) {
        let answered = releases.compactMapValues { $0 }
        var byRelease: [String: [Int]] = [:]
        for (id, release) in answered { byRelease[release, default: []].append(id) }
        guard byRelease.count > 1 else { return }
        rows.append(
            Row(file: .release, key: "release", values: Dictionary(uniqueKeysWithValues: releases.map { (String($0.key), $0.value) }), perNode: false))
        let described = byRelease.sorted { $0.key < $1.key }.map { release, ids in
            "\(release) on server\(ids.count == 1 ? "" : "s") \(ids.sorted().map(String.init).joined(separator: ", "))"
        }
        findings.append(
            Finding(
                kind: .releasesDiffer, nodes: answered.keys.sorted(),
                message: "mixed releases: \(described.joined(separator: "; ")): an upgrade that halted, or a node installed apart; "
                    + "finish it (rolling-upgrade --param version=\(byRelease.keys.sorted().last!)) or put the node back, and use no feature the oldest lacks meanwhile"
            ))
    }

    /// Compares what was read of each member (a failure says why that node was not read).
    public static func compare(_ nodes: [(member: EnsembleMember, snapshot: Result<NodeConfigSnapshot, ConfigReadFailure>)]) -> ConfigDrift {
        var findings: [Finding] = []
        var read: [(id: Int, snapshot: NodeConfigSnapshot)] = []
        for (member, result) in nodes.sorted(by: { $0.member.id < $1.member.id }) {
            switch result {
            case .success(let snapshot): read.append((member.id, snapshot))
            case .failure(let failure):
                findings.append(Finding(kind: .unread, nodes: [member.id], message: "node \(member.id) (\(member.host)): not read: \(failure.message)"))
            }
        }
        for (id, snapshot) in read
        where snapshot.running?.configPath.map({ NodeConfigSnapshot.realpath($0) != NodeConfigSnapshot.realpath(snapshot.zooCfg) }) == true {
            findings.append(
                Finding(
                    kind: .notTheRunningConfig, nodes: [id],
                    message:
                        "node \(id): \(snapshot.zooCfg) was read, but its server (pid \(snapshot.running!.pid)) was started with \(snapshot.running!.configPath!): fix zooCfg in the ensemble file, or leave it out to read the running server's"
                ))
        }
        let ids = read.map { String($0.id) }
        func rows(_ file: Row.File, _ values: (NodeConfigSnapshot) -> [String: String]?) -> [Row] {
            let keys = Set(read.flatMap { (values($0.snapshot) ?? [:]).keys }).sorted()
            return keys.compactMap { key in
                let byNode = Dictionary(uniqueKeysWithValues: read.map { (String($0.id), values($0.snapshot)?[key]) })
                guard Set(ids.map { byNode[$0] ?? nil }).count > 1 else { return nil }
                return Row(file: file, key: key, values: byNode, perNode: file == .myid || (file == .zooCfg && perNodeKeys.contains(key)))
            }
        }
        let settingRows = rows(.zooCfg, \.properties) + rows(.javaEnv, \.javaEnv)
        let serverRows = rows(.servers) { snapshot in Dictionary(uniqueKeysWithValues: snapshot.servers.map { ("server.\($0.key)", $0.value) }) }
        let myidRows = rows(.myid) { snapshot in snapshot.myid.map { ["myid": $0] } ?? [:] }

        // Nodes grouped by the server list they hold: more than one group is a split-brain risk.
        var groups: [[String: String]: [Int]] = [:]
        for (id, snapshot) in read { groups[snapshot.servers, default: []].append(id) }
        if groups.count > 1 {
            let described = groups.sorted { $0.value.first! < $1.value.first! }.map { servers, ids in
                "node(s) \(ids.map(String.init).joined(separator: ", ")) list server(s) \(servers.keys.compactMap(Int.init).sorted().map(String.init).joined(separator: ","))"
            }
            findings.append(
                Finding(
                    kind: .serverListsDiffer, nodes: read.map(\.id),
                    message: "split-brain risk: the nodes hold \(groups.count) different server lists (\(described.joined(separator: "; "))); "
                        + "each side may elect its own leader. Make every node's list the same before any restart"))
        }
        for (id, snapshot) in read {
            guard let text = snapshot.myid else {
                findings.append(
                    Finding(kind: .myidMissing, nodes: [id], message: "node \(id): no myid in \(snapshot.myidFile ?? "its dataDir (zoo.cfg sets none)")"))
                continue
            }
            if Int(text) != id {
                findings.append(
                    Finding(
                        kind: .myidMismatch, nodes: [id],
                        message: "node \(id): \(snapshot.myidFile ?? "myid") says '\(text)', but the ensemble file lists this node as server \(id)"))
            }
            if let own = Int(text), snapshot.servers[String(own)] == nil {
                findings.append(
                    Finding(
                        kind: .notInOwnList, nodes: [id],
                        message:
                            "node \(id): its id \(own) has no server.\(own) line in \(snapshot.serversFile): it will not start (\"My id \(own) not in the peer list\")"
                    ))
            }
        }
        let drifting = settingRows.filter { !$0.perNode }
        if !drifting.isEmpty {
            findings.append(
                Finding(
                    kind: .settingsDiffer, nodes: read.map(\.id),
                    message: "\(drifting.count) setting(s) differ between nodes: " + drifting.map(\.label).joined(separator: ", ")))
        }
        return ConfigDrift(nodesRead: read.map(\.id), rows: settingRows + serverRows + myidRows, findings: findings)
    }
}

/// Why a node's configuration was not read (the agent missing, the transport failing, a malformed file).
public struct ConfigReadFailure: Error, Sendable, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
}
