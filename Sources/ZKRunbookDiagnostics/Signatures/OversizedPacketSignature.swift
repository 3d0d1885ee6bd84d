/// "Unreasonable length = 1048583": a packet or znode past jute.maxbuffer (1 MiB by default). A client's
/// request is refused, or, read from the transaction log or a snapshot, the server cannot load its data.
struct OversizedPacketSignature: LogSignature {
    let info = SignatureInfo(
        id: "jute-maxbuffer", token: "Unreasonable length = ", severity: .warning, title: "A packet or znode exceeded jute.maxbuffer",
        nextRunbook: "collect-diagnostics",
        timeline: .oversizedPacket, notAfter: StartFailureSignatures.snapshotMarker)

    static let marker = "Unreasonable length = "

    /// Text where a length belongs is another protocol's bytes (foreign-protocol-payload), not a large packet.
    func measure(_ line: ArraySlice<UInt8>, into tally: inout SignatureTally) {
        guard let length = LineBytes.number(after: Self.marker, in: line) else { return }
        if ForeignProtocolSignature.text(of: length) != nil {
            tally.names["text", default: 0] += 1
        } else {
            tally.largest = max(tally.largest ?? length, length)
        }
    }

    func marks(_ line: ArraySlice<UInt8>) -> [TimelineMark] {
        let length = LineBytes.number(after: Self.marker, in: line)
        if let length, ForeignProtocolSignature.text(of: length) != nil { return [] }
        return [TimelineMark(kind: .oversizedPacket, detail: info.title + (length.map { " (\($0))" } ?? ""))]
    }

    func judge(_ tally: SignatureTally) -> (severity: Finding.Severity, detail: String)? {
        let packets = tally.count - (tally.names["text"] ?? 0)
        guard packets > 0 else { return nil }
        let largest = tally.largest.map { "; the largest was \($0) bytes (jute.maxbuffer defaults to 1048575)" } ?? ""
        return (
            severity,
            "\(packets) line(s)\(largest): set -Djute.maxbuffer alike on every server and client, or find the znode that grew"
        )
    }
}
