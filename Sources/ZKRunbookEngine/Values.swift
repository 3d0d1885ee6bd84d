import Foundation

/// A fact: what a probe or a step reports (an exit status, a mode, a zxid), as guards compare it.
public enum FactValue: Sendable, Hashable, Codable, CustomStringConvertible {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case list([FactValue])

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else {
            self = .list(try container.decode([FactValue].self))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .double(let value): try container.encode(value.isFinite ? value : 0)
        case .string(let value): try container.encode(value)
        case .list(let values): try container.encode(values)
        }
    }

    /// How the value reads in an argv element or a message: strings bare, lists comma-separated.
    public var description: String {
        switch self {
        case .null: return "null"
        case .bool(let value): return String(value)
        case .int(let value): return String(value)
        case .double(let value):
            return value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
        case .string(let value): return value
        case .list(let values): return values.map(\.description).joined(separator: ",")
        }
    }

    /// The value as a number when it is one, or a string that reads as one.
    public var number: Double? {
        switch self {
        case .int(let value): return Double(value)
        case .double(let value): return value
        case .string(let value): return Double(value.trimmingCharacters(in: .whitespaces))
        case .bool, .null, .list: return nil
        }
    }

    /// The value as written in JSON, for messages where quoting matters ("follower" vs follower).
    public var literal: String {
        switch self {
        case .string(let value): return "\"\(value)\""
        case .list(let values): return "[" + values.map(\.literal).joined(separator: ", ") + "]"
        default: return description
        }
    }
}

/// A length of time written as `500ms`, `30s`, `5m`, `1h30m` or `2d`.
public struct RunbookDuration: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var milliseconds: Int64

    public init(milliseconds: Int64) { self.milliseconds = milliseconds }
    public init(seconds: Double) { self.milliseconds = Int64((seconds * 1000).rounded()) }

    public var seconds: Double { Double(milliseconds) / 1000 }

    public static func < (lhs: RunbookDuration, rhs: RunbookDuration) -> Bool { lhs.milliseconds < rhs.milliseconds }

    /// What an error message says a duration should look like.
    public static let expectation = "a duration such as 500ms, 30s, 5m, 1h30m or 2d"

    /// Parses `text`, or returns nil. Units: ms, s, m, h, d; parts may be combined largest first.
    public static func parse(_ text: String) -> RunbookDuration? {
        let multipliers: [Substring: Double] = ["ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000]
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        guard !rest.isEmpty else { return nil }
        var total = 0.0
        var previous = Double.infinity
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard !number.isEmpty, let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { $0.isLetter }
            // Units must come largest first (1h30m, not 30m1h) and each at most once.
            guard let multiplier = multipliers[unit], multiplier < previous else { return nil }
            previous = multiplier
            total += value * multiplier
            rest = rest.dropFirst(unit.count)
        }
        guard total.isFinite, total <= 365 * 86_400_000 else { return nil }
        return RunbookDuration(milliseconds: Int64(total.rounded()))
    }

    public var description: String {
        let ms = milliseconds
        if ms == 0 { return "0s" }
        if ms % 86_400_000 == 0 { return "\(ms / 86_400_000)d" }
        if ms % 3_600_000 == 0 { return "\(ms / 3_600_000)h" }
        if ms % 60_000 == 0 { return "\(ms / 60_000)m" }
        if ms % 1000 == 0 { return "\(ms / 1000)s" }
        return "\(ms)ms"
    }
}
