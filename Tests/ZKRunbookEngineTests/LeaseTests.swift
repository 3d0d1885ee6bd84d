import Foundation
import Testing
import ZKRunbookAgent
import ZKRunbookTestSupport

@testable import ZKRunbookEngine

/// The node-side lease: decided in memory, kept in files under one lock.
struct LeaseTests {
    func record(_ runID: String, since: Double = 1000, ttl: Double = 60) -> LeaseRecord {
        LeaseRecord(
            runID: runID, runbook: "rolling-restart", ensemble: "prod", ensembleID: "abc", holderHost: "conductor-a", holderPID: 42, since: since,
            expires: since + ttl)
    }

    @Test func decisions() {
        #expect(LeasePolicy.decide(existing: nil, request: record("B"), now: 1000) == .acquired(replaced: nil))
        #expect(LeasePolicy.decide(existing: record("A"), request: record("A"), now: 1030) == .renewed)
        #expect(LeasePolicy.decide(existing: record("A"), request: record("B"), now: 1030) == .held(by: record("A")))
        #expect(LeasePolicy.decide(existing: record("A"), request: record("B"), now: 1060) == .acquired(replaced: record("A")))
    }

    @Test func checksBeforeAChange() {
        #expect(LeasePolicy.check(existing: record("A"), runID: "A", now: 1010) == nil)
        #expect(LeasePolicy.check(existing: nil, runID: nil, now: 1010) == nil)
        #expect(LeasePolicy.check(existing: record("A"), runID: nil, now: 1070) == nil, "an expired lease holds nobody")
        #expect(LeasePolicy.check(existing: record("A"), runID: nil, now: 1010)?.contains("leased to run A") == true)
        #expect(LeasePolicy.check(existing: record("A"), runID: "B", now: 1010)?.contains("not to run B") == true)
        #expect(LeasePolicy.check(existing: record("A"), runID: "A", now: 1070)?.contains("expired") == true)
        #expect(LeasePolicy.check(existing: nil, runID: "A", now: 1010)?.contains("holds no lease for run A") == true)
    }

    @Test func theStoreTakesRenewsRefusesAndBreaks() throws {
        let scratch = Scratch("lease")
        let store = NodeLeaseStore(directory: scratch.path + "/leases")
        #expect(try store.request("zookeeper-2181", record("A"), now: 1000) == .acquired(replaced: nil))
        #expect(try store.request("zookeeper-2181", record("A", since: 1020), now: 1020) == .renewed)
        #expect(store.read("zookeeper-2181")?.since == 1000, "renewal keeps when the lease was first taken")
        #expect(store.read("zookeeper-2181")?.expires == 1080)
        #expect(try store.request("zookeeper-2181", record("B", since: 1030), now: 1030) == .held(by: store.read("zookeeper-2181")!))
        #expect(try store.release("zookeeper-2181", runID: "B") == nil, "B cannot release A's lease")
        #expect(try store.release("zookeeper-2181", runID: nil)?.runID == "A", "an explicit break removes it")
        #expect(store.read("zookeeper-2181") == nil)
        let mode = try FileManager.default.attributesOfItem(atPath: scratch.path + "/leases")[.posixPermissions] as? Int
        #expect(mode == 0o700)
    }

    /// The lease folder is the machine's, never a state directory: two ensemble files that name two
    /// stateDirs for one node still meet on its lease.
    @Test func theLeaseFolderIsTheMachinesWhateverTheStateDirectory() {
        #expect(NodeLeaseStore.standard(environment: ["ZKRUNBOOK_LEASE_DIR": "/srv/leases"]).directory == "/srv/leases")
        let standard = NodeLeaseStore.standard(environment: [:]).directory
        #expect(standard == (getuid() == 0 ? "/run/zkrunbook/leases" : "/tmp/zkrunbook-leases-\(getuid())"))
    }

    @Test func concurrentRequestsGiveOneHolder() throws {
        let scratch = Scratch("lease-race")
        let store = NodeLeaseStore(directory: scratch.path + "/leases")
        let now = Date().timeIntervalSince1970
        let winners = LockedCounter()
        DispatchQueue.concurrentPerform(iterations: 16) { index in
            if case .acquired? = try? store.request("k", record("run-\(index)", since: now), now: now) { winners.add() }
        }
        #expect(winners.value == 1)
    }

    @Test func leaseCheckIsAStepARunbookMayName() {
        let text = """
            { name: "t", description: "d", steps: [
              { id: "lease", description: "d", action: "lease-check", with: { clientPort: "2181" } },
            ]}
            """
        #expect(diagnostics(text).isEmpty)
    }
}

final class LockedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}

/// The agent's lease answer is one typed value on both sides of the wire.
struct LeaseReplyTests {
    @Test func aReplyReadsBackAsWrittenWithTheKeysAndWordsOfTheWire() throws {
        let record = LeaseRecord(
            runID: "r1", runbook: "rolling-restart", ensemble: "e", ensembleID: "id", holderHost: "h", holderPID: 42, since: 1, expires: 61)
        let reply = LeaseReply(.acquired, lease: record, replaced: record, message: nil)
        #expect(LeaseReply.read("noise\n" + reply.line + "\n") == reply)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(reply.line.utf8)) as? [String: Any])
        #expect(Set(object.keys) == ["result", "lease", "replaced"])
        #expect(LeaseReply(.notHeld).line == #"{"result":"not-held"}"#)
        #expect(LeaseReply(.missingRunbook, message: "m").line == #"{"message":"m","result":"missing-runbook"}"#)
        #expect(LeaseReply.read("not json\n") == nil)
    }
}
