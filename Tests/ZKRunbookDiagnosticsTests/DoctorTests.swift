import Foundation
import Testing
import ZKRunbookEngine
import ZKRunbookTestSupport
import ZKRunbookZooKeeper
import ZKRunbookZooKeeperActions

@testable import ZKRunbookDiagnostics

/// Log lines as ZooKeeper writes them: log4j 1 (3.5, 3.6, 3.7) and logback (3.8, 3.9) default patterns,
/// and slf4j-simple (the sandbox).
enum LogFixtures {
    static let zk35 = """
        2026-11-20 10:00:00,001 [myid:1] - INFO  [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:Leader@464] - LEADING - LEADER ELECTION TOOK - 342465
        2026-11-20 10:00:01,002 [myid:1] - INFO  [main:QuorumPeerMain@132] - Starting quorum peer
        2026-11-20 10:00:02,003 [myid:1] - WARN  [SyncThread:1:FileTxnLog@338] - fsync-ing the write ahead log in SyncThread:1 took 4321ms which will adversely effect operation latency. See the ZooKeeper troubleshooting guide
        2026-11-20 10:00:03,004 [myid:1] - WARN  [NIOServerCxn.Factory:0.0.0.0/0.0.0.0:2181:NIOServerCnxnFactory@188] - Too many connections from /10.0.0.7 - max is 60

        """
    static let zk36 = """
        2026-11-21 11:00:00,000 [myid:2] - INFO  [QuorumPeer[myid=2](plain=0.0.0.0:2181)(secure=disabled):Learner@150] - FOLLOWING - LEADER ELECTION TOOK - 812 MS
        2026-11-21 11:00:05,000 [myid:2] - WARN  [QuorumConnectionThread-[myid=2]-3:QuorumCnxManager@401] - Cannot open channel to 3 at election address /10.0.0.3:3888
        2026-11-21 11:00:06,000 [myid:2] - INFO  [NIOWorkerThread-1:NIOServerCnxn@518] - Closing connection to /10.0.0.9:50002 because the server is not ready

        """
    static let zk38 = """
        2026-11-22 12:00:00,000 [myid:3] - INFO  [QuorumPeer[myid=3](plain=[0:0:0:0:0:0:0:0]:2181)(secure=disabled):o.a.z.s.q.Leader@1554] - zxid lower 32 bits have rolled over, forcing re-election, and therefore new epoch start
        2026-11-22 12:00:00,500 [myid:3] - WARN  [QuorumPeer[myid=3](plain=[0:0:0:0:0:0:0:0]:2181)(secure=disabled):o.a.z.s.q.Leader@1140] - Not sufficient followers synced, only synced with sids: [ 3 ]
        2026-11-22 12:00:01,000 [myid:3] - INFO  [SessionTracker:o.a.z.s.ZooKeeperServer@632] - Expiring session 0x100001f2a3b0000, timeout of 40000ms exceeded

        """
    static let zk39 = """
        2026-11-23 13:00:00,000 [myid:1] - WARN  [main-SendThread(zk1:2181):o.a.z.ClientCnxn@1285] - Session 0x0 for server zk1/10.0.0.1:2181, Closing socket connection. Attempting reconnect except it is a SessionExpiredException. org.apache.zookeeper.KeeperException$ConnectionLossException: KeeperErrorCode = ConnectionLoss
        2026-11-23 13:00:01,000 [myid:1] - INFO  [NIOWorkerThread-2:o.a.z.s.NIOServerCnxn@512] - This ZooKeeper instance is not currently serving requests

        """
    static let sandbox = """
        2026-11-24 17:47:13,831 [QuorumPeer[myid=1](plain=127.0.0.1:52001)(secure=disabled)] INFO org.apache.zookeeper.server.quorum.Learner - FOLLOWING - LEADER ELECTION TOOK - 214 MS
        2026-11-24 18:45:27,057 [main] INFO org.apache.zookeeper.server.persistence.FileTxnSnapLog - Snapshotting: 0x0 to /tmp/sbq/node1/data/version-2/snapshot.0
        2026-11-24 18:45:28,184 [QuorumPeer[myid=1](plain=127.0.0.1:28001)(secure=disabled)] INFO org.apache.zookeeper.server.persistence.FileTxnSnapLog - Snapshotting: 0x100000000 to /tmp/sbq/node1/data/version-2/snapshot.100000000
        2026-11-24 18:45:28,900 [SyncThread:1] INFO org.apache.zookeeper.server.persistence.FileTxnSnapLog - Snapshotting: 0x100000fa0 to /tmp/sbq/node1/data/version-2/snapshot.100000fa0
        2026-11-24 18:45:29,184 [QuorumPeer[myid=1](plain=127.0.0.1:28001)(secure=disabled)] INFO org.apache.zookeeper.server.persistence.FileTxnSnapLog - Snapshotting: 0x200000000 to /tmp/sbq/node1/data/version-2/snapshot.200000000

        """
}

struct DoctorTests {
    func report(_ logs: [String: String]) -> DoctorReport {
        let folder = Scratch("doctor")
        let paths = logs.map { folder.write($0.key, $0.value) }
        return DoctorReport.build(logs: paths, view: nil, history: nil)
    }

    @Test func everySignatureIsFoundInEveryFormat() {
        let result = report([
            "zookeeper-3.5.log": LogFixtures.zk35, "zookeeper-3.6.log": LogFixtures.zk36, "zookeeper-3.8.log": LogFixtures.zk38,
            "zookeeper-3.9.log": LogFixtures.zk39, "sandbox.log": LogFixtures.sandbox,
        ])
        let ids = Set(result.findings.map(\.id))
        for expected in [
            "leader-election", "zxid-rollover", "not-serving", "not-ready", "connection-loss", "slow-fsync", "too-many-connections",
            "session-expiry", "quorum-channel", "followers-not-synced", "epoch-change",
        ] {
            #expect(ids.contains(expected), "\(expected) not found")
        }
        // Each log that names its server (myid) is judged as that server: the elections are counted wherever they fall.
        let elections = result.findings.filter { $0.id == "leader-election" }
        #expect(elections.map(\.count).reduce(0, +) == 3)
        let longest = elections.first { $0.detail.contains("the longest took 342465 ms") }
        #expect(longest?.severity == .critical, "a 342 s election is an incident")
        #expect(longest?.evidence.contains { $0.contains("zookeeper-3.5.log:1: ") && $0.contains("342465") } == true)
        let fsync = result.findings.first { $0.id == "slow-fsync" }!
        #expect(fsync.evidence.first?.contains("zookeeper-3.5.log:3: ") == true)
        #expect(fsync.detail.contains("4321 ms"))
        #expect(result.findings.first?.severity == .critical, "the worst comes first")
        #expect(result.markdown.contains("Next: `zkrunbook run zxid-rollover-watch`"))
        #expect(result.findings.first { $0.id == "epoch-change" }?.detail == "2 epoch change(s): 0 → 1 → 2")
    }

    /// A signature owns its measure and its judgement: the clients over maxClientCnxns are named, and an
    /// oversized packet says its size and the setting to change.
    @Test func signaturesMeasureAndJudgeWhatTheyFind() {
        var lines = ""
        for index in 0..<7 {
            let client = index < 5 ? "/10.0.0.5" : "/10.0.0.9"
            lines +=
                "2026-11-24 10:00:0\(index),000 [myid:1] - WARN  [NIOServerCxnFactory.AcceptThread:0.0.0.0/0.0.0.0:2181:NIOServerCnxnFactory$AcceptThread@427] - Too many connections from \(client) - max is 60\n"
        }
        lines +=
            "2026-11-24 10:01:00,000 [myid:1] - WARN  [NIOWorkerThread-1:NIOServerCnxn@380] - Exception causing close of session 0x0: Unreasonable length = 1048583\n"
        lines +=
            "2026-11-24 10:01:01,000 [myid:1] - ERROR [main:QuorumPeer@1153] - Unable to load database on disk\njava.io.IOException: Unreasonable length = 2097160\n"
        let result = report(["zookeeper.log": lines])
        let crowded = result.findings.first { $0.id == "too-many-connections" }
        #expect(
            crowded?.detail
                == "7 refused connection(s) from 2 client(s), most from /10.0.0.5 (5), /10.0.0.9 (2); maxClientCnxns is 60: raise it in zoo.cfg or fix the client's connection leak",
            "\(String(describing: crowded))")
        let oversized = result.findings.first { $0.id == "jute-maxbuffer" }
        #expect(oversized?.count == 2)
        #expect(oversized?.detail.contains("the largest was 2097160 bytes") == true, "\(String(describing: oversized))")
        #expect(oversized?.nextRunbook == "collect-diagnostics")
    }

    @Test func aLineSplitAcrossReadChunksIsStillFound() {
        // 4 MiB of filler puts the signature across the scanner's read boundary.
        let filler = String(repeating: "2026-11-24 00:00:00,000 [myid:1] - INFO  [main:Filler@1] - nothing to see\n", count: 4 * 1_048_576 / 75)
        let result = report(["big.log": filler + "…LEADING - LEADER ELECTION TOOK - 9999 MS\n"])
        let elections = result.findings.first { $0.id == "leader-election" }
        #expect(elections?.count == 1)
        #expect(elections?.evidence.first?.contains("big.log:\(filler.split(separator: "\n").count + 1): ") == true)
    }

    @Test func rolloverETAOnSyntheticSamples() throws {
        let start = Date(timeIntervalSince1970: 1_700_000_000)
        let first = RolloverEstimate.Sample(time: start, zxid: Zxid(epoch: 7, counter: 1_000_000_000))
        let second = RolloverEstimate.Sample(time: start.addingTimeInterval(1_000_000), zxid: Zxid(epoch: 7, counter: 2_000_000_000))
        let eta = try #require(RolloverEstimate.secondsToRollover(first, second))
        let known = Double(UInt32.max - 2_000_000_000) / 1000
        #expect(abs(eta - known) / known < 0.01)
        #expect(RolloverEstimate.secondsToRollover(first, RolloverEstimate.Sample(time: second.time, zxid: Zxid(epoch: 8, counter: 5))) == nil)
        // The seed: 280 105 949 -> 692 368 820 in a week.
        let seedStart = RolloverEstimate.Sample(time: start, zxid: Zxid(epoch: 1, counter: 280_105_949))
        let seedEnd = RolloverEstimate.Sample(time: start.addingTimeInterval(7 * 86_400), zxid: Zxid(epoch: 1, counter: 692_368_820))
        let seedDays = try #require(RolloverEstimate.secondsToRollover(seedStart, seedEnd)) / 86_400
        let expected = Double(UInt32.max - 692_368_820) / (Double(692_368_820 - 280_105_949) / 7)
        #expect(abs(seedDays - expected) / expected < 0.01)
        #expect(RolloverEstimate.describe(seedDays * 86_400).hasSuffix("days"))
    }

    @Test func historyKeepsSamplesBetweenRuns() throws {
        let folder = Scratch("history")
        let history = ZxidHistory(stateDirectory: folder.path)
        let now = Date()
        history.append(server: "zk1:2181", sample: .init(time: now.addingTimeInterval(-86_400), zxid: Zxid(epoch: 3, counter: 100_000_000)))
        history.append(server: "zk2:2181", sample: .init(time: now.addingTimeInterval(-86_400), zxid: Zxid(epoch: 3, counter: 1)))
        let eta = try #require(history.eta(server: "zk1:2181", now: .init(time: now, zxid: Zxid(epoch: 3, counter: 200_000_000))))
        #expect(abs(eta / 86_400 - Double(UInt32.max - 200_000_000) / 100_000_000) < 0.01)
    }

    /// A sample every minute for a long time: the file stays under its bound, is read from its tail, and
    /// still gives the newest samples.
    @Test func historyStaysBoundedAndIsReadFromItsTail() throws {
        let folder = Scratch("history-bound")
        var history = ZxidHistory(stateDirectory: folder.path)
        (history.readBytes, history.maxBytes) = (4_096, 16_384)
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        for minute in 0..<2_000 {
            history.append(
                server: "zk1:2181", sample: .init(time: start.addingTimeInterval(Double(minute) * 60), zxid: Zxid(epoch: 1, counter: UInt32(minute))))
        }
        let size = try #require(FileInfo.stat(history.path)?.size)
        #expect(size <= 16_384 + 200, "the file is cut past its bound: \(size) bytes")
        let samples = history.load(server: "zk1:2181")
        #expect(samples.last?.zxid.counter == 1_999, "the newest sample is read")
        #expect(!samples.isEmpty && samples.count < 100, "only the tail is read: \(samples.count)")
    }

    @Test func aCounterDropIsARestartOrAResetByUptime() {
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        let before = RolloverEstimate.Sample(time: t0, zxid: Zxid(epoch: 1, counter: 5), received: 90_000, uptimeMs: 86_400_000)
        let restarted = RolloverEstimate.Sample(time: t0.addingTimeInterval(3600), zxid: Zxid(epoch: 2, counter: 1), received: 12, uptimeMs: 60_000)
        // A new epoch: an election re-created the server object (zk_uptime restarts at every election): no restart said.
        #expect(DoctorReport.counterDrop(server: "zk1:2181", previous: before, now: restarted).id == "counters-reset-election")
        let sameEpoch = RolloverEstimate.Sample(time: t0.addingTimeInterval(3600), zxid: Zxid(epoch: 1, counter: 7), received: 12, uptimeMs: 60_000)
        #expect(DoctorReport.counterDrop(server: "zk1:2181", previous: before, now: sameEpoch).id == "counters-reset-restart", "no election: a restart")
        let reset = RolloverEstimate.Sample(time: t0.addingTimeInterval(3600), zxid: Zxid(epoch: 1, counter: 9), received: 3, uptimeMs: 90_000_000)
        let finding = DoctorReport.counterDrop(server: "zk1:2181", previous: before, now: reset)
        #expect(finding.id == "counters-reset-in-process")
        #expect(finding.detail.contains("srst"))
    }

    @Test func theTwoDataCentrePartitionIsNamed() {
        let members = (1...6).map {
            EnsembleMember(id: $0, host: "zk\($0)", clientPort: 2181, role: $0 == 6 ? .observer : .participant, dataCentre: $0 <= 3 ? "DC-1" : "DC-2")
        }
        let facts = members.map { member -> ServerFacts in
            var facts = ServerFacts(endpoint: member.endpoint)
            facts.mode = member.id <= 3 ? .unreachable : .notServing
            facts.error = member.id <= 3 ? "connect timeout (DC-1 cut off)" : "not currently serving requests"
            return facts
        }
        let view = EnsembleInspector().judge(members: members, facts: facts)
        let report = DoctorReport(findings: DoctorReport.liveFindings(view, history: nil).findings, scannedBytes: 0, scanSeconds: 0, createdAt: "")
        let finding = report.findings.first { $0.id == "no-quorum" }
        #expect(finding?.severity == .critical)
        #expect(finding?.detail.contains("a majority is 3") == true)
        #expect(finding?.detail.contains("too few up to elect a leader") == true)
        #expect(finding?.nextRunbook == "dc-failover")
        #expect(finding?.evidence.first?.contains("zkrunbook run dc-failover --ensemble FILE --param survivors=4,5,6") == true)
        // The same outage in a file that does not say where the nodes are: start them, no failover.
        let unplaced = members.map { member -> EnsembleMember in
            var member = member
            member.dataCentre = nil
            return member
        }
        let blind = DoctorReport.liveFindings(EnsembleInspector().judge(members: unplaced, facts: facts), history: nil).findings.first { $0.id == "no-quorum" }
        #expect(blind?.nextRunbook == "restart-node")
        #expect(blind?.evidence.first?.contains("start the stopped servers first (server 1 on zk1, server 2 on zk2, server 3 on zk3)") == true)
    }
}

/// Every runbook doctor names as the next step is one zkrunbook ships.
struct NextRunbookTests {
    @Test func everySignaturesNextRunbookIsShipped() throws {
        let shipped = Set(
            try FileManager.default.contentsOfDirectory(atPath: repositoryRoot + "/runbooks").filter { $0.hasSuffix(".json5") }.map { String($0.dropLast(6)) })
        #expect(shipped.contains("health-check"), "\(shipped.sorted())")
        let named = LogSignatures.all.compactMap(\.nextRunbook) + ["health-check"]
        let unknown = Set(named).subtracting(shipped)
        #expect(unknown.isEmpty, "doctor names runbooks zkrunbook does not ship: \(unknown.sorted())")
    }
}

/// `--json` evidence as objects: where, when, whose, what; a finding's servers and span.
struct EvidenceJSONTests {
    @Test func evidenceLinesAreTakenApart() throws {
        let logLine = EvidenceLine(parsing: "/var/log/zk/zookeeper.log:42: 2026-11-22 12:00:00,500 [myid:3] - WARN  [x:y@1] - a: b", server: "server 3")
        #expect(logLine.file == "/var/log/zk/zookeeper.log" && logLine.line == 42 && logLine.server == "server 3")
        #expect(logLine.text.hasPrefix("2026-11-22 12:00:00,500 [myid:3]") && logLine.time != nil)
        let chain = EvidenceLine(parsing: "server 2 (127.0.0.1): /tmp/node2/zookeeper.log:7", server: nil)
        #expect(chain.server == "server 2 (127.0.0.1)" && chain.file == "/tmp/node2/zookeeper.log" && chain.line == 7 && chain.text.isEmpty)
        let sentence = EvidenceLine(parsing: "leader 3 zxid 0x500000001: 12 ms to go", server: nil)
        #expect(sentence.file == nil && sentence.line == nil && sentence.text == "leader 3 zxid 0x500000001: 12 ms to go")
    }

    @Test func aFindingCarriesItsServersAndSpan() throws {
        var finding = Finding(
            id: "x", severity: .warning, title: "t", detail: "d", count: 2, evidence: ["a.log:1: text one", "a.log:9: text two"], nextRunbook: nil,
            node: "server 1")
        (finding.firstMs, finding.lastMs) = (1_000, 4_500)
        let object = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(finding)) as? [String: Any])
        #expect(object["servers"] as? [String] == ["server 1"] && object["spanSeconds"] as? Double == 3.5)
        #expect((object["firstTime"] as? String)?.hasPrefix("1970-01-01T00:00:01") == true)
        let evidence = try #require(object["evidence"] as? [[String: Any]])
        #expect(evidence.count == 2 && evidence[1]["line"] as? Int == 9 && evidence[1]["text"] as? String == "text two")
    }
}
