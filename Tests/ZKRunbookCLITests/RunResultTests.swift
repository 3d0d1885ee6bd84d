import Foundation
import Testing
import ZKRunbookTestSupport

/// `--result`: one JSON document at the end of run, plan and resume, for automation; `runs` lists the runs
/// kept and prunes them; `show` renders a journal.
@Suite(.serialized)
struct RunResultTests {
    let zkrunbook: ZKRunbookBinary

    init() throws { zkrunbook = try ZKRunbookBinary.locate() }

    func runbook(_ scratch: Scratch, refuse: Bool = false) -> String {
        scratch.write(
            "touch.json5",
            """
            { name: "touch", steps: [
              { id: "check", description: "read-only", action: "assert",
                with: { probe: "file", with: { path: "\(scratch.path)" }, fact: "exists", equals: true } },
              { id: "touch", description: "changes a file", action: "exec", with: { argv: ["touch", "\(scratch.file("touched"))"] },
                guards: [{ probe: "file", with: { path: "\(scratch.path)" }, fact: "exists", equals: \(refuse ? "false" : "true") }] },
            ] }
            """)
    }

    /// A result document, checked against packaging/schemas/result.schema.json.
    func document(_ text: String) throws -> [String: Any] {
        #expect(try JSONSchema.published("result").problems(text) == [], "\(text)")
        return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "\(text)")
    }

    @Test func runPlanAndRefusalEachWriteOneResultAndRunsListsThem() throws {
        let scratch = Scratch("result")
        let state = ["--state-dir", scratch.file("state")]
        let file = runbook(scratch)

        let plan = try zkrunbook.run(["plan", file, "--result", "-"] + state)
        #expect(plan.status == 0, "\(plan.stderr)")
        let planned = try document(String(plan.stdout[plan.stdout.range(of: "{\n")!.lowerBound...]))
        #expect(planned["changed"] as? Bool == true, "a plan says it would change: \(planned)")
        #expect(planned["mode"] as? String == "dry-run" && planned["status"] as? String == "succeeded")
        #expect(!FileManager.default.fileExists(atPath: scratch.file("touched")), "the plan changed nothing")

        let resultFile = scratch.file("result.json")
        let run = try zkrunbook.run(["run", file, "--result", resultFile] + state)
        #expect(run.status == 0, "\(run.stdout)")
        let result = try document(scratch.read("result.json") ?? "")
        #expect(result["schema"] as? Int == 1 && result["exitCode"] as? Int == 0 && result["status"] as? String == "succeeded")
        #expect(result["changed"] as? Bool == true && result["runbook"] as? String == "touch" && (result["host"] as? String ?? "").count > 0)
        let steps = result["steps"] as? [[String: Any]] ?? []
        #expect(steps.map { $0["id"] as? String ?? "" } == ["check", "touch"])
        #expect(steps.map { $0["changed"] as? Bool ?? true } == [false, true], "\(steps)")
        #expect(result["reason"] == nil)
        let runID = try #require(result["runID"] as? String)

        let other = Scratch("result-refused")
        let refusedFile = runbook(other, refuse: true)
        let refused = try zkrunbook.run(["run", refusedFile, "--result", resultFile] + state)
        #expect(refused.status == 3)
        let said = try document(scratch.read("result.json") ?? "")
        #expect(said["status"] as? String == "refused" && said["exitCode"] as? Int == 3 && said["changed"] as? Bool == false, "\(said)")
        #expect((said["reason"] as? String ?? "").contains("touch"), "the refusal's reason: \(said)")

        let events = try zkrunbook.run(["run", file, "--json"] + state)
        #expect(events.stdout.contains("\"host\":"), "every event says its host: \(events.stdout.prefix(500))")

        let runs = try zkrunbook.run(["runs", "--json"] + state)
        let listed = runs.stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(listed.contains { $0["runID"] as? String == runID && $0["status"] as? String == "succeeded" && $0["runbook"] as? String == "touch" }, "\(runs.stdout)")
        #expect(listed.contains { $0["status"] as? String == "refused" })
        let shown = try zkrunbook.run(["show", runID] + state)
        #expect(shown.status == 0 && shown.stdout.contains("changes a file"), "\(shown.stdout)")
        let journal = try zkrunbook.run(["show", runID, "--json"] + state)
        #expect(try JSONSchema.published("event").problems(lines: journal.stdout) == [])
        #expect(journal.stdout.split(separator: "\n").allSatisfy { $0.contains("\"host\":") }, "the journal's events say their host too")
        #expect(try zkrunbook.run(["show", "no-such-run"] + state).status == 2)

        let pruned = try zkrunbook.run(["runs", "--keep", "1", "--json"] + state)
        #expect(pruned.stderr.contains("removed \(listed.count - 1) finished run(s)"), "\(pruned.stderr)")
        #expect(pruned.stdout.split(separator: "\n").count == 1, "\(pruned.stdout)")
    }
}
