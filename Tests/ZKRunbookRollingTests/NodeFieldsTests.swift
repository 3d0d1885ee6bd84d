import Testing
import ZKRunbookTestSupport

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

/// The ensemble file is parsed once per process while it is unchanged, and read again once it changes.
struct EnsembleFileCacheTests {
    @Test func anUnchangedFileIsParsedOnceAndAnEditedOneAgain() throws {
        let scratch = Scratch("ensemble-cache")
        let path = scratch.write("e.json5", #"{ name: "first", nodes: [{ id: 1, host: "127.0.0.1" }], restartCommand: ["true"] }"#)
        #expect(try EnsembleFile.load(path: path).name == "first")
        let key = try #require(ParsedFiles.shared.keys.first { $0.path == path })
        #expect(try EnsembleFile.load(path: path).nodes.count == 1)
        #expect(ParsedFiles.shared.keys.filter { $0.path == path } == [key], "the second load was served from the first parse")
        _ = scratch.write(
            "e.json5", #"{ name: "second, edited", nodes: [{ id: 1, host: "127.0.0.1" }, { id: 2, host: "127.0.0.2" }], restartCommand: ["true"] }"#)
        let edited = try EnsembleFile.load(path: path)
        #expect(edited.name == "second, edited" && edited.nodes.count == 2, "an edit mid-run is seen, never a stale parse")
    }
}
