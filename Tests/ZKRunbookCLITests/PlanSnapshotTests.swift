import Foundation
import Testing
import ZKRunbookTestSupport

/// What every shipped runbook would do, compared with the plan committed under Tests/plans: a change in
/// a runbook's behaviour shows up as a diff in review (regenerate with Tests/plans/update.sh).
@Suite(.serialized)
struct PlanSnapshotTests {
    let zkrunbook: ZKRunbookBinary

    init() throws { zkrunbook = try ZKRunbookBinary.locate() }

    func plan(_ runbook: String, name: String) throws -> ZKRunbookBinary.Result {
        let paramsFile = repositoryRoot + "/Tests/plans/\(name).params"
        let params = ((try? String(contentsOfFile: paramsFile, encoding: .utf8)) ?? "").split(whereSeparator: \.isWhitespace).map(String.init)
        // As check-runbooks.sh pins it: the state-folder paths a plan names are a node's (it writes nothing there).
        return try zkrunbook.run(
            ["plan", runbook, "--offline"] + params, directory: repositoryRoot, environment: ["ZKRUNBOOK_STATE_DIR": "/var/lib/zkrunbook"])
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

    /// The CI example keeps a JSON value with spaces whole, quoted or not (it once split on every space), and an
    /// unmatched quote fails the check naming the file.
    @Test func theCIExampleKeepsAQuotedJSONValueWhole() throws {
        let workspace = Scratch("ci-params")
        _ = workspace.write(
            "runbooks/say.json5",
            """
            { name: "say", parameters: { restartCommand: { type: "string", required: true } },
              steps: [{ id: "say", description: "run ${restartCommand}", action: "exec", with: { argv: ["/bin/echo", "${restartCommand}"] } }] }
            """)
        _ = workspace.write("plans/say.params", "# the restart command, as JSON\n--param 'restartCommand=[\"systemctl\", \"restart\", \"zookeeper\"]'\n")
        let script = repositoryRoot + "/packaging/ci-example/check-runbooks.sh"
        let arguments = [script, "--zkrunbook", zkrunbook.path, "--runbooks", workspace.file("runbooks"), "--plans", workspace.file("plans")]
        let update = try ZKRunbookBinary(path: "/bin/bash").run(arguments + ["--update"])
        #expect(update.status == 0, "\(update.stdout)\(update.stderr)")
        #expect(workspace.text("plans/say.plan").contains("run [\"systemctl\", \"restart\", \"zookeeper\"]"), "\(workspace.text("plans/say.plan"))")
        #expect(try ZKRunbookBinary(path: "/bin/bash").run(arguments).status == 0)
        // Unquoted, as the issue's user wrote it: the brackets keep the value whole, its quotes kept.
        _ = workspace.write("plans/say.params", "--param restartCommand=[\"systemctl\", \"restart\", \"zookeeper\"]\n")
        #expect(try ZKRunbookBinary(path: "/bin/bash").run(arguments).status == 0, "the unquoted JSON value did not plan as the quoted one")
        _ = workspace.write("plans/say.params", "--param 'restartCommand=[\"systemctl\"]\n")
        let broken = try ZKRunbookBinary(path: "/bin/bash").run(arguments)
        #expect(broken.status != 0)
        #expect(broken.stderr.contains("say.params: cannot read its arguments"), "\(broken.stderr)")
    }

    @Test func removingTheQuorumGuardChangesThePlan() throws {
        let workspace = Scratch("dangerous")
        // A copy of a runbook takes the parts it includes along (the error says where it looked otherwise).
        try FileManager.default.copyItem(atPath: repositoryRoot + "/runbooks/parts", toPath: workspace.file("parts"))
        let path = workspace.write("rolling-restart.json5", try String(contentsOfFile: repositoryRoot + "/runbooks/rolling-restart.json5", encoding: .utf8))
        // The guard lives in the part every rolling restart includes: removed there.
        let original = try String(contentsOfFile: workspace.file("parts/node-restart.json5"), encoding: .utf8)
        let guardStart = try #require(original.range(of: "        {\n          description: \"the voters left without node"))
        let guardEnd = try #require(
            original.range(of: "fact: \"canElectWithout\", equals: true,\n        },\n", range: guardStart.upperBound..<original.endIndex))
        var edited = original
        edited.removeSubrange(guardStart.lowerBound..<guardEnd.upperBound)
        #expect(edited != original)
        _ = workspace.write("parts/node-restart.json5", edited)
        let result = try plan(path, name: "rolling-restart")
        #expect(result.status == 0, "\(result.stderr)")
        let expected = try String(contentsOfFile: repositoryRoot + "/Tests/plans/rolling-restart.plan", encoding: .utf8)
        #expect(result.stdout != expected, "a dangerous edit left the plan unchanged")
        #expect(expected.contains("guard: the voters left without node 1 still form a majority"))
        #expect(!result.stdout.contains("still form a majority"))
    }
}
