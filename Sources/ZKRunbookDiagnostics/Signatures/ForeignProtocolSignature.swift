/// A "Len error" or "Unreasonable length = N" whose N, read back as its four bytes, is printable text: no
/// request size at all, but another protocol's bytes where ZooKeeper expects a length. 1195725856 is "GET " (an
/// HTTP client, a load balancer's or a monitor's health check on the client port); 1633904741 is "ache", from
/// "apache-kafka-java", a Kafka client's id (a Kafka client pointed at ZooKeeper's port). Raising jute.maxbuffer
/// for these is the wrong fix: the request-over-maxbuffer and jute-maxbuffer signatures leave them out, and this
/// one names the text and the client's address where the line has it (3.8+: "A message from /ADDR:PORT").
struct ForeignProtocolSignature: LogSignature {
    let info: SignatureInfo
    /// The text the length follows on this signature's lines.
    let lengthMarkers: [String]

    /// On "Len error" lines (the length prefix of a request).
    static let request = ForeignProtocolSignature(
        info: SignatureInfo(
            id: "foreign-protocol", token: "Len error", severity: .warning, title: "Another protocol's client spoke to the client port",
            nextRunbook: nil),
        lengthMarkers: ["advertised length of ", "Len error "])

    /// On "Unreasonable length = " lines (a length inside a request's body, read from another protocol's bytes).
    static let payload = ForeignProtocolSignature(
        info: SignatureInfo(
            id: "foreign-protocol-payload", token: "Unreasonable length = ", severity: .warning,
            title: "Another protocol's bytes were read as a ZooKeeper request", nextRunbook: nil, notAfter: StartFailureSignatures.snapshotMarker),
        lengthMarkers: ["Unreasonable length = "])

    static func length(in line: ArraySlice<UInt8>, after markers: [String]) -> Int? {
        for marker in markers { if let number = LineBytes.number(after: marker, in: line) { return number } }
        return nil
    }

    /// The four bytes of `length`, when each is printable ASCII (a space to a tilde): text, not a size.
    static func text(of length: Int) -> String? {
        guard length >= 0x2020_2020, length <= 0x7E7E_7E7E else { return nil }
        let bytes = (0..<4).map { UInt8((length >> (8 * (3 - $0))) & 0xFF) }
        guard bytes.allSatisfy({ (0x20...0x7E).contains($0) }) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    func measure(_ line: ArraySlice<UInt8>, into tally: inout SignatureTally) {
        guard let length = Self.length(in: line, after: lengthMarkers), let text = Self.text(of: length) else { return }
        tally.names["text:" + text, default: 0] += 1
        if let client = LineBytes.word(after: "A message from /", in: line) { tally.names["from:" + client, default: 0] += 1 }
    }

    func marks(_ line: ArraySlice<UInt8>) -> [TimelineMark] { [] }

    /// What the text says of the client that sent it.
    static func describe(_ text: String) -> String {
        switch text {
        case "GET ", "POST", "HEAD", "PUT ", "OPTI", "DELE", "PATC", "CONN": return "\"\(text)\": an HTTP client (a health check, a load balancer, a browser)"
        case "SSH-": return "\"\(text)\": an ssh client"
        case "ache", "apac", "-kaf", "kafk", "rodu", "prod", "cons", "onsu": return "\"\(text)\": a Kafka client (its client id as text)"
        default: return "\"\(text)\": text of another protocol"
        }
    }

    func judge(_ tally: SignatureTally) -> (severity: Finding.Severity, detail: String)? {
        let texts = tally.names.filter { $0.key.hasPrefix("text:") }.sorted { $0.value > $1.value }
        guard !texts.isEmpty else { return nil }
        let count = texts.map(\.value).reduce(0, +)
        let what = texts.prefix(4).map { "\(Self.describe(String($0.key.dropFirst(5)))) \($0.value) time(s)" }.joined(separator: "; ")
        let clients = tally.names.filter { $0.key.hasPrefix("from:") }.sorted { $0.value > $1.value }.prefix(5).map { String($0.key.dropFirst(5)) }
        return (
            severity,
            "\(count) connection(s) whose bytes, read as a length, are text — \(what)"
                + (clients.isEmpty ? "" : "; from \(clients.joined(separator: ", "))")
                + ": a client of another protocol on the client port, not a large request. Point it at the right port "
                + "(an HTTP health check: the AdminServer's /commands/ruok, or the four-letter word ruok); do not raise jute.maxbuffer for these"
        )
    }
}
