import Foundation
import ZKRunbookTestSupport
import Testing

@testable import ZKRunbookZooKeeper

/// The drift comparison alone: what differs, what is per node, what is a risk, and a partial read judged as such.
struct ConfigDriftTests {
    static let servers = ["1": "10.0.0.1:2888:3888:participant", "2": "10.0.0.2:2888:3888:participant", "3": "10.0.0.3:2888:3888:participant"]

    func member(_ id: Int) -> EnsembleMember { EnsembleMember(id: id, host: "10.0.0.\(id)", clientPort: 2181) }

    func snapshot(_ id: Int, _ edit: (inout NodeConfigSnapshot) -> Void = { _ in }) -> Result<NodeConfigSnapshot, ConfigReadFailure> {
        var snapshot = NodeConfigSnapshot(
            zooCfg: "/etc/zk/zoo.cfg", properties: ["tickTime": "2000", "dataDir": "/var/zk\(id)", "maxClientCnxns": "60"], servers: Self.servers,
            serversFile: "/etc/zk/zoo.cfg", myid: String(id), myidFile: "/var/zk\(id)/myid", javaEnvFile: "/etc/zk/java.env")
        edit(&snapshot)
        return .success(snapshot)
    }

    @Test func identicalNodesAreCleanAndPerNodeKeysAreNotDrift() {
        let drift = ConfigDrift.compare((1...3).map { (member($0), snapshot($0)) })
        #expect(drift.isClean, "\(drift.findings)")
        #expect(drift.rows.map { $0.label }.sorted() == ["myid", "zoo.cfg dataDir"])
        #expect(drift.rows.allSatisfy { $0.perNode })
    }

    @Test func aSettingThatDiffersIsNamedWithEveryNodesValue() throws {
        let drift = ConfigDrift.compare([
            (member(1), snapshot(1)), (member(2), snapshot(2) { $0.properties["maxClientCnxns"] = "100" }),
            (member(3), snapshot(3) { $0.javaEnv = ["JVMFLAGS": "-Xmx1g"] }),
        ])
        #expect(drift.findings.map { $0.kind } == [.settingsDiffer])
        let row = try #require(drift.rows.first { $0.key == "maxClientCnxns" })
        #expect(row.values == ["1": "60", "2": "100", "3": "60"] && !row.perNode)
        let env = try #require(drift.rows.first { $0.file == .javaEnv })
        #expect(env.values == ["1": nil, "2": nil, "3": "-Xmx1g"])
    }

    @Test func differentServerListsAreASplitBrainRiskAndAWrongMyidIsNamed() throws {
        let drift = ConfigDrift.compare([
            (member(1), snapshot(1) { $0.myid = "4" }), (member(2), snapshot(2)),
            (member(3), snapshot(3) { $0.servers["4"] = "10.0.0.4:2888:3888:participant" }),
        ])
        #expect(drift.findings.map { $0.kind } == [.serverListsDiffer, .myidMismatch, .notInOwnList])
        let split = drift.findings[0].message
        #expect(split.contains("split-brain risk") && split.contains("node(s) 1, 2 list server(s) 1,2,3") && split.contains("node(s) 3 list server(s) 1,2,3,4"))
        #expect(drift.findings[1].nodes == [1] && drift.findings[1].message.contains("says '4'"))
        #expect(drift.findings[2].message.contains("My id 4 not in the peer list"))
    }

    @Test func anUnreadNodeMakesThePictureNoCleanerThanItIs() {
        let drift = ConfigDrift.compare([(member(1), snapshot(1)), (member(2), .failure(ConfigReadFailure("ssh: connection refused"))), (member(3), snapshot(3))])
        #expect(drift.nodesRead == [1, 3])
        #expect(!drift.isClean)
        #expect(drift.findings.map { $0.kind } == [.unread])
        #expect(drift.findings[0].message.contains("node 2") && drift.findings[0].message.contains("connection refused"))
    }

    @Test func theSnapshotReadsTheDynamicFileMyidAndJavaEnv() throws {
        let workspace = Scratch("drift-read")
        let conf = workspace.file("conf")
        try FileManager.default.createDirectory(atPath: conf, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: workspace.file("data"), withIntermediateDirectories: true)
        try "tickTime=2000\ndataDir=\(workspace.file("data"))\ndynamicConfigFile=zoo.cfg.dynamic\n".write(toFile: conf + "/zoo.cfg", atomically: true, encoding: .utf8)
        try "server.1=a:1:2;2181\nserver.2=b:1:2:observer;0.0.0.0:2181\n".write(toFile: conf + "/zoo.cfg.dynamic", atomically: true, encoding: .utf8)
        try "2\n".write(toFile: workspace.file("data/myid"), atomically: true, encoding: .utf8)
        try "# heap\nexport JVMFLAGS=\"-Xmx2g -Xms2g\"\nSERVER_JVMFLAGS='-Dzookeeper.x=1'\nnot a line\n".write(toFile: conf + "/java.env", atomically: true, encoding: .utf8)
        let snapshot = try NodeConfigSnapshot.read(zooCfg: conf + "/zoo.cfg")
        #expect(snapshot.servers == ["1": "a:1:2:participant;2181", "2": "b:1:2:observer;0.0.0.0:2181"])
        #expect(snapshot.serversFile == conf + "/zoo.cfg.dynamic")
        #expect(snapshot.myid == "2")
        #expect(snapshot.javaEnv == ["JVMFLAGS": "-Xmx2g -Xms2g", "SERVER_JVMFLAGS": "-Dzookeeper.x=1"])
        #expect(snapshot.properties["tickTime"] == "2000" && snapshot.properties["server.1"] == nil)
    }
}
