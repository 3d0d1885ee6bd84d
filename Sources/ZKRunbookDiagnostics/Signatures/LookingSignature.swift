/// "… QuorumPeer@910] - LOOKING": the server begins electing (every release from 3.4 to 3.9 logs this line as
/// its peer loop enters the election). The election's true length runs from here to "LEADER ELECTION TOOK",
/// whose own figure can understate it (ZOOKEEPER-3479) or count from a clock never set for it.
struct LookingSignature: LogSignature {
    let info = SignatureInfo(id: "looking", token: " - LOOKING", severity: .info, title: "Began electing", nextRunbook: nil, timeline: .looking)

    /// Only the line that is the bare word: "LOOKING (my state)" in an election's notifications is not a start.
    func marks(_ line: ArraySlice<UInt8>) -> [TimelineMark] {
        guard var end = LineBytes.end(of: " - LOOKING", in: line) else { return [] }
        while end < line.endIndex, line[end] == 0x0D || line[end] == 0x20 { end += 1 }
        return end == line.endIndex ? [TimelineMark(kind: .looking, detail: "LOOKING: began electing")] : []
    }

    /// Measured into the elections (DoctorReport.measureElectionsFromLooking); no finding of its own.
    func judge(_ tally: SignatureTally) -> (severity: Finding.Severity, detail: String)? { nil }
}
