import Foundation
import ZKRunbookZooKeeper

extension DoctorReport {
    /// The servers whose TLS certificate, as their handshake showed it, stops being valid within 30 days
    /// (a warning) or 7 days (critical, as is one already expired).
    static func certificateFindings(_ view: EnsembleView, now: Date = Date()) -> [Finding] {
        let dated = view.members.compactMap { status -> (EnsembleView.MemberStatus, Int)? in
            status.facts.certificate?.daysLeft(at: now).map { (status, $0) }
        }
        let soon = dated.filter { $0.1 < 30 }.sorted { $0.1 < $1.1 }
        guard let first = soon.first else { return [] }
        let format = ISO8601DateFormatter()
        format.formatOptions = [.withFullDate]
        let evidence = soon.map { status, days in
            let until = status.facts.certificate?.notAfter.map { format.string(from: $0) } ?? "?"
            let serial = status.facts.certificate?.serial ?? "?"
            return "server \(status.member.id) (\(status.member.endpoint)): valid until \(until), "
                + (days < 0 ? "expired \(-days) day(s) ago" : "\(days) day(s) left") + ", serial \(serial)"
        }
        return [
            Finding(
                id: "certificate-expiry", severity: first.1 < 7 ? .critical : .warning,
                title: first.1 < 0 ? "A server's TLS certificate has expired" : "TLS certificates expire soon",
                detail:
                    "\(soon.count) server(s) show a certificate valid for less than 30 days; the first ends in \(max(first.1, 0)) day(s). Renew them, put the files in place and restart the servers one by one: TLS clients and, with quorum TLS, the other servers refuse an expired one",
                count: soon.count, evidence: evidence, nextRunbook: "rolling-restart")
        ]
    }
}
