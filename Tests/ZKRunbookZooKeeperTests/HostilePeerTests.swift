import Foundation
import ZKRunbookTestSupport
import Testing

@testable import ZKRunbookZooKeeper
import ZKRunbookZooKeeperActions

#if canImport(Glibc)
import Glibc
#endif

/// A fake 4lw server for what a real ZooKeeper cannot be made to do: hang, babble, flood, cut, garble.
final class FakeServer: @unchecked Sendable {
    enum Behaviour: Sendable {
        case silent
        case endless
        case reply(Data)
    }

    let port: Int
    private let listener: Int32
    private let lock = NSLock()
    private var stopped = false
    private var clients: [Int32] = []

    init(_ behaviour: Behaviour) {
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
        listen(fd, 8)
        Thread.detachNewThread { [self] in
            while true {
                let client = accept(fd, nil, nil)
                if client < 0 { return }
                lock.lock()
                clients.append(client)
                lock.unlock()
                Thread.detachNewThread { self.serve(client, behaviour) }
            }
        }
    }

    private func serve(_ client: Int32, _ behaviour: Behaviour) {
        var request = [UInt8](repeating: 0, count: 64)
        _ = recv(client, &request, 64, 0)
        switch behaviour {
        case .silent:
            while !isStopped { usleep(20_000) }
        case .endless:
            let chunk = [UInt8](repeating: UInt8(ascii: "z"), count: 4096)
            while !isStopped && send(client, chunk, chunk.count, Int32(MSG_NOSIGNAL)) > 0 {}
        case .reply(let data):
            _ = data.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            shutdown(client, Int32(SHUT_WR))
        }
    }

    private var isStopped: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopped
    }

    var endpoint: Endpoint { Endpoint(host: "127.0.0.1", port: port) }

    func stop() {
        lock.lock()
        stopped = true
        let open = clients
        lock.unlock()
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        for client in open { close(client) }
    }
}

@Suite(.serialized)
struct HostilePeerTests {
    let client = FourLetterWordClient(limits: SocketLimits(connectTimeout: 1, readTimeout: 0.5, maxReplyBytes: 256 * 1024))

    func timed<T>(_ body: () -> T) -> (T, Double) {
        let start = Date()
        let value = body()
        return (value, Date().timeIntervalSince(start))
    }

    @Test func aServerThatNeverAnswersIsAReadTimeout() {
        let server = FakeServer(.silent)
        defer { server.stop() }
        let (result, seconds) = timed { client.send(.srvr, to: server.endpoint) }
        guard case .failure(.readTimedOut(_, "srvr", _, 0)) = result else {
            Issue.record("expected a read timeout, got \(result)")
            return
        }
        #expect(seconds < 30, "a 0.5 s read limit; without it this never returns")
    }

    @Test func aServerThatAnswersForeverIsCutAtTheCap() {
        let server = FakeServer(.endless)
        defer { server.stop() }
        let (result, seconds) = timed { client.send(.mntr, to: server.endpoint) }
        switch result {
        case .failure(.oversized(_, "mntr", 262_144)), .failure(.readTimedOut): break
        default: Issue.record("expected oversized or a timeout, got \(result)")
        }
        #expect(seconds < 30, "a 0.5 s read limit; without it this never returns")
    }

    @Test func tenMegabytesIsOversized() {
        let server = FakeServer(.reply(Data(repeating: UInt8(ascii: "a"), count: 10 << 20)))
        defer { server.stop() }
        let (result, seconds) = timed { client.send(.srvr, to: server.endpoint) }
        #expect(result == .failure(.oversized(endpoint: server.endpoint.description, command: "srvr", limit: 262_144)))
        #expect(seconds < 30, "a 0.5 s read limit; without it this never returns")
    }

    @Test func aReplyCutMidLineOrGarbageIsMalformed() {
        let cut = FakeServer(.reply(Data("Zookeeper version: 3.8.0\nZxid: 0x1\nMode: foll".utf8)))
        let garbage = FakeServer(.reply(Data([0x00, 0xFF, 0x13, 0x37, 0x00])))
        let empty = FakeServer(.reply(Data()))
        defer {
            cut.stop()
            garbage.stop()
            empty.stop()
        }
        let probe = ServerProbe(limits: client.limits)
        let cutFacts = probe.probe(cut.endpoint)
        #expect(cutFacts.mode == .unknown)
        #expect(cutFacts.errorKind == "malformed")
        #expect(cutFacts.error?.contains("unknown Mode 'foll'") == true)
        let garbageFacts = probe.probe(garbage.endpoint)
        #expect(garbageFacts.mode == .unknown)
        #expect(garbageFacts.errorKind == "malformed")
        #expect(probe.probe(empty.endpoint).error?.contains("empty reply") == true)
    }

    @Test func refusedAndUnroutableAreNamed() {
        let server = FakeServer(.silent)
        let port = server.port
        server.stop()
        let (refused, seconds) = timed { client.send(.srvr, to: Endpoint(host: "127.0.0.1", port: port)) }
        #expect(refused == .failure(.connectionRefused(endpoint: "127.0.0.1:\(port)")))
        #expect(seconds < 30, "a refused connection is said at once, not after a timeout")
        guard case .failure(.resolveFailed) = client.send(.srvr, to: Endpoint(host: "no-such-host.invalid", port: 2181)) else {
            Issue.record("an unresolvable host was not named as such")
            return
        }
        let facts = ServerProbe(limits: client.limits).probe(Endpoint(host: "127.0.0.1", port: port))
        #expect(facts.mode == .unreachable)
        #expect(facts.factMap["reachable"] == .bool(false))
    }
}
