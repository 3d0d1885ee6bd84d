import Foundation
import Testing
import ZKRunbookJSON5
import ZKRunbookTestSupport

@testable import ZKRunbookEngine

/// Reusable parts: `{ include: "parts/x.json5" }` stands for the part's steps, checked as if written in place,
/// every mistake reported at its own file and line.
struct RunbookPartsTests {
    func write(_ scratch: Scratch, _ name: String, _ text: String) throws -> String {
        let path = scratch.file(name)
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func load(_ path: String) throws(RunbookError) -> Runbook { try RunbookLoader().load(path: path) }

    /// Loading `path` fails with a diagnostic that `matches`.
    func expectInvalid(_ path: String, where matches: @escaping (Diagnostic) -> Bool) {
        #expect {
            try load(path)
        } throws: { error in
            guard case .invalid(let items) = error as? RunbookError else { return false }
            return items.contains(where: matches)
        }
    }

    static let part = """
        { part: "gates", description: "two gates", steps: [
          { id: "first", description: "wait ${pause}", action: "sleep", with: { duration: "${pause}" } },
          { id: "second", description: "again", action: "sleep", with: { duration: "${pause}" } },
        ] }
        """

    @Test func anIncludeStandsForThePartsStepsInPlace() throws {
        let scratch = Scratch("parts")
        _ = try write(scratch, "parts/gates.json5", Self.part)
        let path = try write(
            scratch, "r.json5",
            """
            { name: "r", parameters: { pause: { type: "duration", default: "1ms" } }, steps: [
              { id: "before", description: "b", action: "sleep", with: { duration: "1ms" } },
              { include: "parts/gates.json5" },
              { id: "after", description: "a", action: "sleep", with: { duration: "1ms" } },
            ] }
            """)
        let runbook = try load(path)
        #expect(runbook.steps.map(\.id) == ["before", "first", "second", "after"])
        #expect(runbook.steps[1].location.file.hasSuffix("parts/gates.json5"), "a step keeps the place it was written")
    }

    @Test func aMistakeInAPartIsReportedInThePartAtItsLine() throws {
        let scratch = Scratch("parts-bad")
        _ = try write(scratch, "parts/gates.json5", Self.part)
        // The including runbook has no 'pause' parameter: the part's reference to it is the error.
        let path = try write(scratch, "r.json5", #"{ name: "r", steps: [{ include: "parts/gates.json5" }] }"#)
        expectInvalid(path) { $0.location.file.hasSuffix("parts/gates.json5") && $0.location.line == 2 && $0.message.contains("pause") }
    }

    @Test(arguments: [
        (#"{ include: "parts/missing.json5" }"#, "no part file"),
        (#"{ include: "parts/gates.json5", id: "x" }"#, "takes only 'with'"),
        (#"{ include: "r.json5" }"#, "is not a part"),
        (#"{ include: "parts/loop.json5" }"#, "cycle"),
    ])
    func aBadIncludeIsNamed(_ include: String, _ expected: String) throws {
        let scratch = Scratch("parts-wrong")
        _ = try write(scratch, "parts/gates.json5", Self.part)
        _ = try write(scratch, "parts/loop.json5", #"{ part: "loop", steps: [{ include: "loop.json5" }] }"#)
        let path = try write(scratch, "r.json5", #"{ name: "r", parameters: { pause: { type: "duration", default: "1ms" } }, steps: [\#(include)] }"#)
        expectInvalid(path) { $0.message.contains(expected) }
    }

    static let roll = """
        { part: "roll", description: "one roll", parameters: { suffix: "id suffix", pause: "how long", keep: "keep it" }, steps: [
          { id: "wait${part.suffix}", description: "wait ${part.pause}", action: "sleep", with: { duration: "${part.pause}" },
            rollback: [{ id: "undo${part.suffix}", description: "u", action: "sleep", with: { duration: "1ms" } }], keepWhenLaterFails: "${part.keep}" },
        ] }
        """

    @Test func aPartTakesItsValuesOncePerIncludeAndTrueOrFalseBecomesAFlag() throws {
        let scratch = Scratch("parts-values")
        _ = try write(scratch, "parts/roll.json5", Self.roll)
        let path = try write(
            scratch, "r.json5",
            """
            { name: "r", steps: [
              { include: "parts/roll.json5", with: { suffix: "-1", pause: "1ms", keep: "true" } },
              { include: "parts/roll.json5", with: { suffix: "-2", pause: "2ms", keep: "false" } },
            ] }
            """)
        let runbook = try load(path)
        #expect(runbook.steps.map(\.id) == ["wait-1", "wait-2"])
        #expect(runbook.steps.map(\.description) == ["wait 1ms", "wait 2ms"])
        #expect(runbook.steps.map(\.keepWhenLaterFails) == [true, false])
        #expect(runbook.steps[1].rollback.map(\.id) == ["undo-2"])
    }

    @Test(arguments: [
        (#"with: { suffix: "", pause: "1ms" }"#, "the part takes 'keep'"),
        (#"with: { suffix: "", pause: "1ms", keep: "true", extra: "x" }"#, "takes no value 'extra'"),
        (#"with: { suffix: "", pause: 5, keep: "true" }"#, "must be a string"),
    ])
    func aPartsValuesAreCheckedAtTheInclude(_ with: String, _ expected: String) throws {
        let scratch = Scratch("parts-values-bad")
        _ = try write(scratch, "parts/roll.json5", Self.roll)
        let path = try write(scratch, "r.json5", #"{ name: "r", steps: [{ include: "parts/roll.json5", \#(with) }] }"#)
        expectInvalid(path) { $0.message.contains(expected) }
    }

    @Test func aValueThePartDoesNotDeclareIsAnErrorWhereItIsUsed() throws {
        let scratch = Scratch("parts-undeclared")
        _ = try write(
            scratch, "parts/p.json5", #"{ part: "p", steps: [{ id: "a", description: "${part.nothing}", action: "sleep", with: { duration: "1ms" } }] }"#)
        let path = try write(scratch, "r.json5", #"{ name: "r", steps: [{ include: "parts/p.json5" }] }"#)
        expectInvalid(path) { $0.location.file.hasSuffix("parts/p.json5") && $0.message.contains("declares no value 'nothing'") }
    }
}
