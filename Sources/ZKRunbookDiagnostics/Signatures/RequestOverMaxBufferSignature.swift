/// "Len error. A message from /127.0.0.1:40312 with advertised length of 1048676 is either a malformed message
/// or too large to process (length is greater than jute.maxbuffer=1048575)" (3.9; "Len error 1048676" before):
/// the server closed a client's connection for a request larger than jute.maxbuffer.
struct RequestOverMaxBufferSignature: LogSignature {
    let info = SignatureInfo(
        id: "request-over-maxbuffer", token: "Len error", severity: .warning, title: "A client sent a request larger than jute.maxbuffer",
        nextRunbook: "collect-diagnostics", timeline: .oversizedPacket)

    func measure(_ line: ArraySlice<UInt8>, into tally: inout SignatureTally) {
        if let length = LineBytes.number(after: "advertised length of ", in: line) ?? LineBytes.number(after: "Len error ", in: line) {
            tally.largest = max(tally.largest ?? length, length)
        }
        if let limit = LineBytes.number(after: "jute.maxbuffer=", in: line) { tally.names["\(limit)", default: 0] += 1 }
    }

    func judge(_ tally: SignatureTally) -> (severity: Finding.Severity, detail: String)? {
        let largest = tally.largest.map { "; the largest was \($0) bytes" } ?? ""
        let limit = tally.names.keys.first.map { " (this server's jute.maxbuffer is \($0))" } ?? ""
        return (
            severity,
            "\(tally.count) connection(s) closed for a request over jute.maxbuffer\(largest)\(limit): the client's write failed with ConnectionLoss; "
                + "keep znodes and multi batches small, or raise -Djute.maxbuffer alike on every server and client"
        )
    }
}
