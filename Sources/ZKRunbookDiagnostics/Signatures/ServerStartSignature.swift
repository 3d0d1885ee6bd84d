/// "Starting quorum peer" (3.5+: ", myid=N"): written once as a server process of an ensemble starts; more
/// than one in a log is a restart, told apart from a counter reset (which writes none) and from an election.
/// Not "Server environment:": 3.4 writes that each time it builds a server after an election (seen on a
/// real 3.4.14: one per election, and elections read as restarts).
struct ServerStartSignature: LogSignature {
    let info = SignatureInfo(
        id: "server-start", token: "Starting quorum peer", severity: .info, title: "The server process started", nextRunbook: nil, timeline: .start)

    func marks(_ line: ArraySlice<UInt8>) -> [TimelineMark] {
        [TimelineMark(kind: .start, detail: "process started (an ensemble's server)")]
    }

    func judge(_ tally: SignatureTally) -> (severity: Finding.Severity, detail: String)? {
        tally.count > 1 ? (severity, "\(tally.count) starts: \(tally.count - 1) restart(s)") : nil
    }
}

/// "Starting server": a standalone server's process starting (ZooKeeperServerMain, 3.4 to 3.9), the line
/// ending there (log4j's and logback's layouts) or at Kafka's " (logger)".
struct StandaloneStartSignature: LogSignature {
    let info = SignatureInfo(
        id: "standalone-start", token: "Starting server", severity: .info, title: "The standalone server process started", nextRunbook: nil,
        timeline: .start)

    static func isStart(_ line: ArraySlice<UInt8>) -> Bool {
        guard let end = LineBytes.end(of: "Starting server", in: line) else { return false }
        return end == line.endIndex || line[end] == 0x0D || (line[end] == 0x20 && end + 1 < line.endIndex && line[end + 1] == 0x28)
    }

    func measure(_ line: ArraySlice<UInt8>, into tally: inout SignatureTally) {
        if Self.isStart(line) { tally.names["start", default: 0] += 1 }
    }

    func marks(_ line: ArraySlice<UInt8>) -> [TimelineMark] {
        Self.isStart(line) ? [TimelineMark(kind: .start, detail: "process started (standalone)")] : []
    }

    func judge(_ tally: SignatureTally) -> (severity: Finding.Severity, detail: String)? {
        let starts = tally.names["start"] ?? 0
        return starts > 1 ? (severity, "\(starts) starts: \(starts - 1) restart(s)") : nil
    }
}
