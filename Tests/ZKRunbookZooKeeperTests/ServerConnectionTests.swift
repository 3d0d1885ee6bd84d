import Foundation
import Testing
import ZKRunbookTestSupport

@testable import ZKRunbookZooKeeper

/// The seam under every connection to a server: a connector that is not bare TCP (as TLS will be) carries the
/// four-letter words, the AdminServer and the probe's round unchanged. Here it is in memory (`MemoryServers`), answering with
/// replies captured from a real 3.8 server (`Fixtures`).
struct ServerConnectionTests {
    @Test func aProbeRoundGoesThroughTheConnectorGiven() {
        let connector = MemoryServers([
            2181: ["srvr": Fixtures.leaderSrvr, "mntr": Fixtures.leaderMntr36],
            2182: ["srvr": Fixtures.followerSrvr, "mntr": Fixtures.leaderMntr36],
        ])
        let probe = ServerProbe(wantRuok: false, connector: connector)
        let facts = probe.probeAll([
            (Endpoint(host: "zk1", port: 2181), nil), (Endpoint(host: "zk2", port: 2182), nil), (Endpoint(host: "zk3", port: 2183), nil),
        ])
        #expect(facts.map(\.mode) == [.leader, .follower, .unreachable])
        #expect(facts[0].zxid?.raw == 0x2_0000_000a)
        #expect(facts[0].syncedFollowers == 2)
        #expect(Set(connector.asked) == ["2181 srvr", "2181 mntr", "2182 srvr", "2182 mntr"], "every word through the connector, none over TCP")
    }

    @Test func theAdminServerIsAskedThroughItToo() throws {
        let connector = MemoryServers([8080: ["GET ": "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n" + Fixtures.adminSrvr]])
        let reply = try AdminServerClient(connector: connector).command("srvr", at: Endpoint(host: "zk1", port: 8080)).get()
        #expect((reply["server_stats"] as? [String: Any])?["server_state"] as? String == "follower")
        #expect(connector.asked == ["8080 GET "])
    }
}
