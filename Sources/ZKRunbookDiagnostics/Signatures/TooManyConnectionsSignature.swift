/// "Too many connections from /10.0.0.5 - max is 60": a client over maxClientCnxns, named with how often. 3.8
/// collapses repeats ("[33 times] Message: Error accepting new connection: Too many connections from …"): such a
/// line counts as its number of refusals, not one.
struct TooManyConnectionsSignature: LogSignature {
    let info = SignatureInfo(
        id: "too-many-connections", token: "Too many connections from", severity: .warning, title: "A client hit maxClientCnxns", nextRunbook: nil,
        timeline: .tooManyConnections)

    func measure(_ line: ArraySlice<UInt8>, into tally: inout SignatureTally) {
        if let client = LineBytes.word(after: "Too many connections from ", in: line), tally.names.count < 1000 || tally.names[client] != nil {
            tally.names[client, default: 0] += LineBytes.repeats(in: line)
        }
        if let limit = LineBytes.number(after: "max is ", in: line) { tally.largest = limit }
    }

    func judge(_ tally: SignatureTally) -> (severity: Finding.Severity, detail: String)? {
        let clients = tally.names.sorted { ($0.value, $1.key) > ($1.value, $0.key) }
        guard !clients.isEmpty else { return (severity, "\(tally.count) line(s)") }
        let top = clients.prefix(3).map { "\($0.key) (\($0.value))" }.joined(separator: ", ")
        let refused = clients.map(\.value).reduce(0, +)
        return (
            severity,
            "\(refused) refused connection(s)" + (refused == tally.count ? "" : " (in \(tally.count) line(s))")
                + " from \(clients.count) client(s), most from \(top)"
                + (tally.largest.map { "; maxClientCnxns is \($0): raise it in zoo.cfg or fix the client's connection leak" } ?? "")
        )
    }
}
