import Foundation

/// What an upgrade knows of one node before it starts: the version its server runs (srvr), its zoo.cfg, and
/// what its agent found beside it (the data folder's files, the logging config).
public struct UpgradeNodeFacts: Sendable {
    public var id: Int
    /// nil: the server did not say (it does not answer srvr).
    public var running: ZooKeeperVersion?
    public var properties: [String: String]
    /// The server list as the node's config holds it (`server.N` values).
    public var servers: [String]
    /// Snapshot and transaction log files in the data folders; nil when the agent could not look.
    public var data: DataFolderFacts?
    /// The logging configuration files beside zoo.cfg (log4j.properties, logback.xml).
    public var loggingFiles: [String]?
    /// The ensemble file gives its AdminServer port: the gates can ask it instead of four-letter words.
    public var hasAdminPort: Bool

    public init(
        id: Int, running: ZooKeeperVersion?, properties: [String: String], servers: [String] = [], data: DataFolderFacts? = nil,
        loggingFiles: [String]? = nil, hasAdminPort: Bool = false
    ) {
        (self.id, self.running, self.properties, self.servers) = (id, running, properties, servers)
        (self.data, self.loggingFiles, self.hasAdminPort) = (data, loggingFiles, hasAdminPort)
    }
}

/// What an upgrade from the versions an ensemble runs to `target` must do, may not do, and checks: ZooKeeper's
/// documented traps for each jump, in one table (`UpgradePath.rules`), decided here without touching anything.
public struct UpgradeAssessment: Sendable, Equatable {
    public var target: ZooKeeperVersion
    /// Why the run may not start, each with what to do; empty: it may.
    public var refusals: [String] = []
    /// Said in the plan and the check's output: what this jump means, what is known and left to the operator.
    public var notes: [String] = []
    /// The rules that apply to this jump, by id: each checked before the first change.
    public var checked: [String] = []
    /// zoo.cfg keys set on a node in the same change as its new version.
    public var nodeSettings: [Int: [String: String]] = [:]
    /// zoo.cfg keys removed again in a final roll, once every server runs the target.
    public var finalRemovals: [String] = []
    /// The nodes whose server does not run the target yet (the rest are skipped).
    public var toChange: [Int] = []
    public var isDowngrade = false
    /// A node carries snapshot.trust.empty into a release that does not force its first snapshot (before
    /// ZOOKEEPER-3781): the final roll may have to re-sync it from the leader (stopped, data aside, started empty).
    public var mayResync = false

    /// The versions the ensemble runs now, lowest first.
    public var from: [ZooKeeperVersion] = []
}

/// One rule of the upgrade table: when it applies, and the source that says it.
public struct UpgradeRule: Sendable {
    public var id: String
    public var summary: String
    public var source: String
}

/// Snapshot and transaction log files in a server's data folders (`dataDir/version-2`, `dataLogDir/version-2`).
public struct DataFolderFacts: Sendable, Codable, Equatable {
    public var snapshots: Int
    public var logs: Int

    public init(snapshots: Int, logs: Int) { (self.snapshots, self.logs) = (snapshots, logs) }

    /// Counts `snapshot.*` and `log.*` files; nil when a folder given cannot be listed (but a missing
    /// version-2 folder is an empty one: a server that never wrote).
    public static func read(snapshotFolder: String, logFolder: String) -> DataFolderFacts? {
        func names(_ folder: String) -> [String]? {
            guard FileManager.default.fileExists(atPath: folder) else { return [] }
            return try? FileManager.default.contentsOfDirectory(atPath: folder)
        }
        guard let snapshots = names(snapshotFolder), let logs = names(logFolder) else { return nil }
        return DataFolderFacts(
            snapshots: snapshots.filter { $0.hasPrefix("snapshot.") }.count, logs: logs.filter { $0.hasPrefix("log.") }.count)
    }
}

public enum UpgradePath {
    /// The four-letter words zkrunbook's gates ask when a server has no AdminServer in the ensemble file.
    public static let gateWords = ["srvr", "ruok", "mntr", "conf"]

    /// The table, in the order the checks run; the README's "Upgrading ZooKeeper" table is this one.
    public static let rules: [UpgradeRule] = [
        UpgradeRule(
            id: "version-known", summary: "every server says its version (srvr) and the target is a release number",
            source: "zkrunbook: a gate that cannot be evaluated is never healthy"),
        UpgradeRule(
            id: "from-3.4.6",
            summary: "to 3.5 or later only from 3.4.6 or later (older 3.4 servers fail with \"Invalid server id: -65536\" against 3.5)",
            source: "zookeeperReconfig, Upgrading to 3.5.0 (zookeeper.apache.org/doc/r3.6.3/zookeeperReconfig.html#ch_reconfig_upgrade); ZOOKEEPER-1633"),
        UpgradeRule(
            id: "through-3.8", summary: "from 3.7 or older to 3.9 or later: through the latest 3.8 first",
            source: "not in ZooKeeper's docs (checked up to 3.9.5): zkrunbook's own rule, the path it tests (3.6.3 to 3.8.0 to 3.9.3)"),
        UpgradeRule(
            id: "election-alg", summary: "to 3.6 or later: electionAlg other than 3 is gone; that change needs a full stop, never a roll",
            source: "zookeeperAdmin, electionAlg: \"Since 3.6.0 only FastLeaderElection is available\"; ZOOKEEPER-1932, ZOOKEEPER-2083"),
        UpgradeRule(
            id: "multi-address", summary: "multiAddress.enabled or a server line with several addresses only once every server runs 3.6+",
            source:
                "zookeeperAdmin, multiAddress.enabled: \"you can not enable this feature during a rolling upgrade if the version of the old ZooKeeper cluster is prior to 3.6.0\"; ZOOKEEPER-3188"
        ),
        UpgradeRule(
            id: "snapshot-trust-empty",
            summary:
                "from 3.4 to 3.5+: a data folder with transaction logs and no snapshot does not start (\"No snapshot found, but there are log entries\"); snapshot.trust.empty=true on that node through the upgrade (3.5.7 or later: 3.5.6 lost data, ZOOKEEPER-3644), removed in a final roll once it holds a snapshot; before ZOOKEEPER-3781 (3.5.10, 3.6.4, 3.7.0) a follower may write none, and the final roll re-syncs it from the leader",
            source: "zookeeperAdmin, snapshot.trust.empty (new in 3.5.6); ZOOKEEPER-3056, ZOOKEEPER-3644, ZOOKEEPER-3781"),
        UpgradeRule(
            id: "4lw-whitelist",
            summary:
                "to 3.5.3+ from older: only srvr answers by default; where the gates need ruok, mntr, conf and no AdminServer is given, the whitelist is set",
            source: "zookeeperAdmin, 4lw.commands.whitelist (new in 3.5.3: \"By default the whitelist only contains srvr\")"),
        UpgradeRule(
            id: "logback", summary: "to 3.8+ from older: logging moved from log4j 1 to logback: a conf folder with only log4j.properties logs nothing useful",
            source: "ZOOKEEPER-4427 (3.8.0); slf4j 2 and logback 1.3 in 3.8.5 and 3.9.4 (ZOOKEEPER-4891, 3.9.4 release notes)"),
        UpgradeRule(
            id: "downgrade", summary: "a downgrade only within a release line (3.8.x to 3.8.y)",
            source: "zkrunbook's own rule: ZooKeeper documents no downgrade across lines (only the 3.6 snapshot digest is said to be downgrade-safe)"),
    ]

    /// Judges the jump from what every node runs to `target`.
    public static func assess(to target: ZooKeeperVersion, nodes: [UpgradeNodeFacts]) -> UpgradeAssessment {
        var result = UpgradeAssessment(target: target)
        let unknown = nodes.filter { $0.running == nil }.map(\.id)
        result.checked.append("version-known")
        if !unknown.isEmpty {
            result.refusals.append(
                "server \(list(unknown)) did not say its version (srvr): an upgrade cannot be judged without it; make every server answer srvr first")
        }
        let running = nodes.compactMap { node in node.running.map { (node, $0) } }
        result.from = Array(Set(running.map(\.1))).sorted()
        result.toChange = running.filter { $0.1 != target }.map(\.0.id) + unknown
        guard let lowest = result.from.first, let highest = result.from.last else { return result }
        let crosses = { (version: ZooKeeperVersion) in lowest < version && target >= version }

        // Downgrades: only within a line.
        if target < highest {
            result.isDowngrade = true
            result.checked.append("downgrade")
            let other = running.filter { $0.1 > target && !$0.1.isSameLine(as: target) }
            if !other.isEmpty {
                result.refusals.append(
                    "a downgrade from \(highest) to \(target) crosses release lines: ZooKeeper documents no downgrade across lines; restore a backup taken on \(target.line) instead, or stay on \(highest.line)"
                )
            } else {
                result.notes.append("a downgrade within the \(target.line) line: the data formats are the same")
            }
        }
        if crosses(ZooKeeperVersion(3, 5, 0)) {
            result.checked.append("from-3.4.6")
            let old = running.filter { $0.1 < ZooKeeperVersion(3, 4, 6) }
            if !old.isEmpty {
                result.refusals.append(
                    "server \(list(old.map(\.0.id))) runs \(old[0].1): a rolling upgrade to \(target) must start from 3.4.6 or later (older servers fail with \"Invalid server id: -65536\"); upgrade to the latest 3.4 first"
                )
            }
        }
        if lowest < ZooKeeperVersion(3, 8, 0) && target >= ZooKeeperVersion(3, 9, 0) {
            result.checked.append("through-3.8")
            result.refusals.append(
                "from \(lowest) to \(target) skips 3.8: upgrade to the latest 3.8 first (rolling-upgrade --param version=3.8.x), then to \(target)")
        }
        if target >= ZooKeeperVersion(3, 6, 0) {
            result.checked.append("election-alg")
            let old = nodes.filter { node in node.properties["electionAlg"].map { $0.trimmingCharacters(in: .whitespaces) != "3" } ?? false }
            if !old.isEmpty {
                result.refusals.append(
                    "node \(list(old.map(\.id)))'s zoo.cfg sets electionAlg=\(old[0].properties["electionAlg"]!): \(target) knows only algorithm 3, and servers on different algorithms cannot elect together: change it with the whole ensemble stopped, never in a roll"
                )
            }
        }
        if lowest < ZooKeeperVersion(3, 6, 0) {
            result.checked.append("multi-address")
            let multi = nodes.filter { node in
                node.properties["multiAddress.enabled"]?.lowercased() == "true" || node.servers.contains { $0.contains("|") }
            }
            if !multi.isEmpty {
                result.refusals.append(
                    "node \(list(multi.map(\.id))) sets multiAddress.enabled or lists a server at several addresses, while server(s) still run \(lowest): turn it on in a later roll, once every server runs 3.6 or later"
                )
            }
        }
        if crosses(ZooKeeperVersion(3, 5, 0)) {
            result.checked.append("snapshot-trust-empty")
            let bare = running.filter { node, version in
                version < ZooKeeperVersion(3, 5, 0) && (node.data.map { $0.snapshots == 0 && $0.logs > 0 } ?? false)
            }.map(\.0)
            let unseen = running.filter { $0.1 < ZooKeeperVersion(3, 5, 0) && $0.0.data == nil }.map(\.0.id)
            if !unseen.isEmpty {
                result.refusals.append(
                    "node \(list(unseen))'s data folder could not be read: whether it holds a snapshot decides whether \(target) starts there")
            }
            if !bare.isEmpty {
                if target < ZooKeeperVersion(3, 5, 7) {
                    result.refusals.append(
                        "node \(list(bare.map(\.id))) has transaction logs and no snapshot: \(target) would refuse to start there, and snapshot.trust.empty exists only from 3.5.6 (whose handling of it lost data, ZOOKEEPER-3644): upgrade to 3.5.7 or later"
                    )
                } else {
                    result.mayResync = !forcesFirstSnapshot(target)
                    for node in bare { result.nodeSettings[node.id, default: [:]]["snapshot.trust.empty"] = "true" }
                    result.finalRemovals.append("snapshot.trust.empty")
                    result.notes.append(
                        "node \(list(bare.map(\.id))) has transaction logs and no snapshot: \(target) would not start there (\"No snapshot found, but there are log entries\"); snapshot.trust.empty=true is set on it with its new version, and removed in a final roll once it holds a snapshot"
                            + (result.mayResync
                                ? "; \(target) predates ZOOKEEPER-3781, so a follower that syncs by diff writes none: the final roll re-syncs such a node from the leader (stopped, its data moved aside and kept, started empty: it takes a snapshot)"
                                : "; \(target) writes one at its first sync with the leader (ZOOKEEPER-3781)")
                    )
                }
            }
        }
        if crosses(ZooKeeperVersion(3, 5, 3)) {
            result.checked.append("4lw-whitelist")
            for (node, _) in running where node.properties["4lw.commands.whitelist"] == nil && !node.hasAdminPort {
                result.nodeSettings[node.id, default: [:]]["4lw.commands.whitelist"] = gateWords.joined(separator: ",")
            }
            let set = result.nodeSettings.filter { $0.value["4lw.commands.whitelist"] != nil }.keys.sorted()
            if !set.isEmpty {
                result.notes.append(
                    "node \(list(set)) has no 4lw.commands.whitelist and no adminPort in the ensemble file: \(target) answers only srvr by default, so 4lw.commands.whitelist=\(gateWords.joined(separator: ",")) is set with its new version (what the gates ask)"
                )
            }
        }
        if crosses(ZooKeeperVersion(3, 8, 0)) {
            result.checked.append("logback")
            let log4jOnly = running.filter { node, _ in
                guard let files = node.loggingFiles else { return false }
                return files.contains("log4j.properties") && !files.contains("logback.xml")
            }.map(\.0.id)
            if !log4jOnly.isEmpty {
                result.notes.append(
                    "WARNING: node \(list(log4jOnly)) has log4j.properties and no logback.xml beside zoo.cfg: \(target) logs through logback and will log nothing useful there; write conf/logback.xml (ZooKeeper's own is in its release) before or with the upgrade"
                )
            }
        }
        if crosses(ZooKeeperVersion(3, 6, 0)) {
            result.notes.append("mntr's keys changed in 3.6 (new metrics, some renamed): collectors keyed on 3.5's names need updating")
        }
        if crosses(ZooKeeperVersion(3, 9, 4)) {
            result.notes.append("3.9.4 moved to slf4j 2 and logback 1.3: a custom logback.xml or log bridge on the classpath may need updating")
        }
        if target.isSameLine(as: ZooKeeperVersion(3, 8, 0)) && crosses(ZooKeeperVersion(3, 8, 5)) {
            result.notes.append("3.8.5 moved to slf4j 2 and logback 1.3: a custom logback.xml or log bridge on the classpath may need updating")
        }
        return result
    }

    /// Whether `version` writes a snapshot at a follower's first diff sync when it trusted an empty one
    /// (ZOOKEEPER-3781: 3.5.10, 3.6.4, 3.7.0 and later).
    public static func forcesFirstSnapshot(_ version: ZooKeeperVersion) -> Bool {
        switch (version.major, version.minor) {
        case (3, 5): return version.patch >= 10
        case (3, 6): return version.patch >= 4
        default: return version >= ZooKeeperVersion(3, 7, 0)
        }
    }

    static func list(_ ids: [Int]) -> String { ids.sorted().map(String.init).joined(separator: ", ") }
}

extension UpgradeNodeFacts {
    /// A node as its agent read it (`node-config`) and its server said its version.
    public init(id: Int, running: ZooKeeperVersion?, snapshot: NodeConfigSnapshot, hasAdminPort: Bool) {
        self.init(
            id: id, running: running, properties: snapshot.properties, servers: Array(snapshot.servers.values), data: snapshot.data,
            loggingFiles: snapshot.loggingFiles, hasAdminPort: hasAdminPort)
    }
}

extension UpgradeAssessment {
    /// `key=value;key=value`: what node `id`'s zoo.cfg gets with its new version (a config change's `set`).
    public func settings(of id: Int) -> String {
        (nodeSettings[id] ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ";")
    }

    /// The jump in one line, and what it checks and touches: the check's message, so the plan says it.
    public var summary: [String] {
        let jump = from.map(\.description).joined(separator: ", ")
        var lines = ["\(isDowngrade ? "downgrade" : "upgrade") from \(jump.isEmpty ? "an unknown version" : jump) to \(target)"]
        lines.append("checked before any change: " + checked.joined(separator: ", "))
        for id in nodeSettings.keys.sorted() { lines.append("node \(id)'s zoo.cfg gets \(settings(of: id)) with its new version") }
        if !finalRemovals.isEmpty {
            lines.append("a final roll removes \(finalRemovals.joined(separator: ", ")) once every server runs \(target) and holds a snapshot")
        }
        if nodeSettings.isEmpty && finalRemovals.isEmpty { lines.append("no zoo.cfg changes: only the release changes") }
        return lines + notes
    }
}
