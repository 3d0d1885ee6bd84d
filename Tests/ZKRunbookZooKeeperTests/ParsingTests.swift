import Foundation
import Testing
import ZKRunbookEngine
import ZKRunbookJSON5
import ZKRunbookTestSupport
import ZKRunbookZooKeeperActions

@testable import ZKRunbookZooKeeper

struct ReplyParsingTests {
    let endpoint = Endpoint(host: "127.0.0.1", port: 2181)

    @Test func srvrGivesModeZxidAndCounters() throws {
        var facts = ServerFacts(endpoint: endpoint)
        try ReplyParser.applyServerStats(Fixtures.followerSrvr, to: &facts, channel: "4lw srvr").get()
        #expect(facts.mode == .follower)
        #expect(facts.zxid == Zxid(epoch: 2, counter: 7))
        #expect(facts.latencyAvg == 0.5)
        #expect(facts.latencyMax == 3)
        #expect(facts.received == 12)
        #expect(facts.nodeCount == 5)
        #expect(facts.channels["mode"] == "4lw srvr")
        var stat = ServerFacts(endpoint: endpoint)
        try ReplyParser.applyServerStats(Fixtures.stat, to: &stat, channel: "4lw stat").get()
        #expect(stat.mode == .follower)
        #expect(stat.connections == 1)
    }

    @Test func aReplyCutShortIsMalformedNotAFact() {
        var facts = ServerFacts(endpoint: endpoint)
        let cut = String(Fixtures.followerSrvr.prefix(while: { $0 != "M" })) + "Mode: foll"
        #expect(throws: InputProblem.self) { try ReplyParser.applyServerStats(cut, to: &facts, channel: "4lw srvr").get() }
        let noMode = String(Fixtures.followerSrvr.prefix(60))
        #expect(throws: InputProblem.self) { try ReplyParser.applyServerStats(noMode, to: &facts, channel: "4lw srvr").get() }
    }

    @Test func mntrIn36And35Formats() throws {
        var new = ServerFacts(endpoint: endpoint)
        ReplyParser.applyMonitor(try ReplyParser.parseMonitor(Fixtures.leaderMntr36).get(), to: &new, channel: "4lw mntr")
        #expect(new.mode == .leader)
        #expect(new.learners == 3)
        #expect(new.syncedFollowers == 2)
        #expect(new.syncedObservers == 1)
        #expect(new.pendingSyncs == 0)
        #expect(new.quorumSize == 3)
        var old = ServerFacts(endpoint: endpoint)
        ReplyParser.applyMonitor(try ReplyParser.parseMonitor(Fixtures.leaderMntr35).get(), to: &old, channel: "4lw mntr")
        #expect(old.learners == 4)
        #expect(old.pendingSyncs == 1)
        #expect(throws: InputProblem.self) { try ReplyParser.parseMonitor("garbage without tabs\n").get() }
    }

    @Test func adminServerJSON() throws {
        let json = try JSONSerialization.jsonObject(with: Data(Fixtures.adminSrvr.utf8)) as! [String: Any]
        var facts = ServerFacts(endpoint: endpoint)
        try ReplyParser.applyAdminStats(json, to: &facts, channel: "admin srvr").get()
        #expect(facts.mode == .follower)
        #expect(facts.zxid == Zxid(epoch: 1, counter: 3))
        #expect(facts.connections == 2)
        #expect(facts.channels["zxid"] == "admin srvr")
    }

    @Test func refusalsAreNamed() {
        let refused = FourLetterWordClient.classify(Data("ruok is not executed because it is not in the whitelist.\n".utf8), word: .ruok, endpoint: endpoint)
        #expect(refused == .failure(.notWhitelisted(endpoint: "127.0.0.1:2181", command: "ruok")))
        let notServing = FourLetterWordClient.classify(
            Data("This ZooKeeper instance is not currently serving requests\n".utf8), word: .srvr, endpoint: endpoint)
        #expect(notServing == .failure(.notServing(endpoint: "127.0.0.1:2181", command: "srvr")))
        let body = #"{"command" : "srvr", "error" : "This ZooKeeper instance is not currently serving requests"}"#
        let http = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        guard case .failure(.notServing) = AdminServerClient.parse(Data(http.utf8), command: "srvr", endpoint: endpoint) else {
            Issue.record("an AdminServer 200 with a not-serving error body was taken as a fact")
            return
        }
        let chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7\r\n{\"a\": 1\r\n1\r\n}\r\n0\r\n\r\n"
        let parsed = try? AdminServerClient.parse(Data(chunked.utf8), command: "x", endpoint: endpoint).get()
        #expect(parsed?["a"] as? Int == 1)
    }

    @Test func zxidSplitsIntoEpochAndCounterAndLag() {
        let zxid = Zxid(parsing: "0x500000003")!
        #expect(zxid.epoch == 5)
        #expect(zxid.counter == 3)
        #expect(Zxid(parsing: "21474836483") == zxid)
        #expect(Zxid(raw: 0xFFFF_FFFF).counter == UInt32.max)
        let leader = Zxid(epoch: 5, counter: 1003)
        #expect(zxid.lag(behind: leader) == 1000)
        #expect(Zxid(epoch: 4, counter: 99).lag(behind: Zxid(epoch: 5, counter: 0)) == 0, "just after an election nothing is committed yet")
        #expect(Zxid(epoch: 4, counter: 99).lag(behind: Zxid(epoch: 5, counter: 12)) == 12)
    }

    @Test func endpointsParse() {
        #expect(Endpoint(parsing: "zk1:2181") == Endpoint(host: "zk1", port: 2181))
        #expect(Endpoint(parsing: "[::1]:2182") == Endpoint(host: "::1", port: 2182))
        #expect(Endpoint(parsing: "zk1", defaultPort: 2181) == Endpoint(host: "zk1", port: 2181))
        #expect(Endpoint(parsing: "zk1:99999") == nil)
        #expect(Endpoint(parsing: "zk1:abc") == nil)
    }
}

struct ZooConfigTests {
    @Test func serverLinesRolesClientPortsAndWhitelist() throws {
        let config = try ZooConfig.parse(
            """
            # a comment
            tickTime=2000
            clientPort=2181
            admin.serverPort=9090
            4lw.commands.whitelist=srvr, mntr ,ruok
            server.1=zk1:2888:3888
            server.2=zk2:2888:3888:participant
            server.3=[fd00::3]:2888:3888:observer;2182
            server.4=zk4:2888:3888;10.0.0.4:2183
            """, path: "zoo.cfg")
        #expect(config.servers.map(\.id) == [1, 2, 3, 4])
        #expect(config.voters.map(\.id) == [1, 2, 4])
        #expect(config.observers.map(\.host) == ["fd00::3"])
        #expect(config.servers[2].clientPort == 2182)
        #expect(config.servers[3].clientAddress == "10.0.0.4")
        #expect(config.adminPort == 9090)
        #expect(config.whitelist == ["srvr", "mntr", "ruok"])
        #expect(try ZooConfig.parse("clientPort=1", path: "z").whitelist == ["srvr"], "the default since 3.5.3 is srvr only")
        #expect(try ZooConfig.parse("4lw.commands.whitelist=*", path: "z").whitelist.count == FourLetterWord.allCases.count)
        #expect(try ZooConfig.parse("admin.enableServer=false", path: "z").adminPort == nil)
    }

    @Test(arguments: [
        ("tickTime=2000\nserver.1=zk1:2888\n", 2, "server.1=zk1:2888: expected server.N=host:quorumPort:electionPort"),
        ("server.x=zk1:2888:3888\n", 1, "the server id must be a whole number"),
        ("server.1=zk1:2888:3888:voter\n", 1, "role 'voter' must be participant or observer"),
        ("server.1=zk1:2888:3888\nserver.1=zk2:2888:3888\n", 2, "server.1 is defined twice (first at line 1)"),
        ("\n\njust words\n", 3, "expected key=value"),
        ("server.2=zk2:2888:3888;port\n", 1, "client port 'port' is not a port"),
    ])
    func malformedLinesSayFileAndLine(text: String, line: Int, message: String) {
        do {
            _ = try ZooConfig.parse(text, path: "/etc/zk/zoo.cfg")
            Issue.record("parsed, but should not: \(text)")
        } catch {
            #expect(error.line == line)
            #expect(error.description.hasPrefix("/etc/zk/zoo.cfg:\(line): error: "), "\(error)")
            #expect(error.description.contains(message), "\(error)")
        }
    }

    @Test func dynamicConfigFileAndMyid() throws {
        let scratch = Scratch("cfg")
        let folder = scratch.path
        scratch.folder("data")
        try "dataDir=\(folder)/data\ndynamicConfigFile=zoo.cfg.dynamic.100000000\n".write(toFile: folder + "/zoo.cfg", atomically: true, encoding: .utf8)
        try "server.1=a:1:2:participant;2181\nserver.2=b:1:2:participant;2181\nserver.3=c:1:2:observer;2181\nversion=100000000\n"
            .write(toFile: folder + "/zoo.cfg.dynamic.100000000", atomically: true, encoding: .utf8)
        try "2\n".write(toFile: folder + "/data/myid", atomically: true, encoding: .utf8)
        let config = try ZooConfig.load(path: folder + "/zoo.cfg")
        #expect(config.servers.count == 3)
        #expect(config.serversPath.hasSuffix("zoo.cfg.dynamic.100000000"))
        #expect(config.myid == 2)
        #expect(EnsembleMember.members(from: config).map(\.role) == [.participant, .participant, .observer])
    }
}

struct QuorumMathTests {
    @Test func majorityAndTolerance() {
        for (voters, majority, tolerated) in [(1, 1, 0), (2, 2, 0), (3, 2, 1), (4, 3, 1), (5, 3, 2), (7, 4, 3)] {
            let assessment = QuorumMath.assess(voters: Array(1...voters), observers: [], unreachable: [])
            #expect(assessment.majority == majority, "\(voters) voters")
            #expect(assessment.tolerated == tolerated, "\(voters) voters")
            #expect(assessment.canElect)
        }
    }

    /// The Apigee seed: DC-1 holds voters 1, 2, 3; DC-2 holds voters 4, 5 and observer 6.
    @Test func theTwoDataCentreSeed() {
        let dc1Lost = QuorumMath.assess(voters: [1, 2, 3, 4, 5], observers: [6], unreachable: [1, 2, 3])
        #expect(!dc1Lost.canElect)
        #expect(dc1Lost.majority == 3)
        #expect(dc1Lost.reachableVoters == [4, 5])
        #expect(
            dc1Lost.reason
                == "5 voters (1, 2, 3, 4, 5): a majority is 3, so 2 may fail; 3 are down (1, 2, 3), leaving 2 serving (4, 5): too few up to elect a leader (3 needed). The observer (6) does not vote."
        )
        let dc2Lost = QuorumMath.assess(voters: [1, 2, 3, 4, 5], observers: [6], unreachable: [4, 5, 6])
        #expect(dc2Lost.canElect)
        #expect(dc2Lost.unreachableObservers == [6])
        #expect(dc2Lost.reason.contains("leaving 3 serving (1, 2, 3): they can elect a leader"))
    }
}

struct EnsembleJudgementTests {
    func facts(_ port: Int, _ mode: ServerMode, zxid: Zxid? = nil, synced: Int64? = nil) -> ServerFacts {
        var facts = ServerFacts(endpoint: Endpoint(host: "127.0.0.1", port: port))
        facts.mode = mode
        facts.zxid = zxid
        facts.syncedFollowers = synced
        if mode == .unreachable { facts.error = "connection refused" }
        return facts
    }

    let members = (1...3).map { EnsembleMember(id: $0, host: "127.0.0.1", clientPort: 2180 + $0) }

    @Test func healthyDegradedLaggingSplitNoQuorum() {
        let inspector = EnsembleInspector(maxLag: 100)
        let leaderZxid = Zxid(epoch: 3, counter: 500)
        let healthy = inspector.judge(
            members: members,
            facts: [
                facts(2181, .follower, zxid: Zxid(epoch: 3, counter: 490)), facts(2182, .leader, zxid: leaderZxid, synced: 2),
                facts(2183, .follower, zxid: leaderZxid),
            ])
        #expect(healthy.verdict == .healthy)
        #expect(healthy.leaderID == 2)
        #expect(healthy.members.map(\.lag) == [10, nil, 0])

        let lagging = inspector.judge(
            members: members,
            facts: [
                facts(2181, .follower, zxid: Zxid(epoch: 3, counter: 100)), facts(2182, .leader, zxid: leaderZxid, synced: 2),
                facts(2183, .follower, zxid: leaderZxid),
            ])
        #expect(lagging.verdict == .degraded)
        #expect(lagging.reasons.contains { $0.contains("400 transactions behind the leader") })

        let oneDown = inspector.judge(
            members: members,
            facts: [
                facts(2181, .unreachable), facts(2182, .leader, zxid: leaderZxid, synced: 1), facts(2183, .follower, zxid: leaderZxid),
            ])
        #expect(oneDown.verdict == .degraded)
        #expect(oneDown.reasons.contains { $0.contains("the leader reports 1 of 2 followers synced") })

        let split = inspector.judge(
            members: members,
            facts: [
                facts(2181, .leader, zxid: Zxid(epoch: 3, counter: 1)), facts(2182, .leader, zxid: Zxid(epoch: 4, counter: 1)),
                facts(2183, .follower),
            ])
        #expect(split.verdict == .split)

        let none = inspector.judge(members: members, facts: [facts(2181, .unreachable), facts(2182, .notServing), facts(2183, .unreachable)])
        #expect(none.verdict == .noQuorum)
        #expect(!none.quorum.canElect)
        #expect(none.factMap["quorate"] == .bool(false))
        #expect(
            none.quorum.reason.contains("2 are down (1, 3) and 1 is up but not serving, electing or syncing (2), leaving 0 serving"), "\(none.quorum.reason)")
        #expect(none.reasons.first == "no server is leading, and only 1 of 3 voters are up (2 needed to elect)")
    }

    /// The leader stopped, two voters up and electing: an election, not "no quorum"; the live ones are up, not down.
    @Test func anElectionIsNotNoQuorum() {
        let inspector = EnsembleInspector(maxLag: 100)
        let electing = inspector.judge(members: members, facts: [facts(2181, .unreachable), facts(2182, .notServing), facts(2183, .notServing)])
        #expect(electing.verdict == .electing)
        #expect(electing.quorum.electingVoters == [2, 3])
        #expect(!electing.quorum.canElect, "nothing serves until the election ends")
        #expect(electing.quorum.reason.contains("1 is down (1) and 2 are up but not serving, electing or syncing (2, 3)"), "\(electing.quorum.reason)")
        #expect(electing.quorum.reason.contains("so the election can finish"), "\(electing.quorum.reason)")
        #expect(electing.reasons.first?.hasPrefix("no server leads yet: 2 of 3 voters are up") == true, "\(electing.reasons)")

        // A new leader whose followers are still syncing with it: electing too, not no-quorum.
        let syncing = inspector.judge(members: members, facts: [facts(2181, .unreachable), facts(2182, .leader, synced: 0), facts(2183, .notServing)])
        #expect(syncing.verdict == .electing, "\(syncing.reasons)")
    }
}
