import Testing
import ZKRunbookDiagnostics

/// Doctor's disk judgement on measurements made here: the next snapshot, the growth, autopurge.
struct DiskJudgementTests {
    let gib: Int64 = 1 << 30
    func measured(free: Int64, snapshot: Int64 = 100 << 20, bytes: Int64 = 1 << 30, purge: Int? = 1) -> DiskJudgement.Measured {
        DiskJudgement.Measured(
            dataFreeBytes: free, logFreeBytes: free, newestSnapshotBytes: snapshot, snapshots: 3, logs: 4, zookeeperBytes: bytes, purgeIntervalHours: purge)
    }

    @Test func aHealthyDiskGivesNothing() {
        #expect(DiskJudgement().findings(measured(free: 50 * gib), at: 10_000, earlier: [.init(time: 0, zookeeperBytes: 1 << 30)]).isEmpty)
    }

    @Test func theNextSnapshotThatWouldNotFitIsCritical() {
        let findings = DiskJudgement().findings(measured(free: 150 << 20), at: 0, earlier: [])
        #expect(findings.map(\.id) == ["disk-snapshot-will-not-fit"] && findings.first?.severity == .critical)
    }

    @Test func growthGivesAnETAWithinTheHorizonOnly() {
        // 1 GiB grown in 10 000 s, 20 GiB free: about 55 hours, beyond 24.
        let slow = DiskJudgement().findings(measured(free: 20 * gib, bytes: 2 * gib), at: 10_000, earlier: [.init(time: 0, zookeeperBytes: gib)])
        #expect(slow.isEmpty)
        // The same growth, 2 GiB free: about 5.6 hours.
        let soon = DiskJudgement().findings(measured(free: 2 * gib, bytes: 2 * gib), at: 10_000, earlier: [.init(time: 0, zookeeperBytes: gib)])
        #expect(soon.map(\.id) == ["disk-full-soon"] && soon.first?.severity == .warning)
        #expect(soon.first?.title.contains("5.6 hour") == true, "\(soon.first?.title ?? "")")
        // A sample from a moment ago is no growth rate.
        #expect(DiskJudgement().findings(measured(free: 2 * gib, bytes: 2 * gib), at: 10, earlier: [.init(time: 0, zookeeperBytes: gib)]).isEmpty)
    }

    @Test func autopurgeOffIsAWarning() {
        for purge in [nil, 0] as [Int?] {
            #expect(DiskJudgement().findings(measured(free: 50 * gib, purge: purge), at: 0, earlier: []).map(\.id) == ["autopurge-off"])
        }
    }
}
