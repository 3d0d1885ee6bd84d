import Testing

@testable import ZKRunbookZooKeeper

/// `${node.*}` in an ensemble file's restart command, filled in for each node.
struct NodeFieldsTests {
    @Test func nodeFieldsAreFilledInOnePass() {
        let fields = ["id": "3", "host": "zk3", "clientPort": "2181"]
        let marker = Array("${node.".utf8)
        #expect(EnsembleFile.substitutingNodeFields(in: "ssh ${node.host} restart ${node.id}:${node.clientPort}", fields, marker: marker) == "ssh zk3 restart 3:2181")
        #expect(EnsembleFile.substitutingNodeFields(in: "${node.unknown} ${node.id", fields, marker: marker) == "${node.unknown} ${node.id", "unknown or unclosed: as written")
        #expect(EnsembleFile.substitutingNodeFields(in: "plain", fields, marker: marker) == "plain")
    }
}
