import Foundation

/// One open connection to a ZooKeeper server (a client port, an AdminServer), whatever carries the bytes.
///
/// Every socket zkrunbook opens to a server is one of these, so a transport is added once: plaintext TCP is
/// the first (`PlaintextConnection`); TLS is a second conforming type, and the four-letter words, the
/// AdminServer, the client protocol and the snapshot download all speak through it unchanged.
public protocol ServerConnection: AnyObject {
    var endpoint: Endpoint { get }
    /// Sends every byte by `deadline`.
    func send(_ bytes: UnsafeRawBufferPointer, until deadline: Date) -> Result<Void, ConnectionFailure>
    /// Reads what has arrived, up to `buffer.count` bytes, waiting until `deadline`; 0 when the peer closed.
    func receive(into buffer: UnsafeMutableRawBufferPointer, until deadline: Date) -> Result<Int, ConnectionFailure>
    /// No more requests: the peer sees the end of them (what a 4lw server waits for on some versions).
    func shutdownWrite()
    func close()
}

extension ServerConnection {
    public func send(_ bytes: [UInt8], until deadline: Date) -> Result<Void, ConnectionFailure> {
        bytes.withUnsafeBytes { send($0, until: deadline) }
    }
}

/// How a send or a receive failed, for the caller to say in its own words (`ZooKeeperError`, the client's).
public enum ConnectionFailure: Error, Sendable, Equatable, CustomStringConvertible {
    case timedOut
    /// The peer reset the connection.
    case reset
    case failed(String)
    /// A TLS session ended by the server's alert (TLS 1.3 sends a refused client certificate's after the
    /// client's handshake finished, so it is met on the first read).
    case tls(TLSFailure, String)

    public var description: String {
        switch self {
        case .timedOut: return "timed out"
        case .reset: return "connection reset by peer"
        case .failed(let reason): return reason
        case .tls(let failure, let detail): return "TLS: \(failure.headline): \(detail); \(failure.fix)"
        }
    }
}

/// Opens connections to servers: the seam a test double or another transport stands in for.
public protocol ServerConnector: Sendable {
    func connect(_ endpoint: Endpoint, timeout: Double) -> Result<any ServerConnection, ZooKeeperError>
    /// True when connections are bare TCP sockets, which `SocketClient.exchangeAll` may poll all at once.
    var isPlaintext: Bool { get }
    /// True when a connection to `endpoint` is made over TLS.
    func usesTLS(for endpoint: Endpoint) -> Bool
    /// The certificate `endpoint` showed at its last handshake through this connector (nil: none yet, or plaintext).
    func peerCertificate(of endpoint: Endpoint) -> PeerCertificate?
}

extension ServerConnector {
    public func usesTLS(for endpoint: Endpoint) -> Bool { !isPlaintext }
    public func peerCertificate(of endpoint: Endpoint) -> PeerCertificate? { nil }
}

/// A server's certificate as a handshake showed it.
public struct PeerCertificate: Sendable, Codable, Hashable {
    public var notAfter: Date?
    /// Hex, as `openssl x509 -serial` prints it.
    public var serial: String?

    public init(notAfter: Date?, serial: String?) { (self.notAfter, self.serial) = (notAfter, serial) }

    /// Whole days until `notAfter` (negative once expired).
    public func daysLeft(at now: Date = Date()) -> Int? { notAfter.map { Int(($0.timeIntervalSince(now) / 86_400).rounded(.down)) } }
}

/// TCP, no encryption: ZooKeeper's default client port and AdminServer.
public struct PlaintextConnector: ServerConnector {
    public init() {}

    public var isPlaintext: Bool { true }

    public func connect(_ endpoint: Endpoint, timeout: Double) -> Result<any ServerConnection, ZooKeeperError> {
        SocketClient.connect(endpoint, timeout: timeout).map { PlaintextConnection(fd: $0, endpoint: endpoint) }
    }
}

/// A connected non-blocking TCP socket.
public final class PlaintextConnection: ServerConnection {
    public let endpoint: Endpoint
    private var fd: Int32

    /// Takes ownership of `fd` (closed by `close` or when released).
    public init(fd: Int32, endpoint: Endpoint) { (self.fd, self.endpoint) = (fd, endpoint) }

    deinit { close() }

    public func send(_ bytes: UnsafeRawBufferPointer, until deadline: Date) -> Result<Void, ConnectionFailure> {
        var sent = 0
        while sent < bytes.count {
            let written = Glibc.send(fd, bytes.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL))
            if written < 0 {
                if errno == EINTR || errno == EAGAIN {
                    if !SocketClient.waitFor(fd, events: Int16(POLLOUT), until: deadline) { return .failure(.timedOut) }
                    continue
                }
                return .failure(errno == ECONNRESET || errno == EPIPE ? .reset : .failed("send failed: \(String(cString: strerror(errno)))"))
            }
            sent += written
        }
        return .success(())
    }

    public func receive(into buffer: UnsafeMutableRawBufferPointer, until deadline: Date) -> Result<Int, ConnectionFailure> {
        while true {
            guard SocketClient.waitFor(fd, events: Int16(POLLIN), until: deadline) else { return .failure(.timedOut) }
            let count = recv(fd, buffer.baseAddress, buffer.count, 0)
            if count >= 0 { return .success(count) }
            if errno == EINTR || errno == EAGAIN { continue }
            return .failure(errno == ECONNRESET ? .reset : .failed("read failed: \(String(cString: strerror(errno)))"))
        }
    }

    public func shutdownWrite() { if fd >= 0 { shutdown(fd, Int32(SHUT_WR)) } }

    public func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }
}
