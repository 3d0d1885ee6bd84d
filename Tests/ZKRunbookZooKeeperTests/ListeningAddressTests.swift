import Foundation
import Testing
import ZKRunbookProcess
import ZKRunbookTestSupport

@testable import ZKRunbookZooKeeper

/// Where a node's checks ask its server: the kernel's listening table, in lines this machine's kernel wrote
/// (a socket bound to 127.0.0.2, one to 0.0.0.0, one to ::, and a JVM's IPv4-mapped one).
struct ListeningAddressTests {
    static let tcp = """
          sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
           1: 0200007F:4705 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 208903 1 0000000058c91195 100 0 0 10 0
           3: 00000000:4707 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 208905 1 00000000276c530d 100 0 0 10 0
        """
    static let tcp6 = """
          sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
          20: 00000000000000000000000000000000:4706 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 208904 1 00000000346281da 100 0 0 10 0
           0: 0000000000000000FFFF00000100007F:5017 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 207507 1 00000000aa404d5e 100 0 0 10 0
        """

    @Test func aServerBoundToItsAddressIsAskedThere() {
        #expect(ListeningAddress.resolve(port: 0x4705, tcp: Self.tcp, tcp6: Self.tcp6).host == "127.0.0.2")
        #expect(ListeningAddress.resolve(port: 0x5017, tcp: Self.tcp, tcp6: Self.tcp6).host == "127.0.0.1")
        #expect(ListeningAddress.sockets(port: 0x5017, tcp: Self.tcp, tcp6: Self.tcp6) == [.init(address: "127.0.0.1", isIPv6: true, inode: 207507)])
    }

    @Test func aWildcardOrNothingListeningMeansLoopback() {
        #expect(ListeningAddress.sockets(port: 0x4707, tcp: Self.tcp, tcp6: Self.tcp6) == [.init(address: nil, isIPv6: false, inode: 208905)])
        #expect(ListeningAddress.resolve(port: 0x4706, tcp: Self.tcp, tcp6: Self.tcp6).host == "127.0.0.1")
        #expect(ListeningAddress.resolve(port: 2181, tcp: Self.tcp, tcp6: Self.tcp6).host == "127.0.0.1")
        #expect(ListeningAddress.sockets(port: 2181, tcp: Self.tcp, tcp6: Self.tcp6).isEmpty)
    }
}

/// Which zoo.cfg a running server was started with, from its command line.
struct RunningServerTests {
    @Test func theArgumentAfterTheMainClassMadeAbsolute() {
        let line = ["/usr/bin/java", "-cp", "/a:/b", "-Dzookeeper.log.dir=/var/log", "org.apache.zookeeper.server.quorum.QuorumPeerMain", "conf/zoo.cfg"]
        let found = RunningServer.parse(commandLine: line, workingFolder: "/opt/zookeeper/bin/..")
        #expect(found?.mainClass == "org.apache.zookeeper.server.quorum.QuorumPeerMain")
        #expect(found?.configPath == "/opt/zookeeper/conf/zoo.cfg", "\(String(describing: found))")
        let absolute = RunningServer.parse(commandLine: line.dropLast() + ["/etc/zookeeper/conf/zoo.cfg", ""], workingFolder: "/")
        #expect(absolute?.configPath == "/etc/zookeeper/conf/zoo.cfg")
        // ZooKeeperServerMain's other form, `port dataDir`, names no file.
        let standalone = RunningServer.parse(commandLine: ["java", "org.apache.zookeeper.server.ZooKeeperServerMain", "2181", "/data"], workingFolder: "/")
        #expect(standalone?.mainClass == "org.apache.zookeeper.server.ZooKeeperServerMain" && standalone?.configPath == nil)
        #expect(RunningServer.parse(commandLine: ["/usr/bin/docker-proxy", "-host-port", "2181"], workingFolder: "/") == nil)
    }

    @Test func aPortNothingListensOnIsSaidSo() {
        // Port 1 is never a ZooKeeper's here.
        guard case .failure(let problem) = RunningServer.find(clientPort: 1) else {
            Issue.record("something listens on port 1")
            return
        }
        #expect(problem.description == "nothing listens on port 1 here")
    }

    @Test func theListenerOfThisProcessIsFoundAndIsNotAZooKeeper() throws {
        let server = FakeServer(.silent)
        defer { server.stop() }
        guard case .failure(let problem) = RunningServer.find(clientPort: server.port) else {
            Issue.record("the test process was taken for a ZooKeeper server")
            return
        }
        #expect(problem.description.contains("process \(getpid())") && problem.description.contains("it is not a ZooKeeper server"), "\(problem)")
    }
}

/// /proc files are read whole: Foundation stopped after the first ~4 KB of /proc/net/tcp, so a listener
/// further down the table was "nothing listens" (seen: node-config found no server on a busy machine).
struct ProcFileTests {
    @Test func everyListenerIsSeenPastTheFirstPage() throws {
        let servers = (0..<80).map { _ in FakeServer(.silent) }
        defer { for server in servers { server.stop() } }
        let text = try #require(ProcFile.text("/proc/net/tcp"))
        #expect(text.utf8.count > 8192, "80 listeners make the table longer than two pages: \(text.utf8.count) bytes")
        let missing = servers.filter { server in ListeningAddress.sockets(port: server.port, tcp: text, tcp6: "").isEmpty }.map(\.port)
        #expect(missing.isEmpty, "listeners not in the table as read: \(missing)")
        guard case .failure(let problem) = RunningServer.find(clientPort: servers[79].port) else {
            Issue.record("the test process was taken for a ZooKeeper server")
            return
        }
        #expect(problem.description.contains("it is not a ZooKeeper server"), "found as a listener, whatever its place in the table: \(problem)")
    }
}
