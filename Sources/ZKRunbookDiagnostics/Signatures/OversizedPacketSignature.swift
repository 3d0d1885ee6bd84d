/// "Unreasonable length = 1048583": a packet or znode past jute.maxbuffer (1 MiB by default). A client's
/// request is refused, or, read from the transaction log or a snapshot, the server cannot load its data.
struct OversizedPacketSignature: LogSignature {
    let info = SignatureInfo(
        id: "jute-maxbuffer", token: "Unreasonable length = ", severity: .warning, title: "A packet or znode exceeded jute.maxbuffer",
        nextRunbook: "collect-diagnostics",
        largestNumberAfter: "Unreasonable length = ", timeline: .oversizedPacket)

    func judge(_ tally: SignatureTally) -> (severity: Finding.Severity, detail: String)? {
        let largest = tally.largest.map { "; the largest was \($0) bytes (jute.maxbuffer defaults to 1048575)" } ?? ""
        return (
            severity,
            "\(tally.count) line(s)\(largest): set -Djute.maxbuffer alike on every server and client, or find the znode that grew"
        )
    }
}
