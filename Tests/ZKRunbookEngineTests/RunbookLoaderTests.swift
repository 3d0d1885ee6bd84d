import Foundation
import Testing
import ZKRunbookJSON5
import ZKRunbookProcess
import ZKRunbookTestSupport

@testable import ZKRunbookEngine

struct RunbookLoaderTests {
    static let valid = """
        {
          name: "demo",
          description: "a demo",
          parameters: {
            target: { type: "path", required: true },
            wait: { type: "duration", default: "2s" },
            token: { type: "string", secret: true, default: "s3cret" },
          },
          steps: [
            { id: "check", description: "check", action: "assert",
              with: { probe: "file", with: { path: "${target}" }, fact: "exists", equals: true } },
            { id: "backup", description: "backup", action: "backup-file", with: { path: "${target}" },
              timeout: "${wait}", retries: { count: 2, backoff: "10ms" }, rollback: ["restore"] },
            { id: "use", description: "use", action: "exec",
              with: { argv: ["echo", "${steps.backup.backupPath}", "${wait.seconds}"] },
              guards: [{ fact: "steps.backup.sha256", matches: "^[0-9a-f]{64}$" }],
              rollback: [{ description: "inline undo", action: "exec", with: { argv: ["true"] } }] },
          ],
          rollbacks: [
            { id: "restore", description: "restore", action: "restore-file", with: { backupStep: "backup" } },
          ],
        }
        """

    @Test func aValidRunbookLoadsWithEverythingTyped() throws {
        let runbook = try loadRunbook(Self.valid)
        #expect(runbook.name == "demo")
        #expect(runbook.steps.map(\.id) == ["check", "backup", "use"])
        #expect(runbook.steps[1].retry.retries == 2)
        #expect(
            runbook.steps[1].timeout
                == .parameter(
                    "wait",
                    runbook.steps[1].timeout.map {
                        if case .parameter(_, let l) = $0 { return l } else { return SourceLocation(file: "", line: 0, column: 0) }
                    }!))
        #expect(runbook.steps[1].rollback.map(\.id) == ["restore"])
        #expect(runbook.steps[2].rollback.map(\.id) == ["use-rollback-1"])
        #expect(runbook.parameter(named: "token")?.secret == true)
        #expect(runbook.steps[0].action.isReadOnly)
        #expect(!runbook.steps[1].action.isReadOnly)
    }

    /// Each bad input names the file, line and column, and says what was expected. The expected position is
    /// that of `anchor`, the text the error must point at (its last occurrence).
    @Test(arguments: [
        (
            "{ name: 'x', steps: [{ id: 'a', description: 'd', action: 'exec', with: { argv: ['true'] }, tiemout: '5s' }] }",
            "tiemout", "unknown key 'tiemout' in step 'a'; did you mean 'timeout'?"
        ),
        (
            "{ name: 'x', steps: [{ id: 'a', description: 'd', action: 'exec', with: { argv: 'true' } }] }",
            "'true' }", "'argv' in the 'with' of step 'a' must be an array of strings, found a string"
        ),
        (
            "{ name: 'x', steps: [{ id: 'a', description: 'd', action: 'sleep', with: { duration: '10 parsecs' } }] }",
            "'10 parsecs'", "expected a duration such as 500ms, 30s, 5m, 1h30m or 2d, found '10 parsecs'"
        ),
        (
            "{ name: 'x', steps: [{ id: 'a', description: 'd', action: 'sleep', with: { duration: '1s' } },\n { id: 'a', description: 'd', action: 'sleep', with: { duration: '1s' } }] }",
            "{ id: 'a'", "duplicate step id 'a' (first used at line 1)"
        ),
        (
            "{ name: 'x', steps: [{ id: 'a', description: 'd', action: 'sleep', with: { duration: '1s' }, rollback: ['undo'] }] }",
            "'undo'", "names rollback 'undo', which is not in 'rollbacks'"
        ),
        (
            "{ name: 'x', steps: [{ id: 'a', description: 'd', action: 'exce', with: {} }] }",
            "'exce'", "unknown action 'exce' in step 'a'; did you mean 'exec'?"
        ),
        (
            "{ name: 'x', steps: [{ id: 'a', description: 'd', action: 'exec', with: { argv: ['echo', '${nope}'] } }] }",
            "'${nope}'", "refers to ${nope}, which is not a parameter"
        ),
        (
            "{ name: 'x', steps: [{ id: 'a', description: 'd', action: 'exec', with: { argv: ['echo', '${steps.b.x}'] } },\n{ id: 'b', description: 'd', action: 'exec', with: { argv: ['true'] } }] }",
            "'${steps.b.x}'", "refers to step 'b', which has not run yet"
        ),
        (
            "{ name: 'x', steps: [{ id: 'a', description: 'd', action: 'exec', with: { argv: ['echo', '${steps.zz.x}'] } }] }",
            "'${steps.zz.x}'", "refers to step 'zz', which does not exist"
        ),
        (
            "{ name: 'x', parameters: { p: { type: 'number' } }, steps: [{ id: 'a', description: 'd', action: 'sleep', with: { duration: '1s' } }] }",
            "'number'", "unknown type 'number' for parameter 'p'"
        ),
        (
            "{ name: 'x', steps: [{ id: 'a', description: 'd', action: 'exec', with: { argv: ['true'] }, guards: [{ probe: 'exec', with: { argv: ['rm', 'x'] }, fact: 'exitStatus', equals: 0 }] }] }",
            "{ argv: ['rm'", "a command used as a probe must be marked readOnly: true"
        ),
        ("{ name: 'x', steps: [] }", "[]", "'steps' is empty"),
        (
            "{ name: 'x', steps: [{ id: 'a', description: 'd', action: 'exec', with: { argv: ['true'] }, retries: -1 }] }",
            "-1", "'retries' in step 'a' must be between 0 and 100"
        ),
        (
            "{ name: 'x', steps: [{ id: 'a', description: 'd', action: 'exec', with: { argv: ['true'] }, guards: [{ fact: 'steps.a.x', equals: 1, atLeast: 2 }] }] }",
            "{ fact: 'steps.a.x'", "has 2 comparisons"
        ),
    ])
    func badInputIsReportedWithPosition(text: String, anchor: String, message: String) {
        let position = Self.position(of: anchor, in: text)
        let found = diagnostics(text)
        #expect(!found.isEmpty, "expected an error containing: \(message)")
        let match = found.first { $0.message.contains(message) }
        #expect(match != nil, "no diagnostic contains '\(message)'; got:\n\(found.map(\.description).joined(separator: "\n"))")
        if let match {
            #expect("\(match.location.line):\(match.location.column)" == position, "\(match)")
            #expect(match.description.hasPrefix("bad.json5:\(position): error: "))
        }
    }

    /// 1-based line:column of the last occurrence of `anchor`, counting characters.
    static func position(of anchor: String, in text: String) -> String {
        guard let range = text.range(of: anchor, options: .backwards) else { return "anchor not found" }
        let before = text[..<range.lowerBound]
        let line = before.filter { $0 == "\n" }.count + 1
        let column = before.count - (before.lastIndex(of: "\n").map { before.distance(from: before.startIndex, to: $0) + 1 } ?? 0) + 1
        return "\(line):\(column)"
    }

    @Test func everyProblemIsReportedNotJustTheFirst() {
        let found = diagnostics(
            "{ name: 'x', colour: 1, steps: [{ id: 'a', description: 'd', action: 'exec', with: { argv: ['true'], shel: true } }] }")
        #expect(found.count == 2, "\(found)")
        #expect(found.contains { $0.message.contains("unknown key 'colour' in the runbook") })
        #expect(found.contains { $0.message.contains("unknown key 'shel'") && $0.message.contains("did you mean 'shell'") })
    }

    @Test func shellStepsAreFlaggedAndScriptsAreNotTemplated() throws {
        let runbook = try loadRunbook(
            """
            { name: "x", parameters: { node: { type: "string", default: "a" } },
              steps: [{ id: "s", description: "d", action: "exec", with: { shell: true, script: "echo \\"${ZKRUNBOOK_PARAM_NODE}\\"" } }] }
            """)
        #expect(runbook.warnings.contains { $0.severity == .warning && $0.message.contains("runs a shell script") })
    }

    @Test func parametersAreTypedAndCheckedOnTheCommandLine() throws {
        let runbook = try loadRunbook(Self.valid)
        switch ParameterBinding.bind(runbook, given: [("target", "/x"), ("wiat", "5s")]) {
        case .success: Issue.record("an unknown parameter was accepted")
        case .failure(let problems):
            #expect(problems.messages.contains { $0.contains("unknown parameter 'wiat'") && $0.contains("did you mean 'wait'") })
        }
        switch ParameterBinding.bind(runbook, given: [("wait", "10 parsecs")]) {
        case .success: Issue.record("a bad duration was accepted")
        case .failure(let problems):
            #expect(problems.messages.contains { $0.contains("parameter 'wait': expected a duration") })
            #expect(problems.messages.contains { $0.contains("missing required parameter 'target'") })
        }
        let values = try ParameterBinding.bind(runbook, given: [("target", "/x")]).get()
        #expect(values["wait"] == .duration(RunbookDuration(milliseconds: 2000)))
        #expect(values["token"] == .string("s3cret"))
    }
}

/// An action's templates are found by reflection: an optional argument's reference is checked like a required
/// one, in the order written, and a missing value at run time is a thrown outcome the executor reports.
struct DeclaredActionTests {
    @Test func everyTemplateAnActionHoldsIsChecked() {
        let problems = diagnostics(
            """
            { name: "t", description: "d", steps: [
              { id: "b", description: "b", action: "backup-file", with: { path: "${nope}", to: "${also.nope}" } },
              { id: "l", description: "l", action: "lease-check", with: { clientPort: "2181", lease: "${steps.later.x}" } },
              { id: "later", description: "later", action: "sleep", with: { duration: "1ms" } },
            ] }
            """)
        let messages = problems.map(\.message)
        #expect(messages.count == 3, "\(messages)")
        #expect(messages.first?.contains("${nope}") == true, "written first, reported first: \(messages)")
        #expect(messages.dropFirst().first?.contains("also") == true, "the optional 'to' is checked too: \(messages)")
        #expect(messages.last?.contains("later") == true, "\(messages)")
    }

    @Test func aThrownOutcomeIsTheStepsOutcome() throws {
        let runbook = try loadRunbook(
            """
            { name: "t", description: "d", parameters: { p: { type: "path" } }, steps: [
              { id: "r", description: "r", action: "restore-file", with: { path: "${p}", from: "/nonexistent" } },
            ] }
            """)
        let scratch = Scratch("thrown")
        let recorder = EventRecorder()
        let outcome = try RunService().start(
            runbook, parameters: [:], options: RunOptions(mode: .live, layout: StateLayout(root: scratch.file("state"))), sink: recorder,
            cancellation: CancellationToken())
        #expect(outcome.status == .failed)
        #expect(recorder.events.first { $0.step == "r" && $0.type == .stepFinished }?.cause == .unresolvedReference)
    }
}
