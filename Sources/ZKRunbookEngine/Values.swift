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
        let bytes = Array(text.utf8)
        var index = bytes.startIndex
        var end = bytes.endIndex
        while index < end, bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "\t") { index += 1 }
        while end > index, bytes[end - 1] == UInt8(ascii: " ") || bytes[end - 1] == UInt8(ascii: "\t") { end -= 1 }
        guard index < end else { return nil }
        var total = 0.0
        var previous = Double.infinity
        while index < end {
            let numberStart = index
            while index < end, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) || bytes[index] == UInt8(ascii: ".") { index += 1 }
            guard index > numberStart, let value = Double(String(decoding: bytes[numberStart..<index], as: UTF8.self)) else { return nil }
            let unitStart = index
            while index < end, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(bytes[index] | 0x20) { index += 1 }
            // Units must come largest first (1h30m, not 30m1h) and each at most once.
            guard let multiplier = Self.multiplier(bytes[unitStart..<index]), multiplier < previous else { return nil }
            previous = multiplier
            total += value * multiplier
        }
        guard total.isFinite, total <= 365 * 86_400_000 else { return nil }
        return RunbookDuration(milliseconds: Int64(total.rounded()))
    }

    private static func multiplier(_ unit: ArraySlice<UInt8>) -> Double? {
        switch String(decoding: unit, as: UTF8.self) {
        case "ms": return 1
        case "s": return 1000
        case "m": return 60_000
        case "h": return 3_600_000
        case "d": return 86_400_000
        default: return nil
        }
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
