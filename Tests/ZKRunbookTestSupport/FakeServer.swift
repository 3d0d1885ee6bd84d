import Foundation
import ZKRunbookZooKeeper

/// A fake TCP server (four-letter words, the client protocol) for what a real ZooKeeper cannot be made to do: hang, babble, flood, cut, garble.
public final class FakeServer: @unchecked Sendable {
    public enum Behaviour: Sendable {
        case silent
        case endless
        case reply(Data)
        /// A reply chosen by the request's first four bytes (a four-letter word), each word recorded in `words`.
        case answer(@Sendable (String) -> Data)
        /// The request read, then the connection reset (RST), as a server at its connection limit may end it.
        case reset
    }

    public let port: Int
    private let listener: Int32
    private let lock = NSLock()
    private var stopped = false
    private var clients: [Int32] = []
    private var received: [String] = []
    /// Signalled when the accept loop has ended: only then is the listener's descriptor closed, so a
    /// number the kernel hands out again never reaches a stopped server's threads.
    private let acceptEnded = DispatchSemaphore(value: 0)
    /// Opened by `stop()`: what a silent peer waits on instead of polling.
    private let released = DispatchGroup()

    public init(_ behaviour: Behaviour) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                _ = bind(fd, $0, length)
                _ = getsockname(fd, $0, &length)
            }
        }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        released.enter()
        listen(fd, 8)
        Thread.detachNewThread { [self] in
            defer { acceptEnded.signal() }
            while !isStopped {
                let client = accept(fd, nil, nil)
                if client < 0 { return }
                lock.lock()
                if stopped {
                    lock.unlock()
                    close(client)
                    return
                }
                clients.append(client)
                lock.unlock()
                Thread.detachNewThread { self.serve(client, behaviour) }
            }
        }
    }

    private func serve(_ client: Int32, _ behaviour: Behaviour) {
        var request = [UInt8](repeating: 0, count: 64)
        let count = recv(client, &request, 64, 0)
        var behaviour = behaviour
        if case .answer(let reply) = behaviour {
            let word = String(decoding: request.prefix(min(4, max(count, 0))), as: UTF8.self)
            lock.withLock { received.append(word) }
            behaviour = .reply(reply(word))
        }
        switch behaviour {
        case .silent:
            released.wait()
        case .endless:
            let chunk = [UInt8](repeating: UInt8(ascii: "z"), count: 4096)
            while !isStopped && send(client, chunk, chunk.count, Int32(MSG_NOSIGNAL)) > 0 {}
        case .answer:
            break
        case .reset:
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            setsockopt(client, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        case .reply(let data):
            _ = data.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            shutdown(client, Int32(SHUT_WR))
            while !isStopped && recv(client, &request, 64, 0) > 0 {}
        }
        // This thread owns its descriptor: it is closed here, after it is no longer listed for stop().
        lock.lock()
        clients.removeAll { $0 == client }
        close(client)
        lock.unlock()
    }

    private var isStopped: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopped
    }

    public var endpoint: Endpoint { Endpoint(host: "127.0.0.1", port: port) }

    /// The words asked so far (`.answer` servers), and forgets them.
    public func takeWords() -> [String] {
        lock.withLock {
            defer { received = [] }
            return received
        }
    }

    public func stop() {
        // Shut down, not closed, under the lock the serving threads close under: each closes its own.
        lock.lock()
        let first = !stopped
        stopped = true
        for client in clients { shutdown(client, Int32(SHUT_RDWR)) }
        lock.unlock()
        if first { released.leave() }
        shutdown(listener, Int32(SHUT_RDWR))
        _ = acceptEnded.wait(timeout: .now() + 10)
        close(listener)
    }

}
