import ZKRunbookZooKeeper

/// The "Len error" line of a message whose advertised length is the head of a TLS handshake record (0x1603…,
/// 369295616 to 369361151): a client spoke TLS to this plaintext client port. Not a request over
/// jute.maxbuffer (that signature, on the same token, leaves these lines out). NIO words it "advertised length of
/// 369295617", Netty "Len error 369295617".
struct TLSOnPlaintextPortSignature: LogSignature {
    let info = SignatureInfo(
        id: "tls-on-plaintext-port", token: "Len error", severity: .info, title: "A client spoke TLS to a plaintext client port",
        nextRunbook: nil)

    func measure(_ line: ArraySlice<UInt8>, into tally: inout SignatureTally) {
        guard let length = LineBytes.number(after: "advertised length of ", in: line) ?? LineBytes.number(after: "Len error ", in: line),
            TLSSniffer.isRecordHead(asLength: length)
        else { return }
        tally.names[RequestOverMaxBufferSignature.tlsKey, default: 0] += 1
    }

    func judge(_ tally: SignatureTally) -> (severity: Finding.Severity, detail: String)? {
        guard let records = tally.names[RequestOverMaxBufferSignature.tlsKey] else { return nil }
        return (
            severity,
            "\(records) connection(s) opened with a TLS record on this plaintext port (its first bytes read as a length of 0x1603…): a TLS client, "
                + "or zkrunbook asking whether a port that did not answer speaks TLS; point TLS clients at the secureClientPort"
        )
    }
}
