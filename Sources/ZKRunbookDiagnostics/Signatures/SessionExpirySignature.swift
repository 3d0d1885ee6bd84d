import Foundation
import ZKRunbookEngine

/// "Expiring session 0x…, timeout of 4000ms exceeded": ordinary one by one; many within one second means clients
/// were cut off together (a network cut, a pause, a client process that died with its sessions). Judged by rate:
/// a hundred over a month is ordinary, sixty in a second is not.
struct SessionExpirySignature: LogSignature {
    let info = SignatureInfo(
        id: "session-expiry", token: "Expiring session", severity: .info, title: "Sessions expired", nextRunbook: nil, timeline: .sessionExpiry)

    /// This many in one second is a burst.
    static let burstPerSecond = 20

    // The span and the busiest second are counted by the scanner from each line's time, read once for the timeline.

    func judge(_ tally: SignatureTally) -> (severity: Finding.Severity, detail: String)? {
        let span = tally.firstMs.flatMap { first in tally.lastMs.map { $0 - first } }
        let over = span.map { " over \(Self.describe(milliseconds: $0))" } ?? ""
        if tally.peak.count >= Self.burstPerSecond {
            return (
                .warning,
                "\(tally.count) session(s) expired\(over), \(tally.peak.count) of them within one second (\(Event.timestamp(Date(timeIntervalSince1970: Double(tally.peak.start) / 1000)))): "
                    + "clients cut off together (a network cut, a pause of the server or the clients' host, or a client process that died with its sessions); their ephemeral znodes went with them"
            )
        }
        return (
            severity,
            "\(tally.count) session(s) expired\(over), at most \(tally.peak.count) in any one second: ordinary, each client stopped reaching the ensemble for longer than its session timeout (a pause, a network cut, or a client that left without closing); its ephemeral znodes and watches went with it"
        )
    }

    static func describe(milliseconds: Int64) -> String {
        switch milliseconds {
        case ..<2_000: return "\(milliseconds) ms"
        case ..<120_000: return "\(milliseconds / 1000) s"
        case ..<7_200_000: return "\(milliseconds / 60_000) min"
        case ..<172_800_000: return "\(milliseconds / 3_600_000) h"
        default: return "\(milliseconds / 86_400_000) days"
        }
    }
}
