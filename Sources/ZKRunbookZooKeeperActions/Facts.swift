import ZKRunbookEngine
import ZKRunbookZooKeeper

/// What a runbook guard sees of one server: the probe's facts by name.
extension ServerFacts {
    /// Every name `factMap` may hold (a test checks the two agree), for `validate`.
    public static let factNames = FactNames(
        [
            "endpoint", "mode", "serving", "reachable", "probeMs", "zxid", "zxidEpoch", "zxidCounter", "received", "sent", "connections",
            "outstanding", "nodeCount", "learners", "syncedFollowers", "syncedObservers", "pendingSyncs", "quorumSize", "uptimeMs",
            "latencyAvg", "latencyMax", "latencyMin", "version", "release", "serverID", "imok", "readOnly", "error", "errorKind", "notes", "peerState",
        ], prefixes: ["channel."])

    /// The facts as a runbook guard sees them.
    public var factMap: [String: FactValue] {
        var out: [String: FactValue] = [
            "endpoint": .string(endpoint.description), "mode": .string(mode.rawValue), "serving": .bool(mode.isServing),
            "reachable": .bool(mode != .unreachable), "probeMs": .int(Int64(probeMs)),
        ]
        if let zxid {
            out["zxid"] = .string(zxid.description)
            out["zxidEpoch"] = .int(Int64(zxid.epoch))
            out["zxidCounter"] = .int(Int64(zxid.counter))
        }
        let numbers: [(String, Int64?)] = [
            ("received", received), ("sent", sent), ("connections", connections), ("outstanding", outstanding),
            ("nodeCount", nodeCount), ("learners", learners), ("syncedFollowers", syncedFollowers),
            ("syncedObservers", syncedObservers), ("pendingSyncs", pendingSyncs), ("quorumSize", quorumSize), ("uptimeMs", uptimeMs),
        ]
        for (name, value) in numbers { if let value { out[name] = .int(value) } }
        if let latencyAvg { out["latencyAvg"] = .double(latencyAvg) }
        if let latencyMax { out["latencyMax"] = .double(latencyMax) }
        if let latencyMin { out["latencyMin"] = .double(latencyMin) }
        if let version {
            out["version"] = .string(version)
            // The release number alone ("3.8.0"): what an upgrade's gate compares with its target.
            if let release = ZooKeeperVersion(version) { out["release"] = .string(release.description) }
        }
        if let peerState { out["peerState"] = .string(peerState) }
        if let serverID { out["serverID"] = .int(Int64(serverID)) }
        if let imok { out["imok"] = .bool(imok) }
        if let readOnly { out["readOnly"] = .bool(readOnly) }
        if let error { out["error"] = .string(error) }
        if let errorKind { out["errorKind"] = .string(errorKind) }
        for (fact, channel) in channels { out["channel." + fact] = .string(channel) }
        if !notes.isEmpty { out["notes"] = .string(notes.joined(separator: "; ")) }
        return out
    }
}

/// What a runbook guard sees of the ensemble (`zk-ensemble`).
extension EnsembleView {
    /// Every name `factMap` may hold (a test checks the two agree), for `validate`.
    public static let factNames = FactNames(
        [
            "verdict", "healthy", "quorate", "reasons", "voters", "majority", "tolerated", "canElect", "quorumReason", "votersServing", "serving",
            "members", "maxLag", "probeMs", "scope", "membershipMatches", "membershipFindings", "gatesEvaluable", "gateProblems", "leader",
            "leaderEndpoint", "syncedFollowers", "allFollowersSynced", "pendingSyncs", "leaderZxid", "leaderZxidCounter",
        ], prefixes: ["mode.", "lag."])

    /// Facts for runbook guards (`zk-ensemble`).
    public var factMap: [String: FactValue] {
        var out: [String: FactValue] = [
            "verdict": .string(verdict.rawValue), "healthy": .bool(verdict == .healthy),
            "quorate": .bool(verdict == .healthy || verdict == .degraded), "reasons": .string(reasons.joined(separator: "; ")),
            "voters": .int(Int64(quorum.voters.count)), "majority": .int(Int64(quorum.majority)),
            "tolerated": .int(Int64(quorum.tolerated)), "canElect": .bool(quorum.canElect), "quorumReason": .string(quorum.reason),
            "votersServing": .int(Int64(members.filter { $0.member.role == .participant && $0.facts.mode.isServing }.count)),
            "serving": .int(Int64(members.filter { $0.facts.mode.isServing }.count)), "members": .int(Int64(members.count)),
            "maxLag": .int(Int64(members.compactMap(\.lag).max() ?? 0)), "probeMs": .int(Int64(probeMs)),
            "scope": .string(scope.rawValue), "membershipMatches": .bool(membership.matches),
            "membershipFindings": .string(membership.findings.map(\.message).joined(separator: "; ")),
            "gatesEvaluable": .bool(gateProblems.isEmpty), "gateProblems": .string(gateProblems.joined(separator: "; ")),
        ]
        if let leaderID, let leader = members.first(where: { $0.member.id == leaderID }) {
            out["leader"] = .int(Int64(leaderID))
            out["leaderEndpoint"] = .string(leader.member.endpoint.description)
            if let synced = leader.facts.syncedFollowers {
                out["syncedFollowers"] = .int(synced)
                out["allFollowersSynced"] = .bool(synced >= Int64(quorum.voters.count - 1) && (leader.facts.pendingSyncs ?? 0) == 0)
            }
            if let pending = leader.facts.pendingSyncs { out["pendingSyncs"] = .int(pending) }
        }
        if let leaderZxid {
            out["leaderZxid"] = .string(leaderZxid.description)
            out["leaderZxidCounter"] = .int(Int64(leaderZxid.counter))
        }
        for status in members {
            out["mode.\(status.member.id)"] = .string(status.facts.mode.rawValue)
            if let lag = status.lag { out["lag.\(status.member.id)"] = .int(Int64(lag)) }
        }
        return out
    }
}
