import Foundation

/// The Prometheus text exposition of one `status` view, for node_exporter's textfile collector.
///
/// Names follow ZooKeeper's own Prometheus provider (`outstanding_requests`, `synced_followers`,
/// `avg_latency`, …) under a `zookeeper_` prefix, except where `promtool check metrics` objects: a gauge may
/// not end in `_count`, so `znode_count` is `zookeeper_znodes` (each help text names ZooKeeper's own).
/// Every series carries `ensemble`; per-server series also `server` (the myid). A state or verdict is a
/// series per possible value, 0 or 1, never a label that changes on the same series: a graph and an alert
/// keep following one series across a change.
///
/// When every node of an ensemble runs the health timer, each writes its own server's series, and only one
/// writes the ensemble-wide ones (verdict, quorum, leader, rollover ETA), so an alert fires once: the member
/// with the lowest id among those that answered this round. Every node computes the same choice from what
/// it saw; a node that saw less (a partition) may also write them, which shows as a second series rather
/// than as silence.
public struct PrometheusMetrics: Sendable {
    /// Whose per-server series to write: one server (the node itself), or every member (a central exporter).
    public enum Servers: Sendable, Equatable {
        case only(Int)
        case all
    }

    public var ensemble: String
    public var servers: Servers
    /// Seconds until the leader's zxid counter rolls over, when the samples allow an estimate.
    public var rolloverETA: Double?
    /// When this was written (the last-success timestamp).
    public var time: Date

    public init(ensemble: String, servers: Servers, rolloverETA: Double? = nil, time: Date = Date()) {
        (self.ensemble, self.servers, self.rolloverETA, self.time) = (ensemble, servers, rolloverETA, time)
    }

    /// The member that writes the ensemble-wide series: the lowest id that answered, nil when none did.
    public static func ensembleWriter(_ view: EnsembleView) -> Int? {
        view.members.filter { $0.facts.mode != .unreachable }.map(\.member.id).min()
    }

    /// True for a server whose series this file holds.
    public func covers(_ id: Int) -> Bool {
        switch servers {
        case .all: return true
        case .only(let own): return own == id
        }
    }

    /// True when this node writes the ensemble-wide series.
    public func writesEnsembleSeries(_ view: EnsembleView) -> Bool {
        switch servers {
        case .all: return true
        case .only(let id): return Self.ensembleWriter(view) == id
        }
    }

    /// The whole textfile.
    public func render(_ view: EnsembleView) -> String {
        var out = Exposition()
        let ensembleLabel = "ensemble=\"\(Exposition.escape(ensemble))\""
        let statuses = view.members.filter { covers($0.member.id) }
        func perServer(_ name: String, _ help: String, _ value: (EnsembleView.MemberStatus) -> Double?) {
            out.gauge(name, help, statuses.compactMap { status in value(status).map { ("\(ensembleLabel),server=\"\(status.member.id)\"", $0) } })
        }
        func monitor(_ key: String) -> (EnsembleView.MemberStatus) -> Double? { { $0.facts.monitor[key].flatMap(Double.init) } }
        perServer("zookeeper_up", "1 when the server answered this round's probe", { $0.facts.mode == .unreachable ? 0 : 1 })
        perServer("zookeeper_serving", "1 when the server serves requests (leader, follower, observer or standalone)", { $0.facts.mode.isServing ? 1 : 0 })
        out.gauge(
            "zookeeper_server_state", "1 for the server's state, 0 for every other state",
            statuses.flatMap { status in
                ServerMode.allCases.map { ("\(ensembleLabel),server=\"\(status.member.id)\",state=\"\($0.rawValue)\"", status.facts.mode == $0 ? 1 : 0) }
            })
        perServer("zookeeper_zxid_epoch", "high 32 bits of the server's last zxid: the leader epoch", { $0.facts.zxid.map { Double($0.epoch) } })
        perServer(
            "zookeeper_zxid_sequence", "low 32 bits of the server's last zxid; at 4294967295 it rolls over and forces an election",
            { $0.facts.zxid.map { Double($0.counter) } })
        perServer("zookeeper_lag_transactions", "transactions the server is behind the leader", { $0.lag.map(Double.init) })
        perServer("zookeeper_avg_latency", "average request latency in milliseconds, as the server reports it", { $0.facts.latencyAvg })
        perServer("zookeeper_min_latency", "minimum request latency in milliseconds, as the server reports it", { $0.facts.latencyMin })
        perServer("zookeeper_max_latency", "maximum request latency in milliseconds, as the server reports it", { $0.facts.latencyMax })
        perServer("zookeeper_outstanding_requests", "requests queued and not yet processed", { $0.facts.outstanding.map(Double.init) })
        perServer("zookeeper_num_alive_connections", "client connections open", { $0.facts.connections.map(Double.init) })
        perServer("zookeeper_znodes", "znodes in the data tree (ZooKeeper's znode_count)", { $0.facts.nodeCount.map(Double.init) })
        perServer("zookeeper_watches", "watches set by clients (ZooKeeper's watch_count, from mntr)", monitor("zk_watch_count"))
        perServer("zookeeper_ephemerals", "ephemeral znodes (ZooKeeper's ephemerals_count, from mntr)", monitor("zk_ephemerals_count"))
        perServer(
            "zookeeper_open_file_descriptors", "file descriptors the server has open (ZooKeeper's open_file_descriptor_count, from mntr)",
            monitor("zk_open_file_descriptor_count"))
        perServer(
            "zookeeper_max_file_descriptors", "the server's file descriptor limit (ZooKeeper's max_file_descriptor_count, from mntr)",
            monitor("zk_max_file_descriptor_count"))
        perServer("zookeeper_synced_followers", "followers in sync with this leader", { $0.facts.syncedFollowers.map(Double.init) })
        perServer("zookeeper_learners", "learners (followers and observers) connected to this leader", { $0.facts.learners.map(Double.init) })
        perServer(
            "zookeeper_tls_certificate_expiry_timestamp_seconds", "when the certificate the server showed over TLS stops being valid (Unix time)",
            { $0.facts.certificate?.notAfter?.timeIntervalSince1970 })
        perServer("zookeeper_pending_syncs", "learners this leader is still syncing", { $0.facts.pendingSyncs.map(Double.init) })

        if writesEnsembleSeries(view) {
            let quorum = view.quorum
            out.gauge(
                "zookeeper_ensemble_verdict", "1 for the ensemble's verdict, 0 for every other verdict",
                EnsembleVerdict.allCases.map { ("\(ensembleLabel),verdict=\"\($0.rawValue)\"", view.verdict == $0 ? 1 : 0) })
            out.gauge(
                "zookeeper_ensemble_view_complete",
                "1 when the servers confirmed that the list probed is every member; 0: a partial or unconfirmed view, judged as such",
                [(ensembleLabel, view.scope == .whole ? 1 : 0)])
            out.gauge("zookeeper_quorum_size", "voting members (participants)", [(ensembleLabel, Double(quorum.voters.count))])
            out.gauge("zookeeper_ensemble_majority", "voters needed for a quorum", [(ensembleLabel, Double(quorum.majority))])
            out.gauge("zookeeper_ensemble_tolerated_failures", "voters that may fail with the quorum kept", [(ensembleLabel, Double(quorum.tolerated))])
            let serving = view.members.filter { quorum.voters.contains($0.member.id) && $0.facts.mode.isServing }.count
            out.gauge("zookeeper_ensemble_serving_voters", "voters serving requests this round", [(ensembleLabel, Double(serving))])
            out.gauge(
                "zookeeper_ensemble_leader_server", "the leader's myid (absent when there is none)", view.leaderID.map { [(ensembleLabel, Double($0))] } ?? [])
            out.gauge(
                "zookeeper_zxid_rollover_eta_seconds", "seconds until the leader's zxid counter rolls over, at the rate since the oldest sample of this epoch",
                rolloverETA.map { [(ensembleLabel, $0.rounded())] } ?? [])
        }
        let writer: String
        switch servers {
        case .all: writer = "all"
        case .only(let id): writer = String(id)
        }
        out.gauge(
            "zkrunbook_textfile_last_success_timestamp_seconds", "when zkrunbook last wrote this file (Unix time)",
            [("\(ensembleLabel),server=\"\(writer)\"", time.timeIntervalSince1970.rounded())])
        return out.text
    }
}

/// Prometheus text format 0.0.4: HELP and TYPE once per family, one sample per line.
struct Exposition {
    private(set) var text = ""

    mutating func gauge(_ name: String, _ help: String, _ samples: [(labels: String, value: Double)]) {
        guard !samples.isEmpty else { return }
        text += "# HELP \(name) \(help)\n# TYPE \(name) gauge\n"
        for sample in samples { text += "\(name){\(sample.labels)} \(Self.format(sample.value))\n" }
    }

    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }

    /// A label value: backslash, double quote and line feed escaped.
    static func escape(_ value: String) -> String {
        var escaped = ""
        for character in value {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
