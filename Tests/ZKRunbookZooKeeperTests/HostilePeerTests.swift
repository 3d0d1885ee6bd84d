import Foundation
import Testing
import ZKRunbookTestSupport
import ZKRunbookZooKeeperActions

@testable import ZKRunbookZooKeeper

#if canImport(Glibc)
    import Glibc
#endif

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
        // Accepted and closed without a word, asked one word at a time too: up at a connection limit, not down.
        let emptyFacts = probe.probe(empty.endpoint)
        #expect(emptyFacts.closedWithoutAnswer && emptyFacts.mode == .unknown, "\(emptyFacts)")
        #expect(emptyFacts.error?.contains("closed it without an answer") == true)
    }

    /// A connection reset after it was accepted is a server that answered nothing, like one closed without a
    /// word, on the words asked at once and on those asked again one at a time: never a server that is down.
    @Test func aResetAfterAcceptIsAnsweredNothingNotUnreachable() {
        let reset = FakeServer(.reset)
        defer { reset.stop() }
        let facts = ServerProbe(limits: client.limits).probe(reset.endpoint)
        #expect(facts.closedWithoutAnswer && facts.mode == .unknown, "\(facts.error ?? "")")
        #expect(ServerProbe.closedWithoutAnswer(.failure(.io(endpoint: "zk1:2181", reason: ZooKeeperError.peerReset))))
        #expect(!ServerProbe.closedWithoutAnswer(.failure(.io(endpoint: "zk1:2181", reason: "connect failed: No route to host"))))
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
