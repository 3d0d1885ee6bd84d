/// "Expiring session 0x…": ordinary one by one; a burst means clients were cut off, or the server paused.
struct SessionExpirySignature: LogSignature {
    let info = SignatureInfo(
        id: "session-expiry", token: "Expiring session", severity: .info, title: "Sessions expired", nextRunbook: nil, timeline: .sessionExpiry)

    func judge(_ tally: SignatureTally) -> (severity: Finding.Severity, detail: String)? {
        guard tally.count >= 100 else {
            return (
                severity,
                "\(tally.count) session(s) expired: each client stopped reaching the ensemble for longer than its session timeout (a pause, a network cut, or a client that left without closing); its ephemeral znodes and watches went with it"
            )
        }
        return (.warning, "\(tally.count) sessions expired: a burst (clients cut off, or a long pause)")
    }
}
