import Foundation
import ZKRunbookJSON5

/// A validated runbook: what an operator wrote, checked and typed, ready to plan.
public struct Runbook: Sendable {
    public var name: String
    public var description: String
    public var parameters: [ParameterSpec]
    public var steps: [Step]
    /// The lock this runbook takes; two runs with the same lock name cannot act at once.
    public var lock: Template
    /// What the runbook changes, held for one run at a time wherever runs start (`lease`); nil: read-only
    /// or node-local runbooks, which take only their lock.
    public var lease: LeaseDeclaration?
    public var defaultTimeout: RunbookDuration
    public var sourcePath: String
    /// The file's exact text: journaled beside each run so `resume` continues the plan it started with.
    public var sourceText: String
    /// The parts it includes that live under its folder, as read when it was loaded.
    public var parts: [RunbookPart] = []
    public var warnings: [Diagnostic]
    /// What is left for the operator once a run has succeeded (edit the ensemble file, delete data kept aside):
    /// said first by a plan and last by a run.
    public var afterwards: [Template] = []

    public init(
        name: String, description: String, parameters: [ParameterSpec], steps: [Step], lock: Template, defaultTimeout: RunbookDuration,
        sourcePath: String, sourceText: String, warnings: [Diagnostic] = [], lease: LeaseDeclaration? = nil
    ) {
        self.lease = lease
        (self.name, self.description, self.parameters, self.steps) = (name, description, parameters, steps)
        (self.lock, self.defaultTimeout, self.sourcePath, self.sourceText) = (lock, defaultTimeout, sourcePath, sourceText)
        (self.warnings) = (warnings)
    }

    public func parameter(named name: String) -> ParameterSpec? { parameters.first { $0.name == name } }

    /// Every step, forward ones and the rollback steps attached to them, depth first.
    public var allSteps: [Step] { steps.flatMap { [$0] + $0.rollback } }
}

public enum ParameterType: String, Sendable, CaseIterable {
    /// `argv`: a command as a JSON array of strings; `"${p}"` as a whole argv element stands for all of them.
    case string, int, duration, bool, path, argv
}

public struct ParameterSpec: Sendable {
    public var name: String
    public var type: ParameterType
    public var description: String
    public var required: Bool
    /// Secret values are never printed, journaled or put in events; `resume` asks for them again.
    public var secret: Bool
    public var defaultValue: ParameterValue?
    public var location: SourceLocation

    public init(
        name: String, type: ParameterType, description: String = "", required: Bool = false, secret: Bool = false,
        defaultValue: ParameterValue? = nil, location: SourceLocation
    ) {
        (self.name, self.type, self.description, self.required) = (name, type, description, required)
        (self.secret, self.defaultValue, self.location) = (secret, defaultValue, location)
    }

    /// Checks and types a value given on the command line or in the file.
    public func parse(_ text: String) -> Result<ParameterValue, InputProblem> {
        switch type {
        case .string:
            return .success(.string(text))
        case .path:
            guard !text.isEmpty, !text.contains("\0") else { return .failure(InputProblem("expected a file path, found '\(text)'")) }
            return .success(.path(text))
        case .int:
            guard let value = Int64(text.trimmingSpaces) else {
                return .failure(InputProblem("expected an integer, found '\(text)'"))
            }
            return .success(.int(value))
        case .bool:
            switch text.lowercased() {
            case "true", "yes", "1", "on": return .success(.bool(true))
            case "false", "no", "0", "off": return .success(.bool(false))
            default: return .failure(InputProblem("expected true or false, found '\(text)'"))
            }
        case .duration:
            guard let value = RunbookDuration.parse(text) else {
                return .failure(InputProblem("expected \(RunbookDuration.expectation), found '\(text)'"))
            }
            return .success(.duration(value))
        case .argv:
            // `[]` is "none" (a node field the ensemble file leaves out, such as its stopCommand): `exec` refuses
            // to run it, naming what is missing, only if a step needs it.
            guard let words = JSONText.stringArray(text) else {
                return .failure(
                    InputProblem("expected a command as a JSON array of strings, such as [\"systemctl\", \"restart\", \"zookeeper\"], found '\(text)'"))
            }
            return .success(.argv(words))
        }
    }
}

/// A parameter's typed value.
public enum ParameterValue: Sendable, Hashable {
    case string(String)
    case path(String)
    case int(Int64)
    case bool(Bool)
    case duration(RunbookDuration)
    case argv([String])

    /// The text substituted into a template (an argv as its JSON array, which `parse` reads back).
    /// As a whole argv element of `exec`, an argv parameter splats into its words instead.
    public var text: String {
        switch self {
        case .string(let value), .path(let value): return value
        case .int(let value): return String(value)
        case .bool(let value): return String(value)
        case .duration(let value): return value.description
        case .argv(let words): return JSONText.array(words)
        }
    }
}

/// A duration written literally, or as `${param}` naming a duration parameter.
public enum DurationSpec: Sendable, Hashable, CustomStringConvertible {
    case literal(RunbookDuration)
    case parameter(String, SourceLocation)

    public var description: String {
        switch self {
        case .literal(let duration): return duration.description
        case .parameter(let name, _): return "${\(name)}"
        }
    }

    public func resolve(_ parameters: [String: ParameterValue]) -> RunbookDuration? {
        switch self {
        case .literal(let duration): return duration
        case .parameter(let name, _):
            if case .duration(let duration)? = parameters[name] { return duration }
            return nil
        }
    }

    static func read(_ node: JSON5Node, what: String, diagnostics: DiagnosticCollector) -> DurationSpec? {
        guard case .string(let text) = node.value else {
            diagnostics.error(node.location, "\(what) must be \(RunbookDuration.expectation) in quotes, found \(node.kindName)")
            return nil
        }
        if text.hasPrefix("${"), text.hasSuffix("}") {
            let name = String(text.dropFirst(2).dropLast())
            if !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) {
                let spec = DurationSpec.parameter(name, node.location)
                // Recorded, so the loader checks it names a duration parameter wherever an action keeps it.
                diagnostics.record(read: spec)
                return spec
            }
        }
        guard let duration = RunbookDuration.parse(text) else {
            diagnostics.error(node.location, "\(what): expected \(RunbookDuration.expectation), found '\(text)'")
            return nil
        }
        return .literal(duration)
    }
}

/// How often a failed step is tried again, and how long to wait between tries.
public struct RetryPolicy: Sendable, Hashable {
    /// Tries after the first; 0 means the step runs once.
    public var retries: Int
    public var backoff: DurationSpec
    /// Each wait is the previous one times this factor, up to `maxBackoff`.
    public var factor: Double
    public var maxBackoff: DurationSpec

    public static let none = RetryPolicy(
        retries: 0, backoff: .literal(RunbookDuration(milliseconds: 1000)), factor: 2,
        maxBackoff: .literal(RunbookDuration(milliseconds: 60_000)))
}

/// What happens when a step fails after its retries.
public enum FailurePolicy: String, Sendable {
    /// Stop, roll back completed steps in reverse order, exit 1. The default.
    case abort
    /// Record the failure and go on: for steps marked non-critical.
    case `continue`
}

/// A fact compared with an expected value: the shape shared by guards, `assert` and `wait-until`.
public struct Condition: Sendable {
    public enum Operator: String, Sendable, CaseIterable {
        case equals, notEquals, `in`, notIn, matches, contains, notContains, atLeast, atMost
    }

    public var description: String?
    /// The read-only action that produces the fact; nil when the fact names an earlier step's output.
    public var probe: Probe?
    /// A key of the probe's facts, or `steps.ID.FACT` / `params.NAME` without a probe, as written.
    public var fact: String
    /// The same, parsed once when the runbook loads.
    public var reference: FactReference
    public var op: Operator
    /// Strings inside may hold `${...}` references, resolved when the condition is evaluated.
    public var expected: FactValue
    public var location: SourceLocation

    /// Where a condition's value comes from.
    public enum FactReference: Sendable, Equatable {
        /// A fact the condition's probe reports.
        case probe(String)
        /// A fact an earlier step reported: `steps.ID.FACT`.
        case step(id: String, fact: String)
        /// A parameter's value: `params.NAME`.
        case parameter(String)

        /// Parses `text` as written after `fact:`; nil when it names neither a probe's fact nor steps.ID.FACT / params.NAME.
        public static func parse(_ text: String, hasProbe: Bool) -> FactReference? {
            if hasProbe { return .probe(text) }
            let parts = text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard !parts.contains(where: \.isEmpty) else { return nil }
            switch (parts.first, parts.count) {
            case ("steps", 3): return .step(id: parts[1], fact: parts[2])
            case ("params", 2): return .parameter(parts[1])
            default: return nil
            }
        }
    }

    public struct Probe: Sendable {
        public var actionName: String
        public var action: any PreparedAction
        /// Every template its arguments hold, in file order.
        public var templates: [Template]
    }

    /// "exitStatus equals 0", for plans and events, with `${...}` in the expected value filled in where known.
    public func summary(_ resolver: TemplateResolver? = nil) -> String {
        let shown = resolver.map { ConditionEvaluator.resolveExpected(expected, $0) } ?? expected
        if let description, let resolver, case .success(let template) = Template.parse(description, at: location) {
            return template.display(resolver)
        }
        return description ?? "\(probe.map { "\($0.actionName)." } ?? "")\(fact) \(op.rawValue) \(shown.literal)"
    }
}

public struct Step: Sendable {
    public var id: String
    public var description: String
    public var actionName: String
    public var action: any PreparedAction
    /// Every template its action holds (read from its arguments, and derived), in file order: what the
    /// loader checks. Nested steps are not in it: the loader checks them in their own scope.
    public var templates: [Template]
    public var guards: [Condition]
    /// The step runs only when this holds (checked before its guards); otherwise it is skipped, and the run
    /// goes on: a restart only where the config changed. Unlike a guard, a false `when` is not a refusal.
    public var when: Condition?
    public var timeout: DurationSpec?
    public var retry: RetryPolicy
    public var onFailure: FailurePolicy
    /// Steps that undo this one, run in the order written when a later step fails.
    public var rollback: [Step]
    /// Also undo this step when it fails itself (its undo must be safe after a partial change).
    public var rollbackWhenFailed: Bool
    /// A later step's failure does not undo this one, nor any step before it: what it reached is a state
    /// to halt in (each of enable-quorum-tls's rolls); only the steps after it are undone.
    public var keepWhenLaterFails: Bool = false
    public var location: SourceLocation
}

/// A part a runbook included (`{ include: … }`): its path from the runbook's folder and its text.
public struct RunbookPart: Sendable, Equatable {
    public var relativePath: String
    public var text: String

    public init(relativePath: String, text: String) { (self.relativePath, self.text) = (relativePath, text) }
}
