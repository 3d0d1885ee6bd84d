import ZKRunbookZooKeeper

/// "Len error. A message from /127.0.0.1:40312 with advertised length of 1048676 is either a malformed message
/// or too large to process (length is greater than jute.maxbuffer=1048575)" (3.9; "Len error 1048676" before):
/// the server closed a client's connection for a request larger than jute.maxbuffer. A length of 0x1503….. or
/// 0x1603….. is no request at all: it is the head of a TLS record (a handshake, an alert) sent to this
/// plaintext port, said as such and never as a size to raise jute.maxbuffer for.
struct RequestOverMaxBufferSignature: LogSignature {
    let info = SignatureInfo(
        id: "request-over-maxbuffer", token: "Len error", severity: .warning, title: "A client sent a request larger than jute.maxbuffer",
        nextRunbook: "collect-diagnostics", timeline: .oversizedPacket)

    func measure(_ line: ArraySlice<UInt8>, into tally: inout SignatureTally) {
        if let length = LineBytes.number(after: "advertised length of ", in: line) ?? LineBytes.number(after: "Len error ", in: line) {
            if TLSSniffer.isRecordHead(asLength: length) {
                tally.names[Self.tlsKey, default: 0] += 1
            } else if ForeignProtocolSignature.text(of: length) != nil {
                // Text where a length belongs: another protocol's client (foreign-protocol), never a size to allow.
                tally.names[Self.textKey, default: 0] += 1
            } else {
                tally.largest = max(tally.largest ?? length, length)
            }
        }
        if let limit = LineBytes.number(after: "jute.maxbuffer=", in: line) { tally.names["\(limit)", default: 0] += 1 }
    }

    /// On the timeline too, a TLS record is no oversized request: not drawn.
    func marks(_ line: ArraySlice<UInt8>) -> [TimelineMark] {
        let length = LineBytes.number(after: "advertised length of ", in: line) ?? LineBytes.number(after: "Len error ", in: line)
        if let length, TLSSniffer.isRecordHead(asLength: length) || ForeignProtocolSignature.text(of: length) != nil { return [] }
        return [TimelineMark(kind: .oversizedPacket, detail: info.title)]
    }

    static let tlsKey = "tls-record"
    static let textKey = "text"

    /// The first four bytes of a TLS record read as a length: content type 21 (alert) or 22 (handshake), version 3.x.

    func judge(_ tally: SignatureTally) -> (severity: Finding.Severity, detail: String)? {
        let requests = tally.count - (tally.names[Self.tlsKey] ?? 0) - (tally.names[Self.textKey] ?? 0)
        guard requests > 0 else { return nil }
        let largest = tally.largest.map { "; the largest was \($0) bytes" } ?? ""
        let limit = tally.names.keys.first { $0 != Self.tlsKey && $0 != Self.textKey }.map { " (this server's jute.maxbuffer is \($0))" } ?? ""
        return (
            severity,
            "\(requests) connection(s) closed for a request over jute.maxbuffer\(largest)\(limit): the client's write failed with ConnectionLoss; "
                + "keep znodes and multi batches small, or raise -Djute.maxbuffer alike on every server and client"
        )
    }
}
