import Testing

@testable import ZKRunbookAgent

/// `${node.*}` in an ensemble file's restart command, filled in for each node.
struct NodeFieldsTests {
    @Test func nodeFieldsAreFilledIn() {
        let fields = ["id": "3", "host": "zk3", "clientPort": "2181"]
        #expect(EnsembleFile.fillingNodeFields(in: "ssh ${node.host} restart ${node.id}:${node.clientPort}", fields) == "ssh zk3 restart 3:2181")
        #expect(EnsembleFile.fillingNodeFields(in: "${node.unknown} ${node.id", fields) == "${node.unknown} ${node.id", "unknown or unclosed: as written")
        #expect(EnsembleFile.fillingNodeFields(in: "plain", fields) == "plain")
    }
}
