/// "LEADING - LEADER ELECTION TOOK - 243 MS": how many elections, and the longest; a long one is an outage.
struct LeaderElectionSignature: LogSignature {
    let info = SignatureInfo(
        id: "leader-election", token: "LEADER ELECTION TOOK", severity: .info, title: "Leader elections", nextRunbook: "health-check",
        largestNumberAfter: "TOOK - ")

    func judge(_ tally: SignatureTally) -> (severity: Finding.Severity, detail: String)? {
        guard let longest = tally.largest else { return (severity, "\(tally.count) line(s)") }
        let judged: Finding.Severity = longest > 10_000 ? .critical : longest > 2_000 ? .warning : severity
        return (judged, "\(tally.count) election(s); the longest took \(longest) ms")
    }
}
