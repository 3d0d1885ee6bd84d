import Foundation
import ZKRunbookJSON5
import ZKRunbookProcess

/// How a run ended, and the exit code the CLI returns for it.
public enum RunStatus: String, Sendable {
    /// Every step done (a dry run: every guard passed or unknown). Exit 0.
    case succeeded
    /// A step failed; completed steps were rolled back. Exit 1.
    case rolledBack = "rolled-back"
    /// A step failed (or the run was interrupted) and a rollback step failed too: the target needs a person. Exit 6.
    case rollbackFailed = "rollback-failed"
    /// A step failed with nothing to roll back. Exit 1.
    case failed
    /// A guard refused before anything changed. Exit 3.
    case refused
    /// SIGINT/SIGTERM: the running step was stopped (and completed steps rolled back unless told not to). Exit 130.
    case interrupted
    /// Another run holds what this one needs (a node's lease), found before anything changed. Exit 4.
    case locked

    /// The same word in an event's `status`.
    public var eventStatus: EventStatus { EventStatus(rawValue: rawValue) }

    public var exitCode: ExitCode {
        switch self {
        case .succeeded: return .success
        case .rolledBack, .failed: return .stepFailed
        case .rollbackFailed: return .rollbackFailed
        case .refused: return .refused
        case .locked: return .locked
        case .interrupted: return .interrupted
        }
    }
}

public struct RunOutcome: Sendable {
    public var runID: String
    public var status: RunStatus
    public var message: String
    public var exitCode: ExitCode { status.exitCode }

    public init(runID: String, status: RunStatus, message: String) { (self.runID, self.status, self.message) = (runID, status, message) }
}

/// Choices for one execution.
public struct RunOptions: Sendable {
    /// Live, a dry run (probes run, changes skipped) or an offline plan (nothing runs).
    public var mode: RunMode
    /// On SIGINT/SIGTERM, undo completed steps before exiting (the default); off with --no-rollback.
    public var rollbackOnInterrupt: Bool
    public var layout: StateLayout
    /// Takes the hold a runbook's `lease` declares before its first change (nil: no host program wired one).
    public var fenceProvider: (any RunFenceProvider)?
    /// The run's hold on its target: given on a node by the agent's caller (`--lease`), or taken by the
    /// executor from `fenceProvider`; checked before every changing step, nested ones included.
    public var fence: (any RunFence)?
    /// Why the run's record (the journal) can no longer be written, if it cannot: checked before every
    /// changing step, nested ones included, so a run never goes on changing things it cannot record.
    public var recordFailure: (@Sendable () -> String?)?
    /// The seams the actions reach nodes and servers through (their defaults where none is given).
    public var services = RunServices()

    /// Nothing is changed: a dry run or an offline plan.
    public var dryRun: Bool { mode.isDryRun }
    /// Nothing runs at all, not even a probe.
    public var offline: Bool { mode.isOffline }

    public init(mode: RunMode = .live, rollbackOnInterrupt: Bool = true, layout: StateLayout) {
        (self.mode, self.rollbackOnInterrupt, self.layout) = (mode, rollbackOnInterrupt, layout)
    }
}

/// Runs a validated runbook: guards, attempts with timeouts and retries, rollback in reverse, events.
///
/// One instance drives one run (or one resumption) on the calling thread. Steps run in order; the engine
/// never runs two steps at once, because a runbook is a procedure an operator reads top to bottom.
public final class Executor {
    public let runbook: Runbook
    public let parameters: [String: ParameterValue]
    public let options: RunOptions
    public let runner: any CommandRunner
    public let registry: ActionRegistry
    /// Cancelled by SIGINT/SIGTERM: stops the running step.
    public let cancellation: CancellationToken
    /// Cancelled by a second signal: stops the rollback too.
    public let rollbackCancellation: CancellationToken
    private let sink: any EventSink
    private let redactor: Redactor

    private var runID = ""
    private var resolver: TemplateResolver
    /// Forward steps that completed, in order: what a rollback undoes.
    private var completed: [Step] = []
    /// A mutating step has started (in this run or before a resume): a guard failure is no longer a refusal.
    private var changedSomething = false
    /// Dry run: mutating steps skipped so far; guards after them are unknown, not passed or failed.
    private var skippedMutations: [String] = []
    private let priorSkippedCount: Int
    /// Steps this run skipped because their `when` did not hold: not counted as done.
    private var skippedByWhen = 0
    private var dryRunRefusals: [String] = []
    /// The hold checked before each change: `options.fence`, or the one this executor took (and releases).
    private var heldFence: (any RunFence)?
    private var ownsFence = false

    public init(
        runbook: Runbook, parameters: [String: ParameterValue], options: RunOptions, sink: any EventSink,
        runner: any CommandRunner = LocalCommandRunner(), registry: ActionRegistry = .builtIn,
        cancellation: CancellationToken = CancellationToken(), rollbackCancellation: CancellationToken = CancellationToken(),
        node: NodeFields = NodeFields(), outerFacts: [String: [String: FactValue]] = [:], priorSkippedChanges: [String] = []
    ) {
        (self.runbook, self.parameters, self.options, self.runner) = (runbook, parameters, options, runner)
        (self.registry, self.cancellation, self.rollbackCancellation) = (registry, cancellation, rollbackCancellation)
        let secretNames = Set(runbook.parameters.filter(\.secret).map(\.name))
        self.redactor = Redactor(secrets: secretNames.compactMap { parameters[$0]?.text })
        let redactor = self.redactor
        self.sink = RedactingSink(inner: sink, redactor: redactor)
        self.resolver = TemplateResolver(parameters: parameters, stepFacts: outerFacts, secretParameters: secretNames)
        self.resolver.node = node
        self.skippedMutations = priorSkippedChanges
        self.priorSkippedCount = priorSkippedChanges.count
        self.heldFence = options.fence
    }

    /// The parameters as they may be shown and journaled: secrets as ***.
    public var displayParameters: [String: String] {
        var out: [String: String] = [:]
        for (name, value) in parameters { out[name] = resolver.secretParameters.contains(name) ? "***" : value.text }
        return out
    }

    /// The lock name with parameters substituted (a secret parameter is never written into a file name).
    public var lockName: String { Self.lockName(of: runbook, parameters: parameters) }

    public static func lockName(of runbook: Runbook, parameters: [String: ParameterValue]) -> String {
        let secrets = Set(runbook.parameters.filter(\.secret).map(\.name))
        return runbook.lock.display(TemplateResolver(parameters: parameters, secretParameters: secrets))
            .replacingEvery("***", with: "secret")
    }

    // MARK: - Entry points

    /// Starts a new run (or a dry run) from the first step.
    public func run(runID: String) -> RunOutcome {
        self.runID = runID
        configureResolver()
        var start = Event(type: .runStarted, runID: runID)
        start.runbook = runbook.name
        start.runbookPath = runbook.sourcePath
        start.runbookSHA256 = SHA256.hex(Data(runbook.sourceText.utf8))
        start.parameters = displayParameters
        start.dryRun = options.dryRun
        start.total = runbook.steps.count
        start.lock = lockName
        start.pid = Int(getpid())
        start.description = runbook.description
        // A dry run's id is not the id the run will have: the plan names it as such.
        if options.dryRun, !runbook.afterwards.isEmpty {
            start.next = runbook.afterwards.map { $0.display(resolver).replacingOccurrences(of: runID, with: "<run id>") }
        }
        emit(start)
        return execute(from: 0)
    }

    /// Continues an interrupted run after its journal: completed steps are skipped, and the first unfinished
    /// step's guards are checked again before it runs.
    public func resume(_ journal: JournalState) -> RunOutcome {
        runID = journal.runID
        configureResolver()
        resolver.stepFacts = journal.facts
        let finished = Set(journal.finishedSteps)
        var startIndex = runbook.steps.count
        for (index, step) in runbook.steps.enumerated() {
            if finished.contains(step.id) {
                completed.append(step)
                if !step.action.isReadOnly { changedSomething = true }
            } else {
                startIndex = index
                break
            }
        }
        if journal.startedSteps.contains(where: { id in runbook.steps.first { $0.id == id }.map { !$0.action.isReadOnly } ?? false }) {
            changedSomething = true
        }
        var event = Event(type: .runResumed, runID: runID)
        event.runbook = runbook.name
        event.pid = Int(getpid())
        event.index = startIndex + 1
        event.total = runbook.steps.count
        event.steps = journal.finishedSteps
        event.step = startIndex < runbook.steps.count ? runbook.steps[startIndex].id : nil
        event.message =
            startIndex < runbook.steps.count
            ? "resuming at step \(startIndex + 1)/\(runbook.steps.count) '\(runbook.steps[startIndex].id)'; \(journal.finishedSteps.count) step(s) already done"
            : "every step was already done"
        if let torn = journal.tornLine {
            event.message! += "; the journal's last record (line \(torn)) was torn, a write cut short by a crash or a full disk: left out"
        }
        emit(event)
        return execute(from: startIndex)
    }

    private func configureResolver() {
        resolver.runID = runID
        resolver.runDirectory = options.layout.runDirectory(runID)
        resolver.stateDirectory = options.layout.root
        resolver.isDryRun = options.dryRun
    }

    // MARK: - Forward

    private func execute(from startIndex: Int) -> RunOutcome {
        let total = runbook.steps.count
        // A live run of a runbook that declares `lease` takes it before its first step, read-only checks
        // included: a second run is told who holds the ensemble before any health judgement, not "degraded"
        // because the first run has a node down.
        if !options.dryRun, runbook.lease != nil, startIndex < total, let stop = holdFence(before: runbook.steps[startIndex], index: startIndex) {
            return stop
        }
        var index = startIndex
        while index < total {
            let step = runbook.steps[index]
            if cancellation.isCancelled { return interrupted(during: nil) }
            var started = stepEvent(.stepStarted, step, index: index, phase: .forward)
            started.plan = step.action.describe(resolver) + (step.when.map { ["only when \($0.summary(resolver)); skipped otherwise"] } ?? [])
            started.command = step.action.command(resolver)
            // The timeout as it will apply: the action's own limit where it is the shorter.
            let limit = step.action.ownLimitSeconds(resolver).map { $0 * 1000 }
            started.timeoutMs = Int(min(Double(timeout(of: step).milliseconds), limit ?? .infinity))
            started.attempts = step.retry.retries + 1
            started.rollback = step.rollback.map { undo in
                // An action's lines may end in ';' (they continue each other): one separator between them here.
                "\(undo.id): "
                    + ([display(undo.description)] + undo.action.describe(resolver)).map { $0.hasSuffix(";") ? String($0.dropLast()) : $0 }
                    .joined(separator: "; ")
            }
            emit(started)

            switch checkWhen(step, phase: .forward) {
            case .run:
                break
            case .skip(let message):
                emit(finishedEvent(step, index: index, status: .skipped, message: message))
                skippedByWhen += 1
                index += 1
                continue
            case .cannotTell(let message):
                emit(finishedEvent(step, index: index, status: .failed, cause: .guardFailed, message: message))
                if !changedSomething { return finish(.refused, "refused before any change: step '\(step.id)': \(message)") }
                return failAndRollBack(step, reason: "step '\(step.id)': \(message)", includeFailed: false)
            }

            switch checkGuards(step, index: index, phase: .forward) {
            case .passed:
                break
            case .refused(let message):
                switch StepRules.guardFailed(mode: options.mode, changedSomething: changedSomething) {
                case .noteRefusal:
                    dryRunRefusals.append("step '\(step.id)': \(message)")
                case .refuse:
                    emit(finishedEvent(step, index: index, status: .refused, cause: .guardFailed, message: message))
                    return finish(.refused, "refused before any change: step '\(step.id)': \(message)")
                case .failAndRollBack:
                    emit(finishedEvent(step, index: index, status: .failed, cause: .guardFailed, message: message))
                    return failAndRollBack(step, reason: "a guard of step '\(step.id)' failed: \(message)", includeFailed: false)
                }
            case .interrupted:
                return interrupted(during: step)
            }

            if StepRules.skips(readOnly: step.action.isReadOnly, handlesDryRun: step.action.handlesDryRun, mode: options.mode) {
                let message = options.offline ? "not run (offline plan)" : "not run (dry run: this step changes things)"
                emit(finishedEvent(step, index: index, status: .skipped, message: message))
                if !step.action.isReadOnly { skippedMutations.append(step.id) }
                index += 1
                continue
            }
            if !step.action.isReadOnly && !options.dryRun {
                if let stop = recordIntact(before: step, index: index) ?? holdFence(before: step, index: index) { return stop }
            }
            let changedBefore = changedSomething
            if !step.action.isReadOnly && !options.dryRun { changedSomething = true }
            let result = attempt(step, index: index, phase: .forward, token: cancellation)
            let outcome = result.outcome
            let ending = StepRules.ending(
                of: outcome, mode: options.mode, continueOnFailure: step.onFailure == .continue, changedBefore: changedBefore,
                skippedChange: skippedMutations.last, cancelled: cancellation.isCancelled)
            var finished = finishedEvent(step, index: index, status: ending.status, message: outcome.message)
            finished.durationMs = result.durationMs
            finished.facts = outcome.facts
            finished.exitStatus = outcome.exitStatus
            if !outcome.succeeded {
                finished.cause = outcome.cause
                finished.evidence = outcome.evidence
            }
            if case .unknown(let message?) = ending { finished.message = message }
            emit(finished)
            switch ending {
            case .unknown:
                index += 1
            case .succeeded:
                resolver.stepFacts[step.id] = outcome.facts
                completed.append(step)
                // A composite that dry-ran itself: what comes after it would meet the changes it skipped.
                if options.dryRun && !step.action.isReadOnly { skippedMutations.append(step.id) }
                index += 1
            case .continued:
                resolver.stepFacts[step.id] = outcome.facts
                index += 1
            case .interrupted:
                return interrupted(during: step)
            case .refused:
                return finish(.refused, "refused before any change: step '\(step.id)': \(outcome.message)")
            case .locked:
                return finish(.locked, "locked before any change: step '\(step.id)': \(outcome.message)")
            case .failed:
                return failAndRollBack(step, reason: "step '\(step.id)' failed: \(outcome.message)", includeFailed: step.rollbackWhenFailed)
            }
        }
        if options.dryRun {
            if !dryRunRefusals.isEmpty {
                return finish(.refused, "dry run: would refuse: " + dryRunRefusals.joined(separator: "; "))
            }
            // The steps this runbook did not run, not the earlier nodes' it was told of (they explain its guards).
            let notRun = skippedMutations.dropFirst(priorSkippedCount)
            let unknownNote = notRun.isEmpty ? "" : " (\(notRun.count) changing step(s) not run: \(notRun.joined(separator: ", ")))"
            return finish(.succeeded, "dry run complete\(unknownNote)")
        }
        return finish(.succeeded, skippedByWhen == 0 ? "all \(total) steps done" : "\(total - skippedByWhen) steps done, \(skippedByWhen) skipped")
    }

    /// Before the first step and before each changing step: takes the runbook's `lease` if this run does not
    /// hold it yet (all or nothing, before the first change), then checks the hold is still this run's. A run that cannot take it, or
    /// lost it, stops here: nothing more is changed under another run.
    private func holdFence(before step: Step, index: Int) -> RunOutcome? {
        let before = changedSomething ? "before step '\(step.id)' changed anything" : "before any change: step '\(step.id)'"
        if heldFence == nil, let declaration = runbook.lease, let provider = options.fenceProvider {
            let target: String
            switch declaration.target.resolve(resolver) {
            case .success(let value): target = value
            case .failure(let reference):
                emit(finishedEvent(step, index: index, status: .failed, cause: .unresolvedReference, message: "lease: ${\(reference)} has no value"))
                return finish(.failed, "\(before): lease: ${\(reference)} has no value")
            }
            var nodes: String?
            if let template = declaration.nodes {
                switch template.resolve(resolver) {
                case .success(let value): nodes = value
                case .failure(let reference):
                    emit(finishedEvent(step, index: index, status: .failed, cause: .unresolvedReference, message: "lease.nodes: ${\(reference)} has no value"))
                    return finish(.failed, "\(before): lease.nodes: ${\(reference)} has no value")
                }
            }
            let ttl = declaration.ttl?.resolve(parameters)?.seconds ?? 60
            switch provider.acquire(target: target, nodes: nodes, ttl: ttl, runID: runID, runbook: runbook, parameters: parameters, cancellation: cancellation)
            {
            case .failure(let refusal):
                let status: RunStatus = refusal.cause == .locked ? .locked : .refused
                var event = finishedEvent(step, index: index, status: status.eventStatus, cause: refusal.cause, message: "lease: " + refusal.message)
                event.evidence = refusal.evidence.isEmpty ? nil : refusal.evidence
                emit(event)
                return finish(status, "\(status == .locked ? "locked" : "refused") \(before): lease: \(refusal.message)")
            case .success(let taken):
                heldFence = taken.fence
                ownsFence = true
                var event = Event(type: .leaseTaken, runID: runID)
                event.step = step.id
                event.message = taken.note
                emit(event)
            }
        }
        guard let fence = heldFence, let lost = fence.check() else { return nil }
        emit(finishedEvent(step, index: index, status: .failed, cause: .locked, message: "the run no longer holds its target: \(lost)"))
        if !changedSomething { return finish(.locked, "locked \(before): \(lost)") }
        return finish(
            .failed,
            "the run no longer holds its target before step '\(step.id)': \(lost); nothing rolled back, since another run may be changing it now: check the target, then 'zkrunbook resume \(runID)'"
        )
    }

    /// Before a changing step: the journal must still be writable. A run that cannot record what it does
    /// stops here, rolls nothing back (that would change more, unrecorded) and says how to go on.
    private func recordIntact(before step: Step, index: Int) -> RunOutcome? {
        guard let failure = options.recordFailure?() else { return nil }
        let message =
            "the journal cannot be written (\(failure)): stopped before step '\(step.id)'"
            + (changedSomething ? "; nothing rolled back; free space in \(options.layout.root), then 'zkrunbook resume \(runID)'" : ", nothing was changed")
        emit(finishedEvent(step, index: index, status: .failed, cause: .ioError, message: message))
        return finish(.failed, message)
    }

    private enum WhenResult {
        case run
        /// The `when` does not hold: the step is skipped and the run goes on.
        case skip(String)
        /// A live run that cannot evaluate the `when` neither runs nor skips the step.
        case cannotTell(String)
    }

    /// A step's `when`. In a plan, a `when` that a skipped change may decide shows the step as it would run.
    private func checkWhen(_ step: Step, phase: Phase) -> WhenResult {
        guard let condition = step.when else { return .run }
        if options.offline { return .run }
        let token = phase == .rollback ? rollbackCancellation : cancellation
        let context = actionContext(step: step, timeout: min(timeout(of: step).seconds, 60), token: token)
        let result = ConditionEvaluator.evaluate(condition, context: context, probes: ProbeMemo())
        let summary = "when '\(condition.summary(resolver))'"
        switch result.verdict {
        case .passed:
            return .run
        // Only a value that does not match makes a `when` false; no value (a probe that failed) says nothing.
        case .failed where result.actual != nil && !(options.dryRun && !skippedMutations.isEmpty):
            return .skip("skipped: \(summary) does not hold: \(result.detail)")
        case .failed, .unknown:
            return options.dryRun ? .run : .cannotTell("\(summary) cannot be evaluated: \(result.detail)")
        }
    }

    private enum GuardResult {
        case passed
        case refused(String)
        case interrupted
    }

    /// Evaluates a step's guards in order; the first failure stops the step.
    private func checkGuards(_ step: Step, index: Int, phase: Phase) -> GuardResult {
        let probes = ProbeMemo()
        for (number, condition) in step.guards.enumerated() {
            if cancellation.isCancelled && phase == .forward { return .interrupted }
            var event = stepEvent(.guardEvaluated, step, index: index, phase: phase)
            event.description = condition.summary(resolver)
            event.fact = condition.fact
            event.op = condition.op.rawValue
            event.expected = ConditionEvaluator.resolveExpected(condition.expected, resolver)
            event.attempt = number + 1
            if options.dryRun && options.offline {
                event.verdict = ConditionResult.Verdict.unknown.rawValue
                event.message = "not evaluated (offline plan)"
                emit(event)
                continue
            }
            let token = phase == .rollback ? rollbackCancellation : cancellation
            let context = actionContext(step: step, timeout: min(timeout(of: step).seconds, 60), token: token)
            var result = ConditionEvaluator.evaluate(condition, context: context, probes: probes)
            if options.dryRun, let skipped = skippedMutations.last, result.verdict != .unknown {
                let now = result.verdict == .passed ? "passes now" : "fails now"
                result.detail = "\(now) (\(result.actual?.literal ?? result.detail)); step '\(skipped)' would run first and may change it"
                result.verdict = .unknown
            }
            event.verdict = result.verdict.rawValue
            event.actual = result.actual
            event.message = result.detail.isEmpty ? nil : result.detail
            emit(event)
            if result.verdict == .failed {
                return .refused("guard '\(condition.summary(resolver))' failed: \(result.detail)")
            }
        }
        return .passed
    }

    private struct AttemptResult {
        var outcome: ActionOutcome
        var durationMs: Int
    }

    /// Runs a step's action with its timeout, retrying with backoff as its policy says.
    private func attempt(_ step: Step, index: Int, phase: Phase, token: CancellationToken) -> AttemptResult {
        let attempts = step.retry.retries + 1
        var wait = step.retry.backoff.resolve(parameters)?.seconds ?? 1
        let maxWait = step.retry.maxBackoff.resolve(parameters)?.seconds ?? 60
        let started = Date()
        var last = ActionOutcome.failure(cause: .notRun, message: "not run")
        for number in 1...attempts {
            var startEvent = stepEvent(.attemptStarted, step, index: index, phase: phase)
            startEvent.attempt = number
            startEvent.attempts = attempts
            emit(startEvent)
            let context = actionContext(step: step, timeout: timeout(of: step).seconds, token: token)
            last = step.action.outcome(context)
            if last.succeeded { break }
            var failed = stepEvent(.attemptFailed, step, index: index, phase: phase)
            failed.attempt = number
            failed.attempts = attempts
            failed.cause = last.cause
            failed.message = last.message
            failed.exitStatus = last.exitStatus
            failed.evidence = last.evidence
            if number < attempts && last.cause != .interrupted { failed.timeoutMs = Int(wait * 1000) }
            emit(failed)
            if last.cause == .interrupted || token.isCancelled || number == attempts { break }
            guard token.sleep(seconds: wait) else {
                last = .failure(cause: .interrupted, message: token.reason ?? "interrupted")
                break
            }
            wait = min(wait * step.retry.factor, maxWait)
        }
        return AttemptResult(outcome: last, durationMs: Int(Date().timeIntervalSince(started) * 1000))
    }

    private func timeout(of step: Step) -> RunbookDuration {
        step.timeout?.resolve(parameters) ?? runbook.defaultTimeout
    }

    private func actionContext(step: Step, timeout seconds: Double, token: CancellationToken) -> ActionContext {
        let sink = self.sink
        var options = self.options
        options.fence = heldFence
        return ActionContext(
            stepID: step.id, resolver: resolver, deadline: Date().addingTimeInterval(seconds), runner: runner,
            cancellation: token, isDryRun: options.dryRun, registry: registry, options: options,
            rollbackCancellation: rollbackCancellation, report: { sink.emit($0) })
    }

    // MARK: - Rollback and endings

    /// The completed steps a failure undoes, last first: those after the last step kept when a later one
    /// fails (`keepWhenLaterFails`), which is where the run halts.
    private var undoable: [Step] {
        let after = completed.lastIndex(where: \.keepWhenLaterFails).map { completed[($0 + 1)...] } ?? completed[...]
        return after.reversed().filter { !$0.rollback.isEmpty }
    }

    private func failAndRollBack(_ failed: Step, reason: String, includeFailed: Bool) -> RunOutcome {
        var toUndo = undoable
        if includeFailed && !failed.rollback.isEmpty { toUndo.insert(failed, at: 0) }
        if toUndo.isEmpty {
            return finish(.failed, reason + "; nothing to roll back")
        }
        let rollbackOK = rollBack(toUndo, reason: reason)
        return finish(
            rollbackOK ? .rolledBack : .rollbackFailed,
            reason + (rollbackOK ? "; rolled back \(toUndo.count) step(s)" : "; ROLLBACK FAILED: check the target by hand"))
    }

    private func interrupted(during step: Step?) -> RunOutcome {
        let reason = cancellation.reason ?? "interrupted"
        let toUndo = undoable
        guard options.rollbackOnInterrupt, !toUndo.isEmpty, !options.dryRun else {
            let note = toUndo.isEmpty || options.dryRun ? "" : "; not rolled back (resume with: zkrunbook resume \(runID))"
            return finish(.interrupted, reason + (step.map { " during step '\($0.id)'" } ?? "") + note)
        }
        let ok = rollBack(toUndo, reason: reason)
        return finish(
            ok ? .interrupted : .rollbackFailed,
            reason + (step.map { " during step '\($0.id)'" } ?? "")
                + (ok ? "; rolled back \(toUndo.count) step(s)" : "; ROLLBACK FAILED: check the target by hand"))
    }

    /// Undoes `steps` (already in reverse order), each step's rollback entries in the order written.
    /// Keeps going after a failed undo, so one broken rollback does not leave the others undone.
    private func rollBack(_ steps: [Step], reason: String) -> Bool {
        var started = Event(type: .rollbackStarted, runID: runID)
        started.phase = .rollback
        started.message = reason
        started.steps = steps.map(\.id)
        emit(started)
        var allOK = true
        let undoSteps = steps.flatMap { $0.rollback }
        for (number, undo) in undoSteps.enumerated() {
            var event = stepEvent(.stepStarted, undo, index: number, phase: .rollback)
            event.total = undoSteps.count
            event.plan = undo.action.describe(resolver)
            event.command = undo.action.command(resolver)
            emit(event)
            let when = checkWhen(undo, phase: .rollback)
            if case .skip(let message) = when {
                var finished = stepEvent(.stepFinished, undo, index: number, phase: .rollback)
                finished.total = undoSteps.count
                finished.status = .skipped
                finished.message = message
                emit(finished)
                continue
            }
            if case .cannotTell(let message) = when {
                var finished = stepEvent(.stepFinished, undo, index: number, phase: .rollback)
                finished.total = undoSteps.count
                finished.status = .failed
                finished.cause = .guardFailed
                finished.message = message
                emit(finished)
                allOK = false
                continue
            }
            if case .refused(let message) = checkGuards(undo, index: number, phase: .rollback) {
                var finished = stepEvent(.stepFinished, undo, index: number, phase: .rollback)
                finished.total = undoSteps.count
                finished.status = .failed
                finished.cause = .guardFailed
                finished.message = message
                emit(finished)
                allOK = false
                continue
            }
            let result = attempt(undo, index: number, phase: .rollback, token: rollbackCancellation)
            var finished = stepEvent(.stepFinished, undo, index: number, phase: .rollback)
            finished.total = undoSteps.count
            finished.durationMs = result.durationMs
            finished.message = result.outcome.message
            finished.status = result.outcome.succeeded ? .succeeded : .failed
            finished.cause = result.outcome.cause
            finished.evidence = result.outcome.succeeded ? nil : result.outcome.evidence
            finished.facts = result.outcome.facts
            emit(finished)
            if result.outcome.succeeded {
                resolver.stepFacts[undo.id] = result.outcome.facts
            } else {
                allOK = false
            }
        }
        var finishedEvent = Event(type: .rollbackFinished, runID: runID)
        finishedEvent.phase = .rollback
        finishedEvent.status = allOK ? .succeeded : .failed
        emit(finishedEvent)
        return allOK
    }

    private func finish(_ status: RunStatus, _ message: String) -> RunOutcome {
        if ownsFence {
            heldFence?.release()
            (heldFence, ownsFence) = (nil, false)
        }
        var event = Event(type: .runFinished, runID: runID)
        event.runbook = runbook.name
        event.status = status.eventStatus
        event.message = message
        event.exitCode = Int(status.exitCode.rawValue)
        event.dryRun = options.dryRun
        if !options.dryRun, status.eventStatus == .succeeded, !runbook.afterwards.isEmpty { event.next = runbook.afterwards.map { $0.display(resolver) } }
        emit(event)
        return RunOutcome(runID: runID, status: status, message: redactor.redact(message))
    }

    private func finishedEvent(
        _ step: Step, index: Int, status: EventStatus, cause: FailureCause? = nil, message: String? = nil, phase: Phase = .forward
    ) -> Event {
        var event = stepEvent(.stepFinished, step, index: index, phase: phase)
        event.status = status
        event.cause = cause
        event.message = message
        return event
    }

    private func stepEvent(_ kind: Event.Kind, _ step: Step, index: Int, phase: Phase) -> Event {
        var event = Event(type: kind, runID: runID)
        event.phase = phase
        event.step = step.id
        event.index = index + 1
        event.total = runbook.steps.count
        event.description = display(step.description)
        event.action = step.actionName
        event.readOnly = step.action.isReadOnly
        return event
    }

    private func emit(_ event: Event) { sink.emit(event) }

    /// A description with its `${...}` references filled in where known (secrets as ***).
    private func display(_ text: String) -> String {
        guard text.containsReferenceMark,
            case .success(let template) = Template.parse(text, at: runbook.steps.first?.location ?? SourceLocation(file: "", line: 0, column: 0))
        else {
            return text
        }
        return template.display(resolver)
    }
}

/// Redacts every event before the real sink sees it.
struct RedactingSink: EventSink {
    var inner: any EventSink
    var redactor: Redactor
    func emit(_ event: Event) { inner.emit(redactor.redact(event)) }
}
