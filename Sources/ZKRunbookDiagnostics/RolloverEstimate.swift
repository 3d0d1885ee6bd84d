import CZKRunbookBytes
import Foundation
import ZKRunbookEngine
import ZKRunbookZooKeeper
import ZKRunbookZooKeeperActions

/// The zxid counter's growth and when its low 32 bits roll over (forcing an election).
public enum RolloverEstimate {
    public struct Sample: Codable, Sendable, Hashable {
        public var time: Date
        public var zxid: Zxid
        /// The server's packets-received counter and uptime, to tell a restart from a counter reset.
        public var received: Int64?
        public var uptimeMs: Int64?
        public init(time: Date, zxid: Zxid, received: Int64? = nil, uptimeMs: Int64? = nil) {
            (self.time, self.zxid, self.received, self.uptimeMs) = (time, zxid, received, uptimeMs)
        }
    }

    /// Seconds until the counter reaches 0xffffffff at the rate between two samples of the same epoch;
    /// nil when they are of different epochs or the counter did not grow.
    public static func secondsToRollover(_ first: Sample, _ second: Sample) -> Double? {
        ZxidWatchAssessment.assess(first: first.zxid, second: second.zxid, seconds: second.time.timeIntervalSince(first.time), warnBelow: 0).etaSeconds
    }

    public static func describe(_ seconds: Double) -> String {
        let days = seconds / 86_400
        return days >= 1 ? String(format: "%.1f days", days) : String(format: "%.1f hours", seconds / 3600)
    }
}
