import Foundation
import ZKRunbookJSON5
import ZKRunbookTestSupport
import Testing
import ZKRunbookEngine
import ZKRunbookProcess

@testable import ZKRunbookZooKeeper
import ZKRunbookZooKeeperActions

#if canImport(Glibc)
import Glibc
#endif

/// The failover's node-side file work: rewrite, backup, renumber, restore, and the reachability check.
@Suite(.serialized)
struct FailoverConfigTests {
    let scratch = Scratch("failover")
    var folder: String { scratch.path }

    init() throws {
        scratch.folder("data")
    }

    func write(_ name: String, _ text: String, mode: mode_t = 0o644) -> String {
        let path = folder + "/" + name
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        chmod(path, mode)
        return path
    }

    func read(_ name: String) -> String { (try? String(contentsOfFile: folder + "/" + name, encoding: .utf8)) ?? "<missing>" }

    /// Runs a runbook of ZooKeeper actions; returns the outcome and the events.
    func run(_ text: String, _ parameters: [String: ParameterValue] = [:]) throws -> (RunOutcome, [Event]) {
        let runbook = try RunbookLoader(registry: try ActionRegistry(composing: ActionRegistry.engineActions, ZooKeeperActions.all)).load(text: text, path: "t.json5")
        let recorder = EventRecorder()
        let outcome = try RunService(registry: try ActionRegistry(composing: ActionRegistry.engineActions, ZooKeeperActions.all)).start(
            runbook, parameters: parameters, options: RunOptions(layout: StateLayout(root: folder + "/state")), sink: recorder,
            cancellation: CancellationToken())
        return (outcome, recorder.events)
    }

    static let failover = """
        { name: "f", lock: "node",
          parameters: { config: { type: "path", required: true }, survivors: { type: "string", required: true }, backupDir: { type: "path", required: true } },
          steps: [
            { id: "backup", description: "b", action: "zk-config-backup", with: { config: "${config}", backupDir: "${backupDir}" },
              rollback: [{ id: "undo", description: "u", action: "zk-config-restore", with: { backupDir: "${backupDir}" } }] },
            { id: "renumber", description: "r", action: "zk-config-renumber", with: { config: "${config}", survivors: "${survivors}", backupDir: "${backupDir}" } },
          ] }
        """

    static let restore = """
        { name: "r", lock: "node", parameters: { backupDir: { type: "path", required: true } },
          steps: [{ id: "restore", description: "r", action: "zk-config-restore", with: { backupDir: "${backupDir}" } }] }
        """

    @Test func rewriteKeepsEveryOtherLineAndDropsPeerType() throws {
        let text = """
            # two DCs
            tickTime=2000
            peerType=observer
            server.1=dc1-a:2888:3888
            server.2=[fd00::2]:2888:3888;2181
            # the DC-2 servers
            server.4=dc2-a:2888:3888;0.0.0.0:2181
            server.6=dc2-c:2888:3888:observer
            clientPort=2181
            """
        let servers = try ZooConfig.parse(text, path: "zoo.cfg").servers
        let entries = try SurvivorLayout(survivors: [4, 6, 2]).entries(from: servers).get()
        #expect(
            SurvivorLayout.rewrite(text, entries: entries) == """
                # two DCs
                tickTime=2000
                server.1=dc2-a:2888:3888;0.0.0.0:2181
                server.2=dc2-c:2888:3888
                server.3=[fd00::2]:2888:3888;2181
                # the DC-2 servers
                clientPort=2181
                """, "no final newline in, none out; comments and order kept")
        #expect(SurvivorLayout.rewrite("a=1\nserver.9=h:1:2\n", entries: []) == "a=1\n")
        #expect(try SurvivorLayout.parse("4, 5,6").get().survivors == [4, 5, 6])
        #expect(throws: InputProblem.self) { try SurvivorLayout.parse("4,4").get() }
        #expect(throws: InputProblem.self) { try SurvivorLayout.parse("4,x").get() }
        #expect(throws: InputProblem.self) { try SurvivorLayout(survivors: [7]).entries(from: servers).get() }
    }

    @Test func backupRenumberResumeAndRestoreWithADynamicConfigFile() throws {
        let zooCfg = write(
            "zoo.cfg", "tickTime=2000\ndataDir=\(folder)/data\npeerType=observer\ndynamicConfigFile=\(folder)/zoo.cfg.dynamic\n", mode: 0o640)
        let dynamic = write("zoo.cfg.dynamic", (1...6).map { "server.\($0)=10.0.\($0 <= 3 ? 1 : 2).\($0):2888:3888" + ($0 == 6 ? ":observer" : "") }.joined(separator: "\n") + "\n")
        let myid = write("data/myid", "6\n")
        let before = [zooCfg, dynamic, myid].map { FileManager.default.contents(atPath: $0) }
        let parameters: [String: ParameterValue] = ["config": .path(zooCfg), "survivors": .string("4,5,6"), "backupDir": .path(folder + "/backup")]

        let (first, events) = try run(Self.failover, parameters)
        #expect(first.status == .succeeded, "\(first.message)")
        #expect(read("zoo.cfg") == "tickTime=2000\ndataDir=\(folder)/data\ndynamicConfigFile=\(folder)/zoo.cfg.dynamic\n")
        #expect(read("zoo.cfg.dynamic") == "server.1=10.0.2.4:2888:3888\nserver.2=10.0.2.5:2888:3888\nserver.3=10.0.2.6:2888:3888\n")
        #expect(read("data/myid") == "3\n")
        var info = stat()
        stat(zooCfg, &info)
        #expect(info.st_mode & 0o777 == 0o640, "the rewritten file keeps its mode")
        let renumbered = events.first { $0.type == .stepFinished && $0.step == "renumber" }
        #expect(renumbered?.facts?["oldId"] == .int(6) && renumbered?.facts?["newId"] == .int(3))

        // A conductor that crashed between two writes: myid still old, the rest rewritten. A second run finishes it.
        _ = FileManager.default.createFile(atPath: myid, contents: Data("6\n".utf8))
        let (second, secondEvents) = try run(Self.failover, parameters)
        #expect(second.status == .succeeded, "\(second.message)")
        #expect(secondEvents.first { $0.step == "backup" && $0.type == .stepFinished }?.message?.contains("is kept (a resumed run)") == true)
        #expect(secondEvents.first { $0.step == "renumber" && $0.type == .stepFinished }?.facts?["written"] == .int(1))
        #expect(read("data/myid") == "3\n")

        let (restored, restoreEvents) = try run(Self.restore, ["backupDir": .path(folder + "/backup")])
        #expect(restored.status == .succeeded, "\(restored.message)")
        #expect([zooCfg, dynamic, myid].map { FileManager.default.contents(atPath: $0) } == before, "byte for byte")
        stat(zooCfg, &info)
        #expect(info.st_mode & 0o777 == 0o640)
        #expect(restoreEvents.first { $0.type == .stepFinished }?.facts?["restored"] == .int(3))
        #expect(!FileManager.default.fileExists(atPath: folder + "/backup"), "the folder is kept under another name")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).contains { $0.hasPrefix("backup.restored-") })
        let (again, _) = try run(Self.restore, ["backupDir": .path(folder + "/backup")])
        #expect(again.status == .succeeded && again.message.contains("all 1 steps done"), "no backup: nothing to restore")
    }

    @Test func aFileChangedByHandOrANodeThatIsNotASurvivorIsLeftAlone() throws {
        let zooCfg = write("zoo.cfg", "dataDir=\(folder)/data\nserver.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2\n")
        _ = write("data/myid", "2\n")
        let notSurvivor = try run(Self.failover, ["config": .path(zooCfg), "survivors": .string("3,1"), "backupDir": .path(folder + "/b1")])
        #expect(notSurvivor.0.status == .rolledBack, "\(notSurvivor.0.message)")
        #expect(notSurvivor.0.message.contains("this node is server 2"), "\(notSurvivor.0.message)")
        #expect(read("zoo.cfg").contains("server.2=b:1:2") && read("data/myid") == "2\n")

        let grouped = write("grouped.cfg", "dataDir=\(folder)/data\nserver.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2\ngroup.1=1:2:3\n")
        let hierarchical = try run(Self.failover, ["config": .path(grouped), "survivors": .string("2,3"), "backupDir": .path(folder + "/b0")])
        #expect(hierarchical.0.status == .rolledBack && hierarchical.0.message.contains("hierarchical quorums"), "\(hierarchical.0.message)")
        #expect(read("grouped.cfg").contains("group.1=1:2:3") && read("data/myid") == "2\n")

        let parameters: [String: ParameterValue] = ["config": .path(zooCfg), "survivors": .string("2,3"), "backupDir": .path(folder + "/b2")]
        #expect(try run(Self.failover, parameters).0.status == .succeeded)
        _ = write("zoo.cfg", read("zoo.cfg") + "maxClientCnxns=10\n")
        let (refused, _) = try run(Self.failover, parameters)
        #expect(refused.status == .failed, "\(refused.message)")
        #expect(refused.message.contains("already holds a backup") && refused.message.contains("run dc-restore first"), "\(refused.message)")
        #expect(read("zoo.cfg").hasSuffix("maxClientCnxns=10\n"), "the hand edit is not overwritten")
    }

    @Test func peerReachTellsCutOffFromBack() throws {
        let quorum = FakeServer(.silent)
        let election = FakeServer(.silent)
        defer {
            quorum.stop()
            election.stop()
        }
        // A port nothing listens on: bind, read the number, close.
        let closed = FakeServer(.silent)
        let closedPort = closed.port
        closed.stop()
        let zooCfg = write("zoo.cfg", "server.1=127.0.0.1:\(quorum.port):\(election.port)\nserver.2=127.0.0.1:\(closedPort):\(closedPort)\n")
        let runbook = """
            { name: "p", parameters: { peers: { type: "string", required: true }, expect: { type: "string", required: true }, config: { type: "path", required: true } },
              steps: [{ id: "reach", description: "r", action: "zk-peer-reach", with: { config: "${config}", peers: "${peers}", expect: "${expect}", timeout: "1s" } }] }
            """
        func facts(_ peers: String, _ expect: String) throws -> [String: FactValue] {
            let (outcome, events) = try run(runbook, ["peers": .string(peers), "expect": .string(expect), "config": .path(zooCfg)])
            #expect(outcome.status == .succeeded, "\(outcome.message)")
            return events.first { $0.type == .stepFinished }?.facts ?? [:]
        }
        let cutOff = try facts("2", "unreachable")
        #expect(cutOff["asExpected"] == .bool(true) && cutOff["checked"] == .int(2) && cutOff["reachable"] == .int(0))
        let alive = try facts("1", "unreachable")
        #expect(alive["asExpected"] == .bool(false) && alive["reachable"] == .int(2))
        #expect(alive["reachablePorts"].map { "\($0)".contains("server 1 election port") } == true)
        let back = try facts("1", "reachable")
        #expect(back["asExpected"] == .bool(true) && back["checked"] == .int(1), "only the election port counts for 'back'")
        #expect(try facts("2", "reachable")["asExpected"] == .bool(false))
        let (unknown, _) = try run(runbook, ["peers": .string("9"), "expect": .string("unreachable"), "config": .path(zooCfg)])
        #expect(unknown.status == .failed && unknown.message.contains("server 9 is not in the server list"))
    }
}
