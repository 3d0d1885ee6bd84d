import Foundation
import ZKRunbookJSON5

/// Reads conditions (guards, `assert`, `wait-until`) from runbook objects.
enum ConditionReader {
    /// Keys a condition object may hold besides the operator; `extraKeys` are the caller's own.
    static func read(
        _ reader: ObjectReader, registry: ActionRegistry, stepID: String, requireProbe: Bool = false
    ) -> Condition? {
        let diagnostics = reader.diagnostics
        let description = reader.string("description")
        let fact = reader.string("fact", required: true)
        var probe: Condition.Probe?
        let probeName = reader.string("probe", required: requireProbe)
        let probeArguments = reader.value("with")
        if let probeName {
            if let kind = registry.kind(named: probeName) {
                let argumentsNode = probeArguments ?? JSON5Node(value: .object(JSON5Object(members: [])), location: reader.location)
                if let argumentReader = ObjectReader(argumentsNode, context: "the arguments of probe '\(probeName)'", diagnostics: diagnostics) {
                    let arguments = ActionArguments(reader: argumentReader, registry: registry, stepID: stepID, asProbe: true)
                    let errorsBefore = diagnostics.items.count
                    let readsBefore = diagnostics.readCount
                    let prepared = kind.prepare(arguments)
                    argumentReader.finish()
                    if let prepared, diagnostics.items.count == errorsBefore {
                        if !prepared.isReadOnly {
                            diagnostics.error(
                                reader.location,
                                "probe '\(probeName)' in \(reader.context) changes things; a guard's probe must be read-only")
                        }
                        probe = Condition.Probe(
                            actionName: probeName, action: prepared,
                            templates: Template.held(since: readsBefore, in: diagnostics, adding: prepared.derivedTemplates))
                        if let fact, let names = prepared.yieldedFacts, !names.contains(fact) {
                            diagnostics.error(
                                reader.object["fact"]?.location ?? reader.location,
                                "probe '\(probeName)' yields no fact '\(fact)' in \(reader.context); \(names.hint(for: fact))")
                        }
                    }
                }
            } else {
                let known = Set(registry.names)
                let hint = ObjectReader.closest(to: probeName, among: known).map { "; did you mean '\($0)'?" } ?? ""
                diagnostics.error(reader.location, "unknown probe '\(probeName)' in \(reader.context)\(hint) (actions: \(registry.names.joined(separator: ", ")))")
            }
        } else if probeArguments != nil {
            diagnostics.error(reader.location, "'with' in \(reader.context) needs a 'probe' to give the arguments to")
        }
        let reference = fact.flatMap { Condition.FactReference.parse($0, hasProbe: probeName != nil) }
        if let fact, reference == nil {
            diagnostics.error(
                reader.location,
                "fact '\(fact)' in \(reader.context) needs a 'probe', or must name an earlier step's fact as steps.ID.FACT (or a parameter as params.NAME)")
        }

        var found: [(Condition.Operator, JSON5Node)] = []
        for op in Condition.Operator.allCases {
            if let node = reader.value(op.rawValue) { found.append((op, node)) }
        }
        guard found.count == 1 else {
            let names = Condition.Operator.allCases.map(\.rawValue).joined(separator: ", ")
            diagnostics.error(
                reader.location,
                found.isEmpty
                    ? "\(reader.context) needs one comparison: \(names)"
                    : "\(reader.context) has \(found.count) comparisons (\(found.map(\.0.rawValue).joined(separator: ", "))); give exactly one")
            return nil
        }
        let (op, node) = found[0]
        guard let expected = factValue(node, diagnostics: diagnostics, what: "'\(op.rawValue)' in \(reader.context)") else { return nil }
        switch op {
        case .in, .notIn:
            guard case .list = expected else {
                diagnostics.error(node.location, "'\(op.rawValue)' in \(reader.context) needs an array of values, found \(node.kindName)")
                return nil
            }
        case .matches:
            guard case .string(let pattern) = expected else {
                diagnostics.error(node.location, "'matches' in \(reader.context) needs a regular expression string")
                return nil
            }
            // A pattern from a reference is known only when the run gets there.
            if !pattern.containsReferenceMark, (try? NSRegularExpression(pattern: pattern)) == nil {
                diagnostics.error(node.location, "'matches' in \(reader.context): '\(pattern)' is not a valid regular expression")
                return nil
            }
        case .atLeast, .atMost:
            if expected.number == nil, !expected.description.containsReferenceMark {
                diagnostics.error(node.location, "'\(op.rawValue)' in \(reader.context) needs a number, found \(node.kindName)")
                return nil
            }
        default:
            break
        }
        guard let fact, let reference else { return nil }
        return Condition(description: description, probe: probe, fact: fact, reference: reference, op: op, expected: expected, location: reader.location)
    }

    static func factValue(_ node: JSON5Node, diagnostics: DiagnosticCollector, what: String) -> FactValue? {
        switch node.value {
        case .null: return .null
        case .bool(let value): return .bool(value)
        case .integer(let value): return .int(value)
        case .double(let value): return .double(value)
        case .string(let value): return .string(value)
        case .array(let elements):
            let values = elements.compactMap { factValue($0, diagnostics: diagnostics, what: what) }
            return values.count == elements.count ? .list(values) : nil
        case .object:
            diagnostics.error(node.location, "\(what) must be a value or an array of values, found an object")
            return nil
        }
    }

    /// The templates of a condition, its probe's arguments included, for reference checking.
    static func templates(in condition: Condition) -> [Template] {
        ownTemplates(of: condition) + (condition.probe?.templates ?? [])
    }

    /// The templates of a condition itself: its expected value, and the fact it reads unless a probe gives it.
    static func ownTemplates(of condition: Condition) -> [Template] {
        var out: [Template] = []
        func collect(_ value: FactValue) {
            switch value {
            case .string(let text):
                if case .success(let template) = Template.parse(text, at: condition.location), !template.isLiteral {
                    out.append(template)
                }
            case .list(let values): values.forEach(collect)
            default: break
            }
        }
        collect(condition.expected)
        switch condition.reference {
        case .probe: break
        case .step(let id, let fact):
            out.append(Template(segments: [.reference(.stepFact(step: id, fact: fact))], location: condition.location, source: "${\(condition.fact)}"))
        case .parameter(let name):
            out.append(Template(segments: [.reference(.parameter(name, accessor: nil))], location: condition.location, source: "${\(name)}"))
        }
        return out
    }
}

/// The outcome of checking one condition.
public struct ConditionResult: Sendable {
    public enum Verdict: String, Sendable { case passed, failed, unknown }

    public var verdict: Verdict
    public var actual: FactValue?
    public var expected: FactValue
    /// Why, in words: the probe's error, or why the verdict is unknown.
    public var detail: String
    public var probeFacts: [String: FactValue]
}

/// Evaluates conditions against live probes and recorded facts.
public enum ConditionEvaluator {
    /// Runs the probe (if any) and compares. In a dry run, a fact that a skipped step would have produced
    /// is `unknown`, never `passed`.
    public static func evaluate(_ condition: Condition, context: ActionContext, probes: ProbeMemo? = nil) -> ConditionResult {
        let expected = resolveExpected(condition.expected, context.resolver)
        var probeFacts: [String: FactValue] = [:]
        var probeMessage = ""
        let actual: FactValue?
        if let probe = condition.probe, case .probe(let name) = condition.reference {
            var probeContext = context
            probeContext.isDryRun = false
            let outcome = probes?.outcome(of: probe, context: probeContext) ?? probe.action.outcome(probeContext)
            probeFacts = outcome.facts
            probeMessage = outcome.message
            guard let value = outcome.facts[name] else {
                let why = outcome.succeeded ? "probe '\(probe.actionName)' reported no fact '\(condition.fact)'" : outcome.message
                if outcome.cause == .unresolvedReference && context.isDryRun {
                    return ConditionResult(verdict: .unknown, actual: nil, expected: expected, detail: why, probeFacts: probeFacts)
                }
                return ConditionResult(verdict: .failed, actual: nil, expected: expected, detail: why, probeFacts: probeFacts)
            }
            actual = value
        } else {
            switch condition.reference {
            case .parameter(let name): actual = context.resolver.parameters[name].map { .string($0.text) }
            case .step(let id, let fact): actual = context.resolver.stepFacts[id]?[fact]
            case .probe: actual = nil
            }
            if actual == nil {
                let detail = "no value for \(condition.fact) (its step has not run)"
                return ConditionResult(
                    verdict: context.isDryRun ? .unknown : .failed, actual: nil, expected: expected, detail: detail, probeFacts: [:])
            }
        }
        if case .string(let text) = expected, text.containsReferenceMark {
            return ConditionResult(
                verdict: context.isDryRun ? .unknown : .failed, actual: actual, expected: expected,
                detail: "the expected value \(text) refers to a value not known yet", probeFacts: probeFacts)
        }
        let passed = compare(actual!, condition.op, expected)
        var detail = passed ? "" : "\(condition.fact) is \(actual!.literal), expected \(condition.op.rawValue) \(expected.literal)"
        if !passed, !probeMessage.isEmpty { detail += " (\(probeMessage))" }
        return ConditionResult(verdict: passed ? .passed : .failed, actual: actual, expected: expected, detail: detail, probeFacts: probeFacts)
    }

    static func resolveExpected(_ value: FactValue, _ resolver: TemplateResolver) -> FactValue {
        switch value {
        case .string(let text) where text.containsReferenceMark:
            let location = SourceLocation(file: "", line: 0, column: 0)
            guard case .success(let template) = Template.parse(text, at: location),
                case .success(let resolved) = template.resolve(resolver)
            else { return value }
            return .string(resolved)
        case .list(let values):
            return .list(values.map { resolveExpected($0, resolver) })
        default:
            return value
        }
    }

    public static func compare(_ actual: FactValue, _ op: Condition.Operator, _ expected: FactValue) -> Bool {
        switch op {
        case .equals: return same(actual, expected)
        case .notEquals: return !same(actual, expected)
        case .in:
            guard case .list(let options) = expected else { return false }
            return options.contains { same(actual, $0) }
        case .notIn:
            guard case .list(let options) = expected else { return false }
            return !options.contains { same(actual, $0) }
        case .matches:
            return actual.description.range(of: expected.description, options: .regularExpression) != nil
        case .contains:
            if case .list(let values) = actual { return values.contains { same($0, expected) } }
            return actual.description.contains(expected.description)
        case .notContains:
            return !compare(actual, .contains, expected)
        case .atLeast:
            guard let a = actual.number, let e = expected.number else { return false }
            return a >= e
        case .atMost:
            guard let a = actual.number, let e = expected.number else { return false }
            return a <= e
        }
    }

    /// Equality that lets 0 equal 0.0 and "3" equal 3: facts often arrive as text from commands.
    static func same(_ a: FactValue, _ b: FactValue) -> Bool {
        if let x = a.number, let y = b.number, !(a.isString && b.isString) { return x == y }
        return a.description == b.description
    }
}

extension FactValue {
    var isString: Bool {
        if case .string = self { return true }
        return false
    }
}

/// The probes one step's guards have run, by what they ask: two guards that read two facts of the same probe
/// (the same action, the same resolved arguments) share one run of it, at one moment.
public final class ProbeMemo: @unchecked Sendable {
    private var outcomes: [String: ActionOutcome] = [:]
    private let lock = NSLock()

    public init() {}

    func outcome(of probe: Condition.Probe, context: ActionContext) -> ActionOutcome {
        let resolver = context.resolver
        let arguments = probe.templates.map { (try? $0.resolve(resolver).get()) ?? $0.source }
        let key = ([probe.actionName] + probe.action.describe(resolver) + arguments).joined(separator: "\u{0}")
        lock.lock()
        if let known = outcomes[key] {
            lock.unlock()
            return known
        }
        lock.unlock()
        let outcome = probe.action.outcome(context)
        lock.lock()
        outcomes[key] = outcome
        lock.unlock()
        return outcome
    }
}
