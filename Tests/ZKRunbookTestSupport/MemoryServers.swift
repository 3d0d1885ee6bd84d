import Foundation
import ZKRunbookZooKeeper

/// ZooKeeper servers in memory behind the connection seam: each answers a request by its first four bytes
/// (a four-letter word, or "GET " for the AdminServer) with a reply set per port, and records what it was
/// asked. Replies come from the test, captured from real servers.
public final class MemoryServers: ServerConnector, @unchecked Sendable {
    private let lock = NSLock()
    private var replies: [Int: [String: String]]
    private var log: [String] = []

    public init(_ replies: [Int: [String: String]]) { self.replies = replies }

    public var isPlaintext: Bool { false }

    /// What each port answers from now on (a server that stopped: nil).
    public func set(_ port: Int, _ words: [String: String]?) { lock.withLock { replies[port] = words } }

    /// "PORT WORD" for every request so far.
    public var asked: [String] { lock.withLock { log } }

    public func connect(_ endpoint: Endpoint, timeout: Double) -> Result<any ServerConnection, ZooKeeperError> {
        guard let words = lock.withLock({ replies[endpoint.port] }) else { return .failure(.connectionRefused(endpoint: endpoint.description)) }
        return .success(Connection(endpoint: endpoint, words: words, servers: self))
    }

    func record(_ text: String) { lock.withLock { log.append(text) } }

    final class Connection: ServerConnection {
        let endpoint: Endpoint
        let words: [String: String]
        let servers: MemoryServers
        var pending: [UInt8] = []

        init(endpoint: Endpoint, words: [String: String], servers: MemoryServers) { (self.endpoint, self.words, self.servers) = (endpoint, words, servers) }

        func send(_ bytes: UnsafeRawBufferPointer, until deadline: Date) -> Result<Void, ConnectionFailure> {
            let word = String(decoding: bytes.prefix(4), as: UTF8.self)
            servers.record("\(endpoint.port) \(word)")
            pending = Array((words[word] ?? "").utf8)
            return .success(())
        }

        func receive(into buffer: UnsafeMutableRawBufferPointer, until deadline: Date) -> Result<Int, ConnectionFailure> {
            let count = min(buffer.count, pending.count)
            pending.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[..<count])) }
            pending.removeFirst(count)
            return .success(count)
        }

        func shutdownWrite() {}
        func close() {}
    }
}
