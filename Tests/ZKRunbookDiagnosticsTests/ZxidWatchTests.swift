import Foundation
import ZKRunbookTestSupport
import Testing
import ZKRunbookZooKeeper
import ZKRunbookZooKeeperActions

@testable import ZKRunbookDiagnostics

/// The rollover arithmetic on synthetic samples whose answer is known.
struct ZxidWatchTests {
    @Test func aThousandWritesASecondNearTheTopLeaveAKnownETA() {
        // 294,867,295 transactions left at 1,000/s: 294,867.295 s, about 3.4 days.
        let first = Zxid(epoch: 7, counter: 4_000_000_000)
        let second = Zxid(epoch: 7, counter: 4_000_100_000)
        let week = ZxidWatchAssessment.assess(first: first, second: second, seconds: 100, warnBelow: 7 * 86_400)
        #expect(week.remaining == 294_867_295)
        #expect(week.ratePerSecond == 1000)
        #expect(week.etaSeconds == 294_867.295)
        #expect(!week.etaOK, "3.4 days is within a week")
        #expect(ZxidWatchAssessment.describe(week.etaSeconds!) == "3.4 days")
        #expect(week.facts["etaSeconds"] == .int(294_867))
        let day = ZxidWatchAssessment.assess(first: first, second: second, seconds: 100, warnBelow: 86_400)
        #expect(day.etaOK, "3.4 days is beyond one day")
    }

    @Test func aQuietEnsembleHasNoRolloverInSight() {
        let zxid = Zxid(epoch: 1, counter: 12)
        let quiet = ZxidWatchAssessment.assess(first: zxid, second: zxid, seconds: 60, warnBelow: 1e12)
        #expect(quiet.etaSeconds == nil)
        #expect(quiet.etaOK)
        #expect(quiet.facts["etaSeconds"] == .int(-1))
    }

    @Test func aNewEpochBetweenTheSamplesIsAResetNotARate() {
        let before = Zxid(epoch: 3, counter: 4_294_000_000)
        let after = Zxid(epoch: 4, counter: 5)
        let reset = ZxidWatchAssessment.assess(first: before, second: after, seconds: 10, warnBelow: 86_400)
        #expect(reset.epochChanged)
        #expect(reset.etaSeconds == nil && reset.etaOK)
        #expect(reset.counter == 5 && reset.epoch == 4)
    }

    @Test func theLastTransactionsAreMinutesAway() {
        let first = Zxid(epoch: 9, counter: UInt32.max - 60_000)
        let second = Zxid(epoch: 9, counter: UInt32.max - 30_000)
        let close = ZxidWatchAssessment.assess(first: first, second: second, seconds: 30, warnBelow: 3600)
        #expect(close.etaSeconds == 30)
        #expect(ZxidWatchAssessment.describe(30) == "1 minute")
        #expect(ZxidWatchAssessment.describe(3000) == "50 minutes")
        #expect(!close.etaOK)
    }
}
