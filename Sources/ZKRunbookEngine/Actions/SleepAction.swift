import Foundation

/// `sleep`: wait a fixed time (a soak period); interrupted promptly by SIGINT; skipped in a dry run.
struct SleepAction: ArgumentsDecodable {
    static let name = "sleep"
    static let summary = "wait a fixed time (a soak period)"

    var duration: DurationSpec
    var isReadOnly: Bool { true }

    func describe(_ resolver: TemplateResolver) -> [String] {
        ["sleep \(duration.resolve(resolver.parameters)?.description ?? duration.description)"]
    }

    func execute(_ context: ActionContext) throws(ActionOutcome) -> ActionOutcome {
        guard let seconds = duration.resolve(context.resolver.parameters)?.seconds else {
            return .failure(cause: .unresolvedReference, message: "duration \(duration) has no value")
        }
        if context.isDryRun { return .success("would sleep \(RunbookDuration(seconds: seconds))") }
        if seconds > context.remainingSeconds {
            context.cancellation.sleep(seconds: context.remainingSeconds)
            return .failure(cause: .timeout, message: "sleep of \(seconds)s is longer than the step's timeout")
        }
        guard context.cancellation.sleep(seconds: seconds) else {
            return .failure(cause: .interrupted, message: context.cancellation.reason ?? "interrupted")
        }
        return .success("slept \(RunbookDuration(seconds: seconds))")
    }
}
