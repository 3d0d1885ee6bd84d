import Foundation
import Testing
import ZKRunbookTestSupport
import ZKRunbookZooKeeper

@testable import ZKRunbookClient

/// Our own client against a real 3-server ensemble (Debian's ZooKeeper 3.8), and against peers a real
/// server cannot be made to be.
@Suite(.serialized, .tags(.realZooKeeper))
struct ClientTests {
    static func endpoints(_ sandbox: SandboxEnsemble) -> [Endpoint] { sandbox.sandbox.members.map(\.endpoint) }

    /// Debian's 3.8.0 (nil) and the other versions of the matrix.
    static let versions: [String?] = [nil, "3.4.14", "3.6.3", "3.9.3"]

    @Test(arguments: versions)
    func znodesRoundTripThroughTheEnsemble(version: String?) throws {
        let sandbox = try SandboxEnsemble.start(nodes: 3, allWords: true, firstPort: 25_000, zookeeper: version)
        defer { sandbox.close() }
        let client = try ZooKeeperClient.connect(Self.endpoints(sandbox))
        defer { client.close() }
        #expect(client.session != 0)
        #expect(try client.exists("/zkr") == nil)
        #expect(try client.create("/zkr", Array("one".utf8)) == "/zkr")
        let (data, stat) = try client.getData("/zkr")
        #expect(String(decoding: data, as: UTF8.self) == "one")
        #expect(stat.version == 0 && stat.dataLength == 3 && stat.ephemeralOwner == 0)
        #expect(try client.setData("/zkr", Array("two".utf8), version: 0).version == 1)
        do {
            try client.setData("/zkr", Array("three".utf8), version: 0)
            Issue.record("a stale version was accepted")
        } catch {
            #expect(error.code == .badVersion, "\(error)")
        }
        let first = try client.create("/zkr/item-", [], mode: .persistentSequential)
        let second = try client.create("/zkr/item-", [], mode: .persistentSequential)
        #expect(first == "/zkr/item-0000000000" && second == "/zkr/item-0000000001", "\(first) \(second)")
        #expect(try client.getChildren("/zkr").sorted() == ["item-0000000000", "item-0000000001"])
        do {
            try client.delete("/zkr")
            Issue.record("a znode with children was deleted")
        } catch {
            #expect(error.code == .notEmpty)
        }
        do {
            try client.create("/zkr", [])
            Issue.record("created twice")
        } catch {
            #expect(error.code == .nodeExists)
            #expect(error.description == "NodeExists on /zkr: the znode is already there")
        }
        try client.sync("/zkr")
        // multi: all or nothing.
        let failing = try client.multi([.create(path: "/zkr/a", data: []), .check(path: "/zkr", version: 99)])
        #expect(failing.contains(.failed(.badVersion)), "\(failing)")
        #expect(try client.exists("/zkr/a") == nil, "nothing of a failed multi is applied")
        let applied = try client.multi([.create(path: "/zkr/a", data: []), .setData(path: "/zkr", data: Array("four".utf8)), .delete(path: "/zkr/item-0000000000")])
        #expect(applied.count == 3)
        #expect(applied.first == .created(path: "/zkr/a"))
        #expect(try client.exists("/zkr/item-0000000000") == nil)
        // The ensemble's own configuration, and reconfig refused where it is not enabled (the default).
        if version?.hasPrefix("3.4.") == true {
            // 3.4 has neither: its members live only in zoo.cfg.
            #expect(throws: ZooKeeperClientError.server(.noNode, path: "/zookeeper/config")) { _ = try client.getConfig() }
            return
        }
        let config = try client.getConfig().text
        #expect(config.contains("server.1=127.0.0.1:"), "\(config)")
        #expect(config.split(separator: "\n").filter { $0.hasPrefix("server.") }.count == 3)
        do {
            _ = try client.reconfig(leaving: "3")
            Issue.record("reconfig was accepted with reconfigEnabled=false")
        } catch {
            #expect(error.code == .reconfigDisabled, "\(error)")
            #expect(error.description.contains("reconfigEnabled=true"))
        }
        #expect(throws: ZooKeeperClientError.badArgument("'zkr' is not a znode path (absolute, no empty or trailing component)")) {
            _ = try client.exists("zkr")
        }
    }

    @Test(arguments: versions)
    func anEphemeralGoesWithItsSessionAndASessionMovesWhenItsServerRestarts(version: String?) throws {
        let sandbox = try SandboxEnsemble.start(nodes: 3, allWords: true, firstPort: 25_000, zookeeper: version)
        defer { sandbox.close() }
        let owner = try ZooKeeperClient.connect(Self.endpoints(sandbox), options: ClientOptions(sessionTimeout: 10))
        let watcher = try ZooKeeperClient.connect(Self.endpoints(sandbox))
        defer { watcher.close() }
        try owner.create("/lease", Array("run-1".utf8), mode: .ephemeral)
        // Another session may read from a follower not yet holding the create: sync first, as ZooKeeper says.
        try watcher.sync("/lease")
        #expect(try watcher.exists("/lease")?.ephemeralOwner == owner.session)
        // (the watcher may share the server stopped below: it retries, as any ZooKeeper client must)

        // The owner's server restarts: the session moves to another member and keeps its ephemeral znode.
        let session = owner.session
        let server = try #require(owner.connectedTo)
        let node = try #require(sandbox.sandbox.members.first { $0.endpoint == server })
        #expect(sandbox.sandbox.stop(node: node.id))
        let seen = try owner.retryingConnectionLoss(for: 30) { () throws(ZooKeeperClientError) in try owner.exists("/lease") }
        #expect(owner.session == session, "the same session, not a new one")
        #expect(owner.connectedTo != server)
        #expect(seen?.ephemeralOwner == session)
        try sandbox.sandbox.start(node: node.id)
        owner.close()
        // After a sync the watcher's server has applied the session's close, which close() waited for.
        let after = try watcher.retryingConnectionLoss(for: 30) { () throws(ZooKeeperClientError) in
            try watcher.sync("/")
            return try watcher.exists("/lease")
        }
        #expect(after == nil, "closing the session deletes its ephemeral znode at once")
        #expect(throws: ZooKeeperClientError.self) { _ = try owner.exists("/") }

        // Closed without waiting for the commit (as the write gate closes): the server still reads the close,
        // so the znode goes long before the session could have expired.
        let quick = try ZooKeeperClient.connect(Self.endpoints(sandbox), options: ClientOptions(sessionTimeout: 10))
        try quick.create("/quick", [], mode: .ephemeral)
        let expiresAfter = quick.negotiatedTimeout
        let closed = Date()
        quick.close(awaitingReply: false)
        try poll("the unawaited close to remove /quick", timeout: expiresAfter) {
            try watcher.retryingConnectionLoss(for: 5) { () throws(ZooKeeperClientError) in
                try watcher.sync("/")
                return try watcher.exists("/quick")
            } == nil
        }
        #expect(Date().timeIntervalSince(closed) < expiresAfter / 2, "removed by the close, not by the session's expiry (\(expiresAfter) s)")
    }

    /// Our client and an independent one (kazoo) see the same znodes, data, versions and children.
    @Test func kazooAgrees() throws {
        let sandbox = try SandboxEnsemble.start(nodes: 3, allWords: true, firstPort: 25_000)
        defer { sandbox.close() }
        let client = try ZooKeeperClient.connect(Self.endpoints(sandbox))
        defer { client.close() }
        try client.create("/agree", Array("from swift".utf8))
        try client.create("/agree/child", [])
        let hosts = Self.endpoints(sandbox).map(\.description).joined(separator: ",")
        let script = """
            import sys
            from kazoo.client import KazooClient
            zk = KazooClient(hosts=sys.argv[1]); zk.start(timeout=15)
            data, stat = zk.get("/agree")
            print("%s %d %s" % (data.decode(), stat.version, ",".join(sorted(zk.get_children("/agree")))))
            zk.set("/agree", b"from kazoo", version=stat.version)
            zk.create("/agree/kazoo", b"k")
            zk.stop()
            """
        let kazoo = try ZKRunbookBinary(path: "/usr/bin/python3").run(["-c", script, hosts], timeout: 60)
        guard kazoo.status == 0 else {
            throw HarnessError(message: "kazoo failed (apt-get install -y python3-kazoo): \(kazoo.stderr.suffix(800))")
        }
        #expect(kazoo.stdout == "from swift 0 child\n", "\(kazoo.stdout)")
        try client.sync("/agree")
        let (data, stat) = try client.getData("/agree")
        #expect(String(decoding: data, as: UTF8.self) == "from kazoo" && stat.version == 1)
        #expect(try client.getChildren("/agree").sorted() == ["child", "kazoo"])
    }

    @Test func digestAuthAndACLs() throws {
        let sandbox = try SandboxEnsemble.start(nodes: 3, allWords: true, firstPort: 25_000)
        defer { sandbox.close() }
        let owner = try ZooKeeperClient.connect(Self.endpoints(sandbox))
        defer { owner.close() }
        try owner.addAuth(scheme: "digest", Array("ops:secret".utf8))
        try owner.create("/private", Array("x".utf8), acl: ACL.creatorAll)
        #expect(String(decoding: try owner.getData("/private").data, as: UTF8.self) == "x")
        let stranger = try ZooKeeperClient.connect(Self.endpoints(sandbox))
        defer { stranger.close() }
        do {
            _ = try stranger.getData("/private")
            Issue.record("a stranger read a creator-only znode")
        } catch {
            #expect(error.code == .noAuth, "\(error)")
        }
    }
}

/// Peers that a real server cannot be made to be: each ends in a named error within its deadline.
@Suite(.serialized)
struct HostileClientPeerTests {
    let options = ClientOptions(sessionTimeout: 5, connectTimeout: 1, requestTimeout: 0.5)

    func connecting(to behaviour: FakeServer.Behaviour) -> (ZooKeeperClientError?, Double) {
        let server = FakeServer(behaviour)
        defer { server.stop() }
        let started = Date()
        do {
            let client = try ZooKeeperClient.connect([server.endpoint], options: options)
            client.close()
            return (nil, Date().timeIntervalSince(started))
        } catch {
            return (error, Date().timeIntervalSince(started))
        }
    }

    @Test func silentEndlessGarbageAndOversizedPeers() {
        let (silent, silentSeconds) = connecting(to: .silent)
        #expect(silent?.description.contains("OperationTimeout: no reply to the session handshake") == true, "\(String(describing: silent))")
        #expect(silentSeconds < 30, "a 0.5 s deadline; without it a silent peer hangs the client for ever")

        // 'zzzz' as a length prefix is 2 054 847 098 bytes: refused before anything is allocated.
        let (endless, _) = connecting(to: .endless)
        #expect(endless?.description.contains("a reply of 2054847098 bytes is over the") == true, "\(String(describing: endless))")

        var oversized = Data([0x7F, 0xFF, 0xFF, 0xFF])
        oversized.append(contentsOf: [UInt8](repeating: 0, count: 16))
        let (huge, _) = connecting(to: .reply(oversized))
        #expect(huge?.description.contains("over the 1052671-byte cap") == true, "\(String(describing: huge))")

        let (negative, _) = connecting(to: .reply(Data([0xFF, 0xFF, 0xFF, 0xF0])))
        #expect(negative?.description.contains("negative frame length") == true, "\(String(describing: negative))")

        // A frame that claims 8 bytes and holds a handshake cut short.
        let (cut, _) = connecting(to: .reply(Data([0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0x27, 0x10])))
        #expect(cut?.description.contains("the reply ends inside the handshake") == true, "\(String(describing: cut))")

        let (closed, _) = connecting(to: .reply(Data()))
        #expect(closed?.description.contains("the server closed the connection") == true, "\(String(describing: closed))")
    }

    @Test func juteRoundTripsAndRejectsImpossibleLengths() throws {
        var writer = JuteWriter()
        writer.int(-7)
        writer.long(Int64.min + 3)
        writer.bool(true)
        writer.string("zk/é")
        writer.string(nil)
        writer.vector(["a", "bc"]) { $0.string($1) }
        var reader = JuteReader(writer.bytes)
        #expect(try reader.int() == -7)
        #expect(try reader.long() == Int64.min + 3)
        #expect(try reader.bool())
        #expect(try reader.string() == "zk/é")
        #expect(try reader.string() == nil)
        #expect(try reader.vector("v") { (r: inout JuteReader) throws(JuteReader.Truncated) in try r.string() ?? "" } == ["a", "bc"])
        #expect(reader.remaining == 0)
        var lying = JuteReader([0x00, 0x10, 0x00, 0x00, 0x41])
        #expect(throws: JuteReader.Truncated.self) { _ = try lying.string() }
        var hugeVector = JuteReader([0x7F, 0xFF, 0xFF, 0xFF])
        #expect(throws: JuteReader.Truncated.self) { _ = try hugeVector.vector("v") { (r: inout JuteReader) throws(JuteReader.Truncated) in try r.int() } }
    }
}
