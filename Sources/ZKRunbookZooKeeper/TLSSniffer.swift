import Foundation

/// Whether a port that said nothing to a plaintext word speaks TLS: it answers a TLS ClientHello with a
/// TLS record (a ServerHello, or an alert). Seen, not guessed: a secure client port waits silently for a
/// handshake, which a plaintext client would otherwise report as a server that does not answer.
public enum TLSSniffer {
    /// A TLS record's head (content type 0x15 alert or 0x16 handshake, then version 0x03xx) read as the 4-byte
    /// length a ZooKeeper packet starts with: what a server logs as "Len error 369295616" when a TLS client (this
    /// sniffer among them) speaks to a plaintext port.
    public static func isRecordHead(asLength length: Int) -> Bool { length >> 16 == 0x1603 || length >> 16 == 0x1503 }

    /// A minimal TLS 1.2 ClientHello: two ECDHE/RSA suites, no extensions. A server that cannot agree
    /// still answers it, with a handshake-failure alert, which is enough.
    static let clientHello: [UInt8] = {
        let body: [UInt8] = [0x03, 0x03] + (0..<32).map { _ in UInt8.random(in: 0...255) } + [0x00, 0x00, 0x04, 0xC0, 0x2F, 0x00, 0x9C, 0x01, 0x00]
        let handshake: [UInt8] = [0x01, 0x00, UInt8(body.count >> 8), UInt8(body.count & 0xFF)] + body
        return [0x16, 0x03, 0x01, UInt8(handshake.count >> 8), UInt8(handshake.count & 0xFF)] + handshake
    }()

    /// True when `endpoint` answers a ClientHello with a TLS record (content type 21 or 22, version 3.x).
    public static func speaksTLS(_ endpoint: Endpoint, timeout: Double) -> Bool {
        guard case .success(let connection) = PlaintextConnector().connect(endpoint, timeout: timeout) else { return false }
        defer { connection.close() }
        let deadline = Date().addingTimeInterval(timeout)
        guard case .success = connection.send(clientHello, until: deadline) else { return false }
        var head = [UInt8](repeating: 0, count: 2)
        var received = 0
        while received < 2 {
            let count = head.withUnsafeMutableBytes { buffer in
                connection.receive(into: UnsafeMutableRawBufferPointer(rebasing: buffer[received...]), until: deadline)
            }
            guard case .success(let read) = count, read > 0 else { return false }
            received += read
        }
        return (head[0] == 0x15 || head[0] == 0x16) && head[1] == 0x03
    }
}
