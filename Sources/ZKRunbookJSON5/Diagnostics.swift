import Foundation

/// One problem found in a runbook, printed as `file:line:column: error: message`.
public struct Diagnostic: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Severity: String, Sendable { case error, warning }

    public var location: SourceLocation
    public var severity: Severity
    public var message: String

    public init(location: SourceLocation, severity: Severity, message: String) {
        (self.location, self.severity, self.message) = (location, severity, message)
    }

    public var description: String { "\(location): \(severity.rawValue): \(message)" }
}

/// Collects every problem in a file, so one `validate` shows them all rather than the first.
public final class DiagnosticCollector: @unchecked Sendable {
    public private(set) var items: [Diagnostic] = []
    /// Values built from the text while reading it (the engine records its templates), in reading order:
    /// what one reader call made is the range between two `readCount`s.
    public private(set) var reads: [any Sendable] = []

    public init() {}

    public func error(_ location: SourceLocation, _ message: String) {
        items.append(Diagnostic(location: location, severity: .error, message: message))
    }

    public func warning(_ location: SourceLocation, _ message: String) {
        items.append(Diagnostic(location: location, severity: .warning, message: message))
    }

    public var hasErrors: Bool { items.contains { $0.severity == .error } }

    public var readCount: Int { reads.count }

    public func record(read value: any Sendable) { reads.append(value) }

    /// The values recorded since `mark`.
    public func reads(since mark: Int) -> ArraySlice<any Sendable> { reads[min(mark, reads.count)...] }

    /// Drops what was recorded after `mark` (what a nested reader made that belongs to its own scope).
    public func forgetReads(after mark: Int) {
        if mark < reads.count { reads.removeSubrange(mark...) }
    }
}

/// Reads one JSON5 object key by key and reports, at the end, every key nobody asked for.
///
/// Unknown keys are errors, with the nearest known key suggested: a typo like `tiemout` must never be
/// ignored, because the step would then run with the default timeout the author meant to change.
public final class ObjectReader: @unchecked Sendable {
    public let node: JSON5Node
    public let object: JSON5Object
    /// What the object is, for messages: "step 'restart'", "parameter 'node'".
    public let context: String
    public let diagnostics: DiagnosticCollector
    private var asked: [String] = []

    /// Nil (with an error recorded) when `node` is not an object.
    public init?(_ node: JSON5Node, context: String, diagnostics: DiagnosticCollector) {
        guard case .object(let object) = node.value else {
            diagnostics.error(node.location, "expected an object for \(context), found \(node.kindName)")
            return nil
        }
        (self.node, self.object, self.context, self.diagnostics) = (node, object, context, diagnostics)
    }

    public var location: SourceLocation { node.location }

    public func has(_ key: String) -> Bool {
        asked.append(key)
        return object[key] != nil
    }

    /// The raw node for `key`; records an error when it is required and missing.
    public func value(_ key: String, required: Bool = false, expected: String = "a value") -> JSON5Node? {
        asked.append(key)
        guard let value = object[key] else {
            if required { diagnostics.error(location, "\(context) is missing '\(key)' (expected \(expected))") }
            return nil
        }
        return value
    }

    public func string(_ key: String, required: Bool = false) -> String? {
        guard let node = value(key, required: required, expected: "a string") else { return nil }
        guard case .string(let text) = node.value else {
            typeError(key, node, "a string")
            return nil
        }
        return text
    }

    public func bool(_ key: String) -> Bool? {
        guard let node = value(key, expected: "true or false") else { return nil }
        guard case .bool(let flag) = node.value else {
            typeError(key, node, "true or false")
            return nil
        }
        return flag
    }

    public func integer(_ key: String, required: Bool = false, range: ClosedRange<Int64>? = nil) -> Int64? {
        guard let node = value(key, required: required, expected: "an integer") else { return nil }
        guard case .integer(let number) = node.value else {
            typeError(key, node, "an integer")
            return nil
        }
        if let range, !range.contains(number) {
            diagnostics.error(
                node.location, "'\(key)' in \(context) must be between \(range.lowerBound) and \(range.upperBound), found \(number)")
            return nil
        }
        return number
    }

    public func object(_ key: String, required: Bool = false, context inner: String? = nil) -> ObjectReader? {
        guard let node = value(key, required: required, expected: "an object") else { return nil }
        return ObjectReader(node, context: inner ?? "'\(key)' in \(context)", diagnostics: diagnostics)
    }

    public func typeError(_ key: String, _ node: JSON5Node, _ expected: String) {
        diagnostics.error(node.location, "'\(key)' in \(context) must be \(expected), found \(node.kindName)")
    }

    /// Reports every key that was not asked for, suggesting the closest one that was.
    public func finish() {
        let known = Set(asked)
        for member in object.members where !known.contains(member.key) {
            var message = "unknown key '\(member.key)' in \(context)"
            if let suggestion = Self.closest(to: member.key, among: known) {
                message += "; did you mean '\(suggestion)'?"
            } else if !known.isEmpty {
                message += "; expected one of: " + known.sorted().joined(separator: ", ")
            }
            diagnostics.error(member.keyLocation, message)
        }
    }

    /// The candidate within edit distance 2 (or a case-insensitive match), if any.
    public static func closest(to word: String, among candidates: Set<String>) -> String? {
        var best: (String, Int)?
        for candidate in candidates.sorted() {
            let distance = candidate.lowercased() == word.lowercased() ? 0 : editDistance(word, candidate)
            if distance <= 2, distance < (best?.1 ?? Int.max) { best = (candidate, distance) }
        }
        return best?.0
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = previous
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}

/// A configuration file that cannot be used: not readable, or invalid with every problem found at once.
public enum InputFileError: Error, Sendable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case invalid([Diagnostic])

    public var description: String {
        switch self {
        case .unreadable(let path, let reason):
            return "\(path): error: \(reason)"
        case .invalid(let diagnostics):
            let errors = diagnostics.filter { $0.severity == .error }.count
            return (diagnostics.map(\.description) + ["\(errors) error\(errors == 1 ? "" : "s"); nothing was run"]).joined(separator: "\n")
        }
    }

    /// The same on one line, for a step's failure message and an event.
    public var singleLine: String {
        if case .invalid(let diagnostics) = self { return diagnostics.map(\.description).joined(separator: "; ") }
        return description
    }
}

/// A value that does not fit what was expected, in words.
public struct InputProblem: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
