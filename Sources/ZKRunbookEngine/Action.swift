import Foundation
import ZKRunbookJSON5
import ZKRunbookProcess

/// An action kind a runbook step can name (`exec`, `backup-file`, the `zk-*` actions, `agent-run`).
///
/// This is the seam through which later modules add actions without touching the engine: they register
/// an `ActionKind` in an `ActionRegistry`, and the loader, planner and executor treat it like the built-ins.
public protocol ActionKind: Sendable {
    var name: String { get }
    /// One line for `zkrunbook list --actions` and error messages.
    var summary: String { get }
    /// Reads and checks the step's `with` object. Problems go to `arguments.diagnostics`; the result is
    /// used only when there were none.
    func prepare(_ arguments: ActionArguments) -> (any PreparedAction)?
}

/// An action written as one type: its name and summary, its arguments read by `init` (problems go to
/// `arguments.diagnostics`; nil when a required one is missing), and what it does. Adding an action is
/// adding one such type to its target's list as `MyAction.kind`.
public protocol DeclaredAction: PreparedAction {
    static var name: String { get }
    static var summary: String { get }
    init?(_ arguments: ActionArguments)
}

extension DeclaredAction {
    /// The action kind a registry holds for this type.
    public static var kind: any ActionKind { DeclaredKind(name: name, summary: summary) { Self($0) } }
}

/// The `ActionKind` of a `DeclaredAction`: its name and summary, preparing by its `init`. Not generic over
/// the action: a generic kind per action type is instantiated at run time, a conformance lookup each, which
/// every command paid at start for the whole registry.
struct DeclaredKind: ActionKind {
    let name: String
    let summary: String
    let make: @Sendable (ActionArguments) -> (any PreparedAction)?

    func prepare(_ arguments: ActionArguments) -> (any PreparedAction)? { make(arguments) }
}

/// A step's action with its arguments checked, not yet resolved against parameters and facts.
public protocol PreparedAction: Sendable {
    /// Read-only actions change nothing: they may run in a dry run, and serve as guard probes.
    var isReadOnly: Bool { get }
    /// Templates the action makes from its arguments itself (a condition's expected value and fact), for the
    /// loader's reference check; those read with `template`/`templates` are recorded as they are read, so a
    /// new argument cannot be left out of the check.
    var derivedTemplates: [Template] { get }
    /// Lines that say exactly what the step would do (the argv it would run), for plans and events.
    func describe(_ resolver: TemplateResolver) -> [String]
    /// The argv this step would run, when it runs a command.
    func command(_ resolver: TemplateResolver) -> [String]?
    /// Steps this action runs itself (a per-node procedure): checked by the loader like any other.
    var nestedSteps: [Step] { get }
    /// The `${node.*}` fields the nested steps may use, when this action runs them once per node; nil: the
    /// nested steps have no node. The action that opens the scope declares it, so the engine knows no node kind.
    var nestedNodeFields: Set<String>? { get }
    /// True for an action that changes things but does its own dry run (a composite that dry-runs its
    /// nested steps): it is called in dry runs, with `isDryRun` set, instead of being skipped.
    var handlesDryRun: Bool { get }
    /// The facts this action may report, so that `validate` rejects a misspelt fact name before a run
    /// (nil: not declared, any name is accepted).
    var yieldedFacts: FactNames? { get }
    /// Does the work. A failure is returned, or thrown where that reads better (`try context.resolved(…)`).
    func execute(_ context: ActionContext) throws(ActionOutcome) -> ActionOutcome
    /// How long the action itself waits at most, when that is shorter than any step timeout would be (an
    /// agent's own limits added up): the timeout a plan and the step's event show is the shorter of the two.
    func ownLimitSeconds(_ resolver: TemplateResolver) -> Double?
}

/// The fact names an action reports: fixed names, and families such as `mode.3` (prefix `mode.`).
public struct FactNames: Sendable {
    public var names: Set<String>
    public var prefixes: [String]

    public init(_ names: Set<String>, prefixes: [String] = []) {
        self.names = names
        self.prefixes = prefixes
    }

    public func contains(_ fact: String) -> Bool { names.contains(fact) || prefixes.contains { fact.hasPrefix($0) } }

    public func union(_ other: FactNames) -> FactNames { FactNames(names.union(other.names), prefixes: prefixes + other.prefixes) }

    /// "did you mean" and the list, for the error message.
    public func hint(for fact: String) -> String {
        let suggestion = ObjectReader.closest(to: fact, among: names).map { "did you mean '\($0)'? " } ?? ""
        return suggestion + "(facts: " + (names.sorted() + prefixes.map { $0 + "N" }).joined(separator: ", ") + ")"
    }
}

extension PreparedAction {
    /// The outcome of `execute`, whether it was returned or thrown.
    public func outcome(_ context: ActionContext) -> ActionOutcome {
        do { return try execute(context) } catch { return error }
    }

    public var derivedTemplates: [Template] { [] }
    public var yieldedFacts: FactNames? { nil }
    public func command(_ resolver: TemplateResolver) -> [String]? { nil }
    public var nestedSteps: [Step] { [] }
    public var nestedNodeFields: Set<String>? { nil }
    public var handlesDryRun: Bool { false }
    public func ownLimitSeconds(_ resolver: TemplateResolver) -> Double? { nil }
}

/// What an action gets to read its `with` object: the object, the registry (for nested probes) and where
/// problems are recorded.
public struct ActionArguments: Sendable {
    public var reader: ObjectReader
    public var registry: ActionRegistry
    public var stepID: String
    /// True while preparing a guard's probe: actions whose safety depends on a flag say so here.
    public var asProbe: Bool
    /// Reads an array of steps nested in the arguments (a per-node procedure), with the same checks
    /// and positions as top-level steps. Nil (with errors recorded) when it is not an array of steps.
    public var readSteps: @Sendable (_ node: JSON5Node, _ context: String) -> [Step]? = { node, context in nil }

    public var diagnostics: DiagnosticCollector { reader.diagnostics }

    public init(reader: ObjectReader, registry: ActionRegistry, stepID: String, asProbe: Bool = false) {
        (self.reader, self.registry, self.stepID, self.asProbe) = (reader, registry, stepID, asProbe)
    }
}

/// Everything an action may use while it runs.
public struct ActionContext: Sendable {
    public var stepID: String
    public var resolver: TemplateResolver
    /// The step's timeout; an action that waits must give up by then.
    public var deadline: Date
    public var runner: any CommandRunner
    public var cancellation: CancellationToken
    public var isDryRun: Bool
    public var registry: ActionRegistry
    /// The run's own options, for actions that run nested steps with the engine.
    public var options: RunOptions
    /// Cancelled by a second signal: what nested rollbacks listen to.
    public var rollbackCancellation: CancellationToken
    /// Where an action reports what happens inside it (per-node steps, a remote agent's events): the run's
    /// sinks, journal included.
    public var report: @Sendable (Event) -> Void

    public var remainingSeconds: Double { max(0, deadline.timeIntervalSinceNow) }

    /// Resolves a template, or gives the failure outcome that names the missing value.
    public func resolve(_ template: Template) -> Result<String, ActionOutcome> {
        template.resolve(resolver).mapError { reference in
            ActionOutcome.failure(
                cause: .unresolvedReference, message: "\(template.source): ${\(reference)} has no value (did its step run?)")
        }
    }

    /// Resolves every template in order, or gives the failure outcome of the first that has no value.
    public func resolveAll(_ templates: [Template]) -> Result<[String], ActionOutcome> {
        var values: [String] = []
        for template in templates {
            switch resolve(template) {
            case .success(let value): values.append(value)
            case .failure(let outcome): return .failure(outcome)
            }
        }
        return .success(values)
    }

    /// The template's value; throws the outcome that names the missing value.
    public func resolved(_ template: Template) throws(ActionOutcome) -> String { try resolve(template).get() }

    /// Every template's value, in order; throws the outcome of the first that has no value.
    public func resolved(_ templates: [Template]) throws(ActionOutcome) -> [String] { try resolveAll(templates).get() }
}

extension ActionOutcome: Error {}

/// The result of one attempt of an action. A failure is data here: the executor decides about retries.
public struct ActionOutcome: Sendable {
    public var succeeded: Bool
    /// Machine-readable: `timeout`, `exit-status`, `spawn-failed`, `guard-failed`, `interrupted`…
    public var cause: FailureCause?
    public var message: String
    public var facts: [String: FactValue]
    /// The last lines of stderr (or other evidence) to show an operator when the step failed.
    public var evidence: [String]
    /// The exit status of the command the action ran, if any.
    public var exitStatus: Int?
    /// Dry run only: the action could not tell (its input comes from a step the dry run skipped).
    public var isUnknown = false
    /// With cause "refused": false means the action stopped before changing anything.
    public var changedSomething = false

    public static func success(_ message: String = "", facts: [String: FactValue] = [:]) -> ActionOutcome {
        ActionOutcome(succeeded: true, cause: nil, message: message, facts: facts, evidence: [], exitStatus: nil)
    }

    /// Dry run: not known until the skipped steps before it have run.
    public static func unknown(_ message: String, facts: [String: FactValue] = [:]) -> ActionOutcome {
        var outcome = ActionOutcome(succeeded: true, cause: nil, message: message, facts: facts, evidence: [], exitStatus: nil)
        outcome.isUnknown = true
        return outcome
    }

    public static func failure(
        cause: FailureCause, message: String, facts: [String: FactValue] = [:], evidence: [String] = [], exitStatus: Int? = nil
    ) -> ActionOutcome {
        ActionOutcome(succeeded: false, cause: cause, message: message, facts: facts, evidence: evidence, exitStatus: exitStatus)
    }

    /// Refused before it changed anything ("refused: …", exit 3 for the run): what a check says of a change it
    /// will not let start.
    public static func refusal(_ message: String, facts: [String: FactValue] = [:]) -> ActionOutcome {
        var outcome = ActionOutcome.failure(cause: .refused, message: "refused: " + message, facts: facts)
        outcome.changedSomething = false
        return outcome
    }
}

/// The action kinds a runbook may name, looked up by name.
///
/// Each target exports its actions once (`ActionRegistry.engineActions`, `ZooKeeperActions.all`, …) and the CLI
/// composes them once; two actions with one name are a failure, never a silent overwrite.
public struct ActionRegistry: Sendable {
    private var kinds: [String: any ActionKind] = [:]

    /// Two action kinds share a name: the second would have replaced the first.
    public struct Duplicate: Error, Sendable, CustomStringConvertible {
        public var name: String
        public var description: String { "two actions are named '\(name)'" }
    }

    /// The actions of every group, each name once.
    public init(composing groups: [any ActionKind]...) throws(Duplicate) {
        for kind in groups.joined() {
            guard kinds[kind.name] == nil else { throw Duplicate(name: kind.name) }
            kinds[kind.name] = kind
        }
    }

    public func kind(named name: String) -> (any ActionKind)? { kinds[name] }

    public var names: [String] { kinds.keys.sorted() }

    public var all: [any ActionKind] { names.compactMap { kinds[$0] } }

    /// The engine's own actions: exec, file, assert, wait-until, backup-file, restore-file, sleep, edit-properties.
    public static let engineActions: [any ActionKind] = [
        ExecAction.kind, FileProbeAction.kind, AssertAction.kind, WaitUntilAction.kind, BackupFileAction.kind, RestoreFileAction.kind,
        SleepAction.kind, EditPropertiesAction.kind,
    ]

    /// The engine's actions alone (a test checks their names are distinct).
    public static let builtIn: ActionRegistry = {
        do { return try ActionRegistry(composing: engineActions) } catch { fatalError("the engine's own actions: \(error)") }
    }()
}
