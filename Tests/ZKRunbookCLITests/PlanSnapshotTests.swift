import Foundation
import ZKRunbookTestSupport
import Testing

/// What every shipped runbook would do, compared with the plan committed under Tests/plans: a change in
/// a runbook's behaviour shows up as a diff in review (regenerate with Tests/plans/update.sh).
@Suite(.serialized)
struct PlanSnapshotTests {
    let zkrunbook: ZKRunbookBinary

    init() throws { zkrunbook = try ZKRunbookBinary.locate() }

    func plan(_ runbook: String, name: String) throws -> ZKRunbookBinary.Result {
        let paramsFile = repositoryRoot + "/Tests/plans/\(name).params"
        let params = ((try? String(contentsOfFile: paramsFile, encoding: .utf8)) ?? "").split(whereSeparator: \.isWhitespace).map(String.init)
        return try zkrunbook.run(["plan", runbook, "--offline"] + params, directory: repositoryRoot)
    }

    @Test func everyShippedRunbookPlansAsCommitted() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: repositoryRoot + "/runbooks").filter { $0.hasSuffix(".json5") }.sorted()
        #expect(!names.isEmpty)
        for file in names {
            let name = String(file.dropLast(".json5".count))
            let result = try plan("runbooks/\(file)", name: name)
            #expect(result.status == 0, "\(name): \(result.stderr)")
            let expected = try? String(contentsOfFile: repositoryRoot + "/Tests/plans/\(name).plan", encoding: .utf8)
            #expect(expected != nil, "no committed plan for \(name): run Tests/plans/update.sh and commit Tests/plans/\(name).plan")
            #expect(result.stdout == expected, "the plan of \(name) changed: review it, then run Tests/plans/update.sh if intended")
        }
    }

    @Test func removingTheQuorumGuardChangesThePlan() throws {
        let workspace = Scratch("dangerous")
        let original = try String(contentsOfFile: repositoryRoot + "/runbooks/rolling-restart.json5", encoding: .utf8)
        let guardStart = try #require(original.range(of: "              {\n                description: \"the voters left without node"))
        let guardEnd = try #require(original.range(of: "fact: \"canElectWithout\", equals: true,\n              },\n", range: guardStart.upperBound..<original.endIndex))
        var edited = original
        edited.removeSubrange(guardStart.lowerBound..<guardEnd.upperBound)
        #expect(edited != original)
        let path = workspace.write("rolling-restart.json5", edited)
        let result = try plan(path, name: "rolling-restart")
        #expect(result.status == 0, "\(result.stderr)")
        let expected = try String(contentsOfFile: repositoryRoot + "/Tests/plans/rolling-restart.plan", encoding: .utf8)
        #expect(result.stdout != expected, "a dangerous edit left the plan unchanged")
        #expect(expected.contains("guard: the voters left without node 1 still form a majority"))
        #expect(!result.stdout.contains("still form a majority"))
    }
}
