import Foundation
import ZKRunbookJSON5

/// A string from a runbook with `${...}` references, resolved only when its step runs.
///
/// References: `${name}` (a parameter), `${name.seconds}` / `${name.ms}` (a duration parameter in numbers),
/// `${steps.ID.FACT}` (a fact an earlier step reported), `${run.id}`, `${run.dir}`, `${run.stateDir}`.
/// `$${` writes a literal `${`. A template always becomes exactly one string: in an argv it is one element
/// whatever the value holds, which is why parameter values cannot inject commands.
public struct Template: Sendable, Hashable, CustomStringConvertible {
    public enum Reference: Error, Sendable, Hashable, CustomStringConvertible {
        case parameter(String, accessor: String?)
        case stepFact(step: String, fact: String)
        case run(String)
        /// `${node.host}` and the like: the node a per-node step is working on.
        case node(String)

        public var description: String {
            switch self {
            case .parameter(let name, let accessor): return accessor.map { "\(name).\($0)" } ?? name
            case .stepFact(let step, let fact): return "steps.\(step).\(fact)"
            case .run(let field): return "run.\(field)"
            case .node(let field): return "node.\(field)"
            }
        }
    }

    public enum Segment: Sendable, Hashable {
        case literal(String)
        case reference(Reference)
    }

    public var segments: [Segment]
    public var location: SourceLocation
    /// The text as written, for plans and error messages.
    public var source: String

    public static let runFields: Set<String> = ["id", "dir", "stateDir"]
    public static let durationAccessors: Set<String> = ["seconds", "ms"]

    public var description: String { source }

    public var references: [Reference] {
        segments.compactMap { if case .reference(let reference) = $0 { return reference } else { return nil } }
    }

    public var isLiteral: Bool { references.isEmpty }

    /// A template with no references, for values that the engine makes itself.
    public static func literal(_ text: String, at location: SourceLocation) -> Template {
        Template(segments: [.literal(text)], location: location, source: text.replacingEvery("${", with: "$${"))
    }

    /// A built-in default: no references, so no position is ever reported for it.
    public static func literal(_ text: String) -> Template { literal(text, at: SourceLocation(file: "(default)", line: 0, column: 0)) }

    /// Parses `text`; the error message says what a reference must look like.
    public static func parse(_ text: String, at location: SourceLocation) -> Result<Template, Diagnostic> {
        let dollar = UInt8(ascii: "$")
        // Found on the UTF-8 bytes (every mark is ASCII, so each index is a character's too): searching the
        // characters themselves cost a plan a tenth of its time.
        guard text.utf8.contains(dollar) else { return .success(Template(segments: [.literal(text)], location: location, source: text)) }
        var segments: [Segment] = []
        var literal = ""
        var rest = Substring(text)
        while let dollarIndex = rest.utf8.firstIndex(of: dollar) {
            literal += rest[..<dollarIndex]
            let after = rest[dollarIndex...]
            if after.utf8.starts(with: "$${".utf8) {
                literal += "${"
                rest = after.dropFirst(3)
            } else if after.utf8.starts(with: "${".utf8) {
                guard let close = after.utf8.firstIndex(of: UInt8(ascii: "}")) else {
                    return .failure(Diagnostic(location: location, severity: .error, message: "unterminated reference '\(after)': expected '}'"))
                }
                let body = String(after[after.utf8.index(after.startIndex, offsetBy: 2)..<close])
                switch parseReference(body) {
                case .success(let reference):
                    if !literal.isEmpty { segments.append(.literal(literal)) }
                    literal = ""
                    segments.append(.reference(reference))
                case .failure(let message):
                    return .failure(Diagnostic(location: location, severity: .error, message: message.message))
                }
                rest = after[after.utf8.index(after: close)...]
            } else {
                literal += "$"
                rest = after.dropFirst()
            }
        }
        literal += rest
        if !literal.isEmpty || segments.isEmpty { segments.append(.literal(literal)) }
        return .success(Template(segments: segments, location: location, source: text))
    }

    private static func parseReference(_ body: String) -> Result<Reference, InputProblem> {
        let parts = body.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        let validName = { (part: String) -> Bool in
            guard !part.isEmpty else { return false }
            // ASCII names by their bytes; a name with other letters by its characters.
            if part.utf8.allSatisfy({ $0 < 0x80 }) {
                return part.utf8.allSatisfy { byte in
                    (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                        || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
                }
            }
            return part.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }
        }
        let expected =
            "expected ${parameter}, ${parameter.seconds}, ${steps.STEP-ID.FACT}, ${run.id|dir|stateDir} or ${node.FIELD}, found '${\(body)}'"
        guard parts.allSatisfy(validName) else { return .failure(InputProblem(expected)) }
        switch (parts.first, parts.count) {
        case ("steps", 3): return .success(.stepFact(step: parts[1], fact: parts[2]))
        case ("run", 2) where runFields.contains(parts[1]): return .success(.run(parts[1]))
        // Which fields a node has is declared by the action that opens the per-node scope; the loader checks it.
        case ("node", 2): return .success(.node(parts[1]))
        case ("steps", _), ("run", _), ("node", _): return .failure(InputProblem(expected))
        case (_, 1): return .success(.parameter(parts[0], accessor: nil))
        case (_, 2) where durationAccessors.contains(parts[1]): return .success(.parameter(parts[0], accessor: parts[1]))
        default: return .failure(InputProblem(expected))
        }
    }

    /// Reads a template from a string node, recording an error for anything else.
    static func read(_ node: JSON5Node, what: String, diagnostics: DiagnosticCollector) -> Template? {
        let text: String
        switch node.value {
        case .string(let value): text = value
        case .integer(let value): text = String(value)
        default:
            diagnostics.error(node.location, "\(what) must be a string, found \(node.kindName)")
            return nil
        }
        switch parse(text, at: node.location) {
        case .success(let template): return template
        case .failure(let diagnostic):
            diagnostics.error(diagnostic.location, diagnostic.message)
            return nil
        }
    }

    /// The string with every reference replaced, or the first reference that has no value yet.
    public func resolve(_ resolver: TemplateResolver) -> Result<String, Reference> {
        var out = ""
        for segment in segments {
            switch segment {
            case .literal(let text): out += text
            case .reference(let reference):
                guard let value = resolver.value(of: reference) else { return .failure(reference) }
                out += value
            }
        }
        return .success(out)
    }

    /// The words an argv parameter stands for, when this template is exactly `${param}` of type argv.
    public func argvWords(_ resolver: TemplateResolver) -> [String]? {
        guard segments.count == 1, case .reference(let reference) = segments[0] else { return nil }
        switch reference {
        case .parameter(let name, nil):
            guard case .argv(let words)? = resolver.parameters[name] else { return nil }
            return words
        case .node(let field):
            // A node field that is a list of words (the restart command): one argument each.
            guard let words = resolver.node.words[field], !words.isEmpty else { return nil }
            return words
        default:
            return nil
        }
    }

    /// The string for display: references without a value yet stay as `${...}`; secrets show as `***`.
    public func display(_ resolver: TemplateResolver) -> String {
        var out = ""
        for segment in segments {
            switch segment {
            case .literal(let text): out += text
            case .reference(let reference):
                if case .parameter(let name, _) = reference, resolver.secretParameters.contains(name) {
                    out += "***"
                } else {
                    out += resolver.value(of: reference) ?? "${\(reference)}"
                }
            }
        }
        return out
    }
}

/// What templates resolve against: parameter values, facts of finished steps, and the run's identity.
public struct TemplateResolver: Sendable {
    public var parameters: [String: ParameterValue]
    public var stepFacts: [String: [String: FactValue]]
    public var runID: String
    public var runDirectory: String
    public var stateDirectory: String
    public var secretParameters: Set<String>
    /// A dry run's id is not the id the run will have: what shows a command says `${run.id}` instead.
    public var isDryRun = false
    /// The node a per-node step works on (empty outside one).
    public var node = NodeFields()

    public init(
        parameters: [String: ParameterValue], stepFacts: [String: [String: FactValue]] = [:], runID: String = "",
        runDirectory: String = "", stateDirectory: String = "", secretParameters: Set<String> = []
    ) {
        (self.parameters, self.stepFacts, self.runID, self.runDirectory) = (parameters, stepFacts, runID, runDirectory)
        (self.stateDirectory, self.secretParameters) = (stateDirectory, secretParameters)
    }

    public func value(of reference: Template.Reference) -> String? {
        switch reference {
        case .parameter(let name, let accessor):
            guard let value = parameters[name] else { return nil }
            switch (accessor, value) {
            case (nil, _): return value.text
            case ("seconds", .duration(let duration)): return FactValue.double(duration.seconds).description
            case ("ms", .duration(let duration)): return String(duration.milliseconds)
            default: return nil
            }
        case .node(let field):
            return node[field]
        case .stepFact(let step, let fact):
            return stepFacts[step]?[fact]?.description
        case .run(let field):
            switch field {
            case "id": return runID
            case "dir": return runDirectory
            case "stateDir": return stateDirectory
            default: return nil
            }
        }
    }
}

/// The `${node.*}` values of the node a per-node step works on: text fields, and fields that are a list of
/// words (a restart command), which an argv takes one word per argument.
public struct NodeFields: Sendable {
    public var text: [String: String]
    public var words: [String: [String]]

    public init(text: [String: String] = [:], words: [String: [String]] = [:]) {
        self.text = text
        self.words = words
    }

    /// A field as text; a list of words reads as its JSON array, as a plan shows it.
    public subscript(field: String) -> String? {
        if let value = text[field] { return value }
        return words[field].map(JSONText.array)
    }

    public var isEmpty: Bool { text.isEmpty && words.isEmpty }
}
