import Foundation
import ZKRunbookJSON5

/// Binds `--param name=value` pairs to a runbook's declared parameters.
public enum ParameterBinding {
    /// Typed values for every parameter that has one, or every problem found (unknown, missing, ill-typed,
    /// given twice). Nothing runs with a problem here: the CLI exits 2.
    public static func bind(_ runbook: Runbook, given: [(name: String, value: String)]) -> Result<[String: ParameterValue], ParameterProblems> {
        var problems: [String] = []
        var values: [String: ParameterValue] = [:]
        var seen = Set<String>()
        let known = Set(runbook.parameters.map(\.name))
        for (name, text) in given {
            guard let spec = runbook.parameter(named: name) else {
                var message = "unknown parameter '\(name)' for runbook '\(runbook.name)'"
                if let suggestion = ObjectReader.closest(to: name, among: known) { message += "; did you mean '\(suggestion)'?" }
                message += known.isEmpty ? " (it takes no parameters)" : " (parameters: \(known.sorted().joined(separator: ", ")))"
                problems.append(message)
                continue
            }
            if seen.contains(name) {
                problems.append("parameter '\(name)' is given more than once")
                continue
            }
            seen.insert(name)
            switch spec.parse(text) {
            case .success(let value): values[name] = value
            case .failure(let problem):
                problems.append("parameter '\(name)': \(problem.message.replacingOccurrences(of: text, with: spec.secret ? "***" : text))")
            }
        }
        for spec in runbook.parameters where values[spec.name] == nil && !seen.contains(spec.name) {
            if let value = spec.defaultValue {
                values[spec.name] = value
            } else if spec.required {
                let about = spec.description.isEmpty ? "" : " (\(spec.description))"
                problems.append("missing required parameter '\(spec.name)'\(about): give --param \(spec.name)=<\(spec.type.rawValue)>")
            }
        }
        return problems.isEmpty ? .success(values) : .failure(ParameterProblems(messages: problems))
    }
}

public struct ParameterProblems: Error, Sendable, CustomStringConvertible {
    public var messages: [String]
    public var description: String { messages.map { "error: \($0)" }.joined(separator: "\n") }
}
