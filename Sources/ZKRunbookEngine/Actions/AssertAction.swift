import Foundation

/// `assert`: a guard written as a step; fails the run when the condition does not hold.
struct AssertAction: DeclaredAction {
    static let name = "assert"
    static let summary = "check a condition on a probe's fact or an earlier step's fact; fail if it does not hold"

    var condition: Condition
    var isReadOnly: Bool { true }
    var derivedTemplates: [Template] { ConditionReader.ownTemplates(of: condition) }

    func describe(_ resolver: TemplateResolver) -> [String] {
        var lines = ["assert: \(condition.summary(resolver))"]
        if let probe = condition.probe { lines += probe.action.describe(resolver).map { "  probe \(probe.actionName): \($0)" } }
        return lines
    }

    func execute(_ context: ActionContext) throws(ActionOutcome) -> ActionOutcome {
        let result = ConditionEvaluator.evaluate(condition, context: context)
        var facts = result.probeFacts
        if let actual = result.actual { facts["actual"] = actual }
        switch result.verdict {
        case .passed: return .success("\(condition.fact) is \(result.actual?.literal ?? "?")", facts: facts)
        case .unknown: return .unknown(result.detail, facts: facts)
        case .failed: return .failure(cause: .assertionFailed, message: result.detail, facts: facts)
        }
    }
}

extension AssertAction {
    init?(_ arguments: ActionArguments) {
        guard let condition = ConditionReader.read(arguments.reader, registry: arguments.registry, stepID: arguments.stepID) else {
            return nil
        }
        self.init(condition: condition)
    }
}
