import Foundation

/// `wait-until`: poll a probe until its fact meets the condition, or the step's timeout passes.
struct WaitUntilAction: DeclaredAction {
    static let name = "wait-until"
    static let summary = "poll a read-only probe until a condition holds or the step's timeout passes"

    var condition: Condition
    var interval: DurationSpec
    /// With it, the pause grows by half after every poll up to this: the first polls catch a fast
    /// change, and a slow one does not fill the server's log with our own probes.
    var maxInterval: DurationSpec?
    var isReadOnly: Bool { true }
    var derivedTemplates: [Template] { ConditionReader.ownTemplates(of: condition) }

    func describe(_ resolver: TemplateResolver) -> [String] {
        var every = interval.resolve(resolver.parameters)?.description ?? interval.description
        if let maxInterval { every = "from every \(every), backing off to every " + (maxInterval.resolve(resolver.parameters)?.description ?? maxInterval.description) }
        var lines = ["wait until: \(condition.summary(resolver)) (\(every.hasPrefix("from") ? every : "every " + every), until the step's timeout)"]
        if let probe = condition.probe { lines += probe.action.describe(resolver).map { "  probe \(probe.actionName): \($0)" } }
        return lines
    }

    func execute(_ context: ActionContext) throws(ActionOutcome) -> ActionOutcome {
        var pause = interval.resolve(context.resolver.parameters)?.seconds ?? 1
        let ceiling = maxInterval?.resolve(context.resolver.parameters)?.seconds ?? pause
        var polls = 0
        let started = Date()
        var last: ConditionResult
        repeat {
            polls += 1
            last = ConditionEvaluator.evaluate(condition, context: context)
            var facts = last.probeFacts
            facts["polls"] = .int(Int64(polls))
            facts["waitedMs"] = .int(Int64(Date().timeIntervalSince(started) * 1000))
            if last.verdict == .passed {
                return .success("\(condition.fact) is \(last.actual?.literal ?? "?") after \(polls) poll(s)", facts: facts)
            }
            if context.isDryRun {
                return .unknown("would wait until \(condition.summary(context.resolver)); now: \(last.actual?.literal ?? last.detail)", facts: facts)
            }
            if context.cancellation.isCancelled {
                return .failure(cause: .interrupted, message: context.cancellation.reason ?? "interrupted", facts: facts)
            }
            if context.remainingSeconds <= 0 { break }
            context.cancellation.sleep(seconds: min(pause, context.remainingSeconds))
            pause = min(max(pause, ceiling), pause * 1.5)
        } while context.remainingSeconds > 0 || polls == 0
        if context.cancellation.isCancelled {
            return .failure(cause: .interrupted, message: context.cancellation.reason ?? "interrupted")
        }
        let waited = String(format: "%.1f", Date().timeIntervalSince(started))
        return .failure(
            cause: .timeout,
            message: "gave up after \(waited)s and \(polls) poll(s): \(last.detail.isEmpty ? "condition not met" : last.detail)",
            facts: last.probeFacts.merging(["polls": .int(Int64(polls))]) { $1 })
    }
}

extension WaitUntilAction {
    init?(_ arguments: ActionArguments) {
        let interval = arguments.reader.duration("interval") ?? .literal(RunbookDuration(milliseconds: 1000))
        let maxInterval = arguments.reader.duration("maxInterval")
        guard let condition = ConditionReader.read(arguments.reader, registry: arguments.registry, stepID: arguments.stepID, requireProbe: true)
        else { return nil }
        self.init(condition: condition, interval: interval, maxInterval: maxInterval)
    }
}
