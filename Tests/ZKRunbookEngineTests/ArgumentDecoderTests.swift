import ZKRunbookJSON5
import ZKRunbookProcess
import Testing

@testable import ZKRunbookEngine

/// An action that reads its arguments as its stored properties: each kind of argument, a default, a renamed
/// key and a cross-argument check.
private struct SampleAction: ArgumentsDecodable {
    static let name = "sample"
    static let summary = "a test action"

    var target: Template
    var targets: [Template]
    var wait: DurationSpec
    var note: String?
    var loud: Bool
    var destination: Template?
    var isReadOnly: Bool { true }
    static var defaults: [String: any ArgumentValue] { ["wait": DurationSpec.literal(RunbookDuration(milliseconds: 1500)), "loud": false] }

    enum CodingKeys: String, CodingKey {
        case target, targets, wait, note, loud
        case destination = "to"
    }

    func check(_ arguments: ActionArguments) {
        if note == "forbidden" { arguments.diagnostics.error(arguments.reader.location, "a sample may not say 'forbidden'") }
    }

    func describe(_ resolver: TemplateResolver) -> [String] { [] }
    func execute(_ context: ActionContext) throws(ActionOutcome) -> ActionOutcome { .success("") }
}

struct ArgumentDecoderTests {
    /// Reads `with` (a JSON5 object) as a SampleAction; the diagnostics, including unknown keys.
    private func read(_ with: String) throws -> (action: SampleAction?, messages: [String]) {
        let diagnostics = DiagnosticCollector()
        let node = try JSON5Parser.parse(with, file: "with.json5")
        let reader = try #require(ObjectReader(node, context: "step 's'", diagnostics: diagnostics))
        let action = SampleAction(ActionArguments(reader: reader, registry: .builtIn, stepID: "s", asProbe: false))
        reader.finish()
        return (action, diagnostics.items.map(\.description))
    }

    @Test func everyKindOfArgumentIsRead() throws {
        let (action, messages) = try read(#"{ target: "/a/${p}", targets: ["x", "y"], wait: "2s", note: "hi", loud: true, to: "/b" }"#)
        #expect(messages.isEmpty, "\(messages)")
        let sample = try #require(action)
        #expect(sample.target.source == "/a/${p}")
        #expect(sample.targets.map(\.source) == ["x", "y"])
        #expect(sample.wait == .literal(RunbookDuration(milliseconds: 2000)))
        #expect(sample.note == "hi" && sample.loud && sample.destination?.source == "/b")
    }

    @Test func defaultsFillWhatIsLeftOutAndOptionalsStayNil() throws {
        let sample = try #require(try read(#"{ target: "t", targets: [] }"#).action)
        #expect(sample.wait == .literal(RunbookDuration(milliseconds: 1500)))
        #expect(!sample.loud && sample.note == nil && sample.destination == nil)
    }

    @Test func everyProblemIsReportedWithItsPlace() throws {
        let messages = try read(#"{ targets: "not an array", wait: "10 parsecs", loud: "yes", tO: "/b" }"#).messages
        #expect(messages.contains { $0.contains("with.json5:1:1") && $0.contains("missing 'target'") }, "\(messages)")
        #expect(messages.contains { $0.contains("'targets' in step 's' must be an array of strings") }, "\(messages)")
        #expect(messages.contains { $0.contains("'wait'") && $0.contains("10 parsecs") }, "\(messages)")
        #expect(messages.contains { $0.contains("'loud' in step 's' must be true or false") }, "\(messages)")
        #expect(messages.contains { $0.contains("unknown key 'tO'") && $0.contains("did you mean 'to'") }, "\(messages)")
        #expect(messages.count == 5, "\(messages)")
    }

    @Test func aCrossArgumentCheckIsReported() throws {
        let messages = try read(#"{ target: "t", targets: [], note: "forbidden" }"#).messages
        #expect(messages == messages.filter { $0.contains("may not say 'forbidden'") } && messages.count == 1, "\(messages)")
    }
}
