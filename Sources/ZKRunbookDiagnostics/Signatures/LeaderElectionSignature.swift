/// "LEADING - LEADER ELECTION TOOK - 243 MS": how many elections, and the longest; a long one is an outage.
struct LeaderElectionSignature: LogSignature {
    let info = SignatureInfo(
        id: "leader-election", token: "LEADER ELECTION TOOK", severity: .info, title: "Leader elections", nextRunbook: "health-check",
        largestNumberAfter: "TOOK - ", timeline: .election)

    /// An election ends with the role it gave ("FOLLOWING - LEADER ELECTION TOOK - 344 MS"); the server was
    /// not serving for that long before the line.
    func marks(_ line: ArraySlice<UInt8>) -> [TimelineMark] {
        let took = LineBytes.number(after: "TOOK - ", in: line).map(Int64.init)
        let role = ["LEADING", "FOLLOWING", "OBSERVING"].first { LineBytes.end(of: $0 + " - LEADER ELECTION", in: line) != nil }
        var marks = [
            TimelineMark(kind: .election, detail: "election took \(took.map(String.init) ?? "?") ms" + (role.map { ", then \($0)" } ?? ""), durationMs: took)
        ]
        if role == "LEADING" { marks.append(TimelineMark(kind: .leaderChange, detail: "became the leader")) }
        return marks
    }

    func judge(_ tally: SignatureTally) -> (severity: Finding.Severity, detail: String)? {
        guard let longest = tally.largest else { return (severity, "\(tally.count) line(s)") }
        let judged: Finding.Severity = longest > 10_000 ? .critical : longest > 2_000 ? .warning : severity
        return (judged, "\(tally.count) election(s); the longest took \(longest) ms")
    }
}
