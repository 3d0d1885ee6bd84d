import Testing
import ZKRunbookZooKeeper

@testable import ZKRunbookZooKeeperActions

/// The table of upgrade jumps, decided from facts alone: pretended versions and configs, no servers.
struct UpgradePathTests {
    func node(
        _ id: Int, _ version: String, _ properties: [String: String] = [:], servers: [String] = [], snapshots: Int = 1, logs: Int = 1,
        logging: [String] = [], admin: Bool = true
    ) -> UpgradeNodeFacts {
        UpgradeNodeFacts(
            id: id, running: ZooKeeperVersion(version), properties: properties, servers: servers, data: DataFolderFacts(snapshots: snapshots, logs: logs),
            loggingFiles: logging, hasAdminPort: admin)
    }

    func assess(_ target: String, _ nodes: [UpgradeNodeFacts]) -> UpgradeAssessment {
        UpgradePath.assess(to: ZooKeeperVersion(target)!, nodes: nodes)
    }

    @Test func versionsAreReadAsSrvrSaysThem() {
        #expect(ZooKeeperVersion("3.8.0-5a02a05eddb59aee6ac762f7ea82e92a68eb9c0f, built on 2022-02-25 08:49 UTC") == ZooKeeperVersion(3, 8, 0))
        #expect(ZooKeeperVersion("3.4.14-4c25d480e66aadd371de8bd2fd8da255ac140bcf, built on 03/06/2019 16:18 GMT")?.description == "3.4.14")
        #expect(ZooKeeperVersion("3.9") == nil && ZooKeeperVersion("latest") == nil)
        #expect(ZooKeeperVersion(3, 4, 14) < ZooKeeperVersion(3, 5, 0) && ZooKeeperVersion(3, 10, 0) > ZooKeeperVersion(3, 9, 3))
    }

    @Test func aPlainUpgradeChangesOnlyTheRelease() {
        let result = assess("3.8.0", (1...3).map { node($0, "3.6.3") })
        #expect(result.refusals.isEmpty && result.nodeSettings.isEmpty && result.finalRemovals.isEmpty)
        #expect(result.toChange == [1, 2, 3] && result.from == [ZooKeeperVersion(3, 6, 3)] && !result.isDowngrade)
        #expect(result.checked.contains("logback") && result.checked.contains("election-alg"))
        #expect(assess("3.8.0", (1...3).map { node($0, "3.8.0") }).toChange.isEmpty, "nothing to do where every server runs it")
    }

    @Test func forbiddenJumpsAreRefusedWithWhatToDo() {
        let old = assess("3.6.3", [node(1, "3.4.5"), node(2, "3.4.14"), node(3, "3.4.14")])
        #expect(old.refusals.contains { $0.contains("server 1 runs 3.4.5") && $0.contains("3.4.6") && $0.contains("-65536") }, "\(old.refusals)")
        let skip = assess("3.9.3", (1...3).map { node($0, "3.7.2") })
        #expect(skip.refusals.contains { $0.contains("skips 3.8") && $0.contains("version=3.8") }, "\(skip.refusals)")
        let election = assess("3.6.3", [node(1, "3.5.9", ["electionAlg": "0"]), node(2, "3.5.9"), node(3, "3.5.9")])
        #expect(election.refusals.contains { $0.contains("electionAlg=0") && $0.contains("whole ensemble stopped") }, "\(election.refusals)")
        #expect(assess("3.6.3", [node(1, "3.5.9", ["electionAlg": "3"])]).refusals.isEmpty, "algorithm 3 is the one that stays")
        let multi = assess("3.6.3", [node(1, "3.5.9", servers: ["10.0.0.1:2888:3888|10.1.0.1:2888:3888:participant"]), node(2, "3.6.3")])
        #expect(multi.refusals.contains { $0.contains("several addresses") && $0.contains("3.5.9") }, "\(multi.refusals)")
        let unknown = assess("3.8.0", [node(1, "3.6.3"), UpgradeNodeFacts(id: 2, running: nil, properties: [:])])
        #expect(unknown.refusals.contains { $0.contains("server 2 did not say its version") })
    }

    @Test func aDataFolderWithLogsAndNoSnapshotCarriesTrustEmptyThroughTheUpgrade() {
        let nodes = [node(1, "3.4.14", snapshots: 0, logs: 2), node(2, "3.4.14"), node(3, "3.4.14", snapshots: 0, logs: 1)]
        let to363 = assess("3.6.3", nodes)
        #expect(to363.refusals.isEmpty, "\(to363.refusals)")
        #expect(to363.nodeSettings[1]?["snapshot.trust.empty"] == "true" && to363.nodeSettings[3]?["snapshot.trust.empty"] == "true")
        #expect(to363.nodeSettings[2] == nil && to363.finalRemovals == ["snapshot.trust.empty"])
        #expect(to363.mayResync, "3.6.3 predates ZOOKEEPER-3781: a follower may write no snapshot")
        #expect(!assess("3.8.0", nodes).mayResync && !assess("3.6.4", nodes).mayResync && assess("3.5.9", nodes).mayResync)
        #expect(assess("3.5.6", nodes).refusals.contains { $0.contains("ZOOKEEPER-3644") }, "3.5.6 lost data trusting an empty snapshot")
        let fresh = assess("3.6.3", [node(1, "3.4.14", snapshots: 0, logs: 0)])
        #expect(fresh.nodeSettings.isEmpty, "an empty folder starts: nothing to trust")
        var unread = node(1, "3.4.14")
        unread.data = nil
        #expect(assess("3.6.3", [unread]).refusals.contains { $0.contains("could not be read") })
    }

    @Test func theWhitelistIsSetOnlyWhereTheGatesWouldNeedIt() {
        let result = assess("3.6.3", [node(1, "3.4.14", admin: false), node(2, "3.4.14", ["4lw.commands.whitelist": "*"], admin: false), node(3, "3.4.14")])
        #expect(result.nodeSettings[1]?["4lw.commands.whitelist"] == "srvr,ruok,mntr,conf")
        #expect(result.nodeSettings[2] == nil && result.nodeSettings[3] == nil, "one has its own whitelist, one an AdminServer")
        #expect(assess("3.6.3", [node(1, "3.5.3", admin: false)]).nodeSettings.isEmpty, "3.5.3 already answers only srvr")
    }

    @Test func aLog4jOnlyConfIsNamedOnTheWayTo38() {
        let result = assess("3.8.0", [node(1, "3.7.2", logging: ["log4j.properties"]), node(2, "3.7.2", logging: ["log4j.properties", "logback.xml"])])
        #expect(result.refusals.isEmpty)
        #expect(result.notes.contains { $0.hasPrefix("WARNING: node 1 has log4j.properties and no logback.xml") }, "\(result.notes)")
        #expect(!result.notes.contains { $0.contains("node 2 has log4j") })
    }

    @Test func downgradesOnlyWithinALine() {
        let within = assess("3.8.3", [node(1, "3.8.4"), node(2, "3.8.4")])
        #expect(within.isDowngrade && within.refusals.isEmpty && within.notes.contains { $0.contains("within the 3.8 line") })
        let across = assess("3.8.4", [node(1, "3.9.3"), node(2, "3.9.3")])
        #expect(across.isDowngrade && across.refusals.contains { $0.contains("crosses release lines") })
    }

    @Test func everyRuleHasItsSourceAndEveryCheckIsARule() {
        let ids = Set(UpgradePath.rules.map(\.id))
        #expect(ids.count == UpgradePath.rules.count && UpgradePath.rules.allSatisfy { !$0.source.isEmpty && !$0.summary.isEmpty })
        let all = [
            assess("3.6.3", [node(1, "3.4.14", snapshots: 0)]), assess("3.9.3", [node(1, "3.7.2")]), assess("3.8.3", [node(1, "3.8.4")]),
        ]
        #expect(all.flatMap(\.checked).allSatisfy(ids.contains))
    }
}

/// The canary's reading of a log since a restart, on lines real servers wrote (here, and in ZooKeeper's tracker).
struct CanaryLogTests {
    @Test func errorsAreRecordsAtErrorAndNotWarningsCarryingAnException() {
        // 3.6.3 under load: zkrunbook's own TLS check of a port that stayed silent, a TLS hello read as a length.
        let sniff: [Substring] = [
            "2026-12-07 15:01:20,527 [NIOWorkerThread-3] WARN org.apache.zookeeper.server.NIOServerCnxn - Close of session 0x0",
            "java.io.IOException: Len error 369295616",
        ]
        // A follower's sync hitting ZOOKEEPER-4394 (3.6.3 and 3.8.0, under writes): ZooKeeper logs it as a WARN.
        let resync: [Substring] = [
            "2021-11-30 16:57:02,955 [myid:2] - WARN  [QuorumPeer[myid=2](plain=0.0.0.0:2182)(secure=disabled):Follower@131] - Exception when following the leader",
            "java.lang.NullPointerException: Cannot read field \"hdr\" because \"pif\" is null",
            "\tat org.apache.zookeeper.server.quorum.Learner.syncWithLeader(Learner.java:656)",
        ]
        // 3.8.0 under a file-size limit; 3.9.3 launched on a broken jar.
        let severe: [Substring] = [
            "2026-12-07 15:17:55,415 [SyncThread:0] ERROR org.apache.zookeeper.server.ZooKeeperCriticalThread - Severe unrecoverable error, from thread : SyncThread:0",
            "java.io.IOException: File too large",
        ]
        let launcher: [Substring] = ["Error: Could not find or load main class org.apache.zookeeper.server.quorum.QuorumPeerMain"]
        #expect(ZKLogErrorsAction.errors(in: sniff).isEmpty && ZKLogErrorsAction.errors(in: resync).isEmpty)
        #expect(ZKLogErrorsAction.errors(in: severe) == [severe[0]], "the ERROR record, once")
        #expect(ZKLogErrorsAction.errors(in: launcher) == launcher)
        #expect(ZKLogErrorsAction.isOwnTLSProbe(sniff[1]) && !ZKLogErrorsAction.isOwnTLSProbe(severe[1]))
    }

    /// The canary judges the new process only: the old one's error as it was stopped (logged after the mark,
    /// before the new start line) is not the new release's; the new one's is; a launcher that never started
    /// is judged whole.
    @Test func theCanaryJudgesTheProcessStartedAfterTheMark() {
        let stopped: [Substring] = [
            "2026-12-07 22:29:56,924 [SyncThread:1] ERROR org.apache.zookeeper.server.ZooKeeperCriticalThread - Severe unrecoverable error, from thread : SyncThread:1",
            "2026-12-07 22:29:57,410 [main] INFO org.apache.zookeeper.server.quorum.QuorumPeerMain - Starting quorum peer, myid=1",
        ]
        let started: [Substring] = [
            "2026-12-07 22:29:58,001 [QuorumPeer[myid=1](plain=127.0.0.1:30001)(secure=disabled)] INFO org.apache.zookeeper.server.quorum.Learner - Getting a diff from the leader 0x1000000fb"
        ]
        let failing: [Substring] = [
            "2026-12-07 22:29:59,100 [SyncThread:1] ERROR org.apache.zookeeper.server.ZooKeeperCriticalThread - Severe unrecoverable error, from thread : SyncThread:1"
        ]
        #expect(ZKLogErrorsAction.errors(in: Array(ZKLogErrorsAction.sinceStart(stopped + started))).isEmpty)
        #expect(ZKLogErrorsAction.errors(in: Array(ZKLogErrorsAction.sinceStart(stopped + started + failing))) == failing)
        let launcher: [Substring] = ["Error: Could not find or load main class org.apache.zookeeper.server.quorum.QuorumPeerMain"]
        #expect(ZKLogErrorsAction.errors(in: Array(ZKLogErrorsAction.sinceStart(launcher))) == launcher)
    }
}
