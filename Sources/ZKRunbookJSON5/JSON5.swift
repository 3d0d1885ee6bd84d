import Foundation

/// Where something stands in a runbook file: 1-based line and column (columns count characters).
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        (self.file, self.line, self.column) = (file, line, column)
    }

    public var description: String { "\(file):\(line):\(column)" }
}

/// A parsed JSON5 value together with the place it was written.
///
/// Foundation's JSON5 decoder reports no positions, and an operator fixing a runbook needs
/// `file:line:column`; so runbooks are parsed here into nodes that remember where they came from.
public struct JSON5Node: Sendable {
    public indirect enum Value: Sendable {
        case null
        case bool(Bool)
        case integer(Int64)
        case double(Double)
        case string(String)
        case array([JSON5Node])
        case object(JSON5Object)
    }

    public var value: Value
    public var location: SourceLocation

    public init(value: Value, location: SourceLocation) {
        self.value = value
        self.location = location
    }

    /// The kind of value, as an error message names it ("a string", "an object").
    public var kindName: String {
        switch value {
        case .null: return "null"
        case .bool: return "a boolean"
        case .integer: return "an integer"
        case .double: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

/// A JSON5 object's members in the order written, each with the location of its key.
public struct JSON5Object: Sendable {
    public struct Member: Sendable {
        public var key: String
        public var keyLocation: SourceLocation
        public var value: JSON5Node

        public init(key: String, keyLocation: SourceLocation, value: JSON5Node) {
            (self.key, self.keyLocation, self.value) = (key, keyLocation, value)
        }
    }

    public var members: [Member]

    public init(members: [Member]) { self.members = members }

    public subscript(key: String) -> JSON5Node? {
        members.first { $0.key == key }?.value
    }
}

/// A syntax error, with the place and what was expected there.
public struct JSON5SyntaxError: Error, Sendable {
    public var location: SourceLocation
    public var message: String
}

/// A JSON5 parser (https://spec.json5.org) that keeps source positions.
///
/// Accepts comments, trailing commas, unquoted identifier keys, single-quoted strings, line continuations,
/// hexadecimal numbers, leading or trailing decimal points, explicit plus signs, Infinity and NaN.
/// Duplicate keys in one object are rejected: in a runbook the second would silently win.
public struct JSON5Parser {
    private let bytes: [UInt8]
    private let file: String
    private var index = 0
    private var line = 1
    private var column = 1
    private var depth = 0
    private static let maximumDepth = 200

    public init(text: String, file: String) {
        self.bytes = Array(text.utf8)
        self.file = file
    }

    public static func parse(_ text: String, file: String) throws(JSON5SyntaxError) -> JSON5Node {
        var parser = JSON5Parser(text: text, file: file)
        return try parser.parseDocument()
    }

    public mutating func parseDocument() throws(JSON5SyntaxError) -> JSON5Node {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
        try skipTrivia()
        guard index < bytes.count else { throw error("expected a JSON5 value, found an empty file") }
        let node = try parseValue()
        try skipTrivia()
        if index < bytes.count {
            throw error("expected end of file after the top-level value, found \(describeCurrent())")
        }
        return node
    }

    private var here: SourceLocation { SourceLocation(file: file, line: line, column: column) }

    private func error(_ message: String, at location: SourceLocation? = nil) -> JSON5SyntaxError {
        JSON5SyntaxError(location: location ?? here, message: message)
    }

    private func describeCurrent() -> String {
        guard index < bytes.count else { return "end of file" }
        let byte = bytes[index]
        if byte == 0x0A { return "end of line" }
        if byte < 0x80 { return "'\(Character(UnicodeScalar(byte)))'" }
        return "a non-ASCII character"
    }

    /// Advances one byte, keeping line and column (columns advance per character, not per UTF-8 byte).
    private mutating func advance() {
        let byte = bytes[index]
        index += 1
        if byte == 0x0A {
            line += 1
            column = 1
        } else if byte & 0xC0 != 0x80 {
            column += 1
        }
    }

    private func peek(_ offset: Int = 0) -> UInt8? {
        index + offset < bytes.count ? bytes[index + offset] : nil
    }

    private mutating func skipTrivia() throws(JSON5SyntaxError) {
        while let byte = peek() {
            switch byte {
            case 0x20, 0x09, 0x0A, 0x0D, 0x0B, 0x0C:
                advance()
            case UInt8(ascii: "/") where peek(1) == UInt8(ascii: "/"):
                while let next = peek(), next != 0x0A { advance() }
            case UInt8(ascii: "/") where peek(1) == UInt8(ascii: "*"):
                let start = here
                advance()
                advance()
                while true {
                    guard let next = peek() else { throw error("unterminated /* comment", at: start) }
                    if next == UInt8(ascii: "*") && peek(1) == UInt8(ascii: "/") {
                        advance()
                        advance()
                        break
                    }
                    advance()
                }
            case 0xC2 where peek(1) == 0xA0:
                advance()
                advance()
            case 0xEF where peek(1) == 0xBB && peek(2) == 0xBF:
                advance()
                advance()
                advance()
            case 0xE2 where peek(1) == 0x80 && (peek(2) == 0xA8 || peek(2) == 0xA9):
                advance()
                advance()
                advance()
            default:
                return
            }
        }
    }

    private mutating func parseValue() throws(JSON5SyntaxError) -> JSON5Node {
        let start = here
        guard let byte = peek() else { throw error("expected a value, found end of file") }
        switch byte {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""), UInt8(ascii: "'"):
            return JSON5Node(value: .string(try parseString()), location: start)
        case UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return try parseNumber()
        default:
            let word = readIdentifier()
            switch word {
            case "true": return JSON5Node(value: .bool(true), location: start)
            case "false": return JSON5Node(value: .bool(false), location: start)
            case "null": return JSON5Node(value: .null, location: start)
            case "Infinity": return JSON5Node(value: .double(.infinity), location: start)
            case "NaN": return JSON5Node(value: .double(.nan), location: start)
            case "":
                throw error("expected a value (object, array, string, number, true, false or null), found \(describeCurrent())")
            default:
                throw error("expected a value, found '\(word)' (strings must be quoted)", at: start)
            }
        }
    }

    private mutating func enter(_ start: SourceLocation) throws(JSON5SyntaxError) {
        depth += 1
        if depth > Self.maximumDepth { throw error("nesting deeper than \(Self.maximumDepth) levels", at: start) }
    }

    private mutating func parseObject() throws(JSON5SyntaxError) -> JSON5Node {
        let start = here
        try enter(start)
        defer { depth -= 1 }
        advance()
        var members: [JSON5Object.Member] = []
        var seen: [String: SourceLocation] = [:]
        while true {
            try skipTrivia()
            guard let byte = peek() else { throw error("unterminated object: expected '}' for the '{' at \(start)") }
            if byte == UInt8(ascii: "}") {
                advance()
                return JSON5Node(value: .object(JSON5Object(members: members)), location: start)
            }
            let keyLocation = here
            let key: String
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                key = try parseString()
            } else {
                key = readIdentifier()
                if key.isEmpty {
                    throw error("expected a key (a name or a quoted string) or '}', found \(describeCurrent())")
                }
            }
            if let first = seen[key] {
                throw error("duplicate key '\(key)' (first given at line \(first.line), column \(first.column))", at: keyLocation)
            }
            seen[key] = keyLocation
            try skipTrivia()
            guard peek() == UInt8(ascii: ":") else {
                throw error("expected ':' after the key '\(key)', found \(describeCurrent())")
            }
            advance()
            try skipTrivia()
            let value = try parseValue()
            members.append(JSON5Object.Member(key: key, keyLocation: keyLocation, value: value))
            try skipTrivia()
            guard let next = peek() else { throw error("unterminated object: expected '}' for the '{' at \(start)") }
            if next == UInt8(ascii: ",") {
                advance()
            } else if next != UInt8(ascii: "}") {
                throw error("expected ',' or '}' after the value of '\(key)', found \(describeCurrent())")
            }
        }
    }

    private mutating func parseArray() throws(JSON5SyntaxError) -> JSON5Node {
        let start = here
        try enter(start)
        defer { depth -= 1 }
        advance()
        var elements: [JSON5Node] = []
        while true {
            try skipTrivia()
            guard let byte = peek() else { throw error("unterminated array: expected ']' for the '[' at \(start)") }
            if byte == UInt8(ascii: "]") {
                advance()
                return JSON5Node(value: .array(elements), location: start)
            }
            elements.append(try parseValue())
            try skipTrivia()
            guard let next = peek() else { throw error("unterminated array: expected ']' for the '[' at \(start)") }
            if next == UInt8(ascii: ",") {
                advance()
            } else if next != UInt8(ascii: "]") {
                throw error("expected ',' or ']' in the array, found \(describeCurrent())")
            }
        }
    }

    private static func isIdentifierByte(_ byte: UInt8, first: Bool) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "_"),
            UInt8(ascii: "$"):
            return true
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            return !first
        default:
            return byte >= 0x80
        }
    }

    private mutating func readIdentifier() -> String {
        let start = index
        while let byte = peek(), Self.isIdentifierByte(byte, first: index == start) {
            if byte >= 0x80 {
                // Non-ASCII letters are allowed in identifiers; stop at non-breaking and line separators.
                if byte == 0xC2 && peek(1) == 0xA0 { break }
                if byte == 0xE2 && peek(1) == 0x80 && (peek(2) == 0xA8 || peek(2) == 0xA9) { break }
            }
            advance()
        }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    private mutating func parseString() throws(JSON5SyntaxError) -> String {
        let start = here
        let quote = bytes[index]
        advance()
        var out: [UInt8] = []
        while true {
            guard let byte = peek() else { throw error("unterminated string (it starts at \(start))") }
            if byte == quote {
                advance()
                return String(decoding: out, as: UTF8.self)
            }
            if byte == 0x0A || byte == 0x0D {
                throw error("unterminated string: a line break inside a string must be escaped with '\\'")
            }
            if byte != UInt8(ascii: "\\") {
                out.append(byte)
                advance()
                continue
            }
            let escapeLocation = here
            advance()
            guard let escaped = peek() else { throw error("unterminated string (it starts at \(start))") }
            advance()
            switch escaped {
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "v"): out.append(0x0B)
            case UInt8(ascii: "0"):
                if let next = peek(), (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(next) {
                    throw error("octal escapes are not allowed in JSON5", at: escapeLocation)
                }
                out.append(0)
            case 0x0A: break
            case 0x0D:
                if peek() == 0x0A { advance() }
            case UInt8(ascii: "x"):
                let value = try readHex(digits: 2, at: escapeLocation)
                out.append(contentsOf: Array(String(UnicodeScalar(UInt8(value))).utf8))
            case UInt8(ascii: "u"):
                var value = try readHex(digits: 4, at: escapeLocation)
                if (0xD800...0xDBFF).contains(value), peek() == UInt8(ascii: "\\"), peek(1) == UInt8(ascii: "u") {
                    advance()
                    advance()
                    let low = try readHex(digits: 4, at: escapeLocation)
                    guard (0xDC00...0xDFFF).contains(low) else {
                        throw error("invalid surrogate pair in \\u escape", at: escapeLocation)
                    }
                    value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let scalar = UnicodeScalar(value) else {
                    throw error("\\u escape does not name a Unicode scalar", at: escapeLocation)
                }
                out.append(contentsOf: Array(String(Character(scalar)).utf8))
            case UInt8(ascii: "1")...UInt8(ascii: "9"):
                throw error("digit escapes are not allowed in JSON5", at: escapeLocation)
            default:
                // Any other escaped character stands for itself (\", \', \\, \/ and the rest).
                out.append(escaped)
                while let next = peek(), next & 0xC0 == 0x80 {
                    out.append(next)
                    advance()
                }
            }
        }
    }

    private mutating func readHex(digits: Int, at location: SourceLocation) throws(JSON5SyntaxError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<digits {
            guard let byte = peek(), let digit = Self.hexValue(byte) else {
                throw error("expected \(digits) hexadecimal digits in the escape", at: location)
            }
            value = value * 16 + UInt32(digit)
            advance()
        }
        return value
    }

    /// `([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?`, by hand (a Foundation regex compiles on every call).
    static func isDecimalLiteral(_ word: String) -> Bool {
        let bytes = Array(word.utf8)
        var index = 0
        func digits() -> Int {
            let start = index
            while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 { index += 1 }
            return index - start
        }
        let whole = digits()
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            let fraction = digits()
            if whole == 0 && fraction == 0 { return false }
        } else if whole == 0 {
            return false
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            if digits() == 0 { return false }
        }
        return index == bytes.count
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    private mutating func parseNumber() throws(JSON5SyntaxError) -> JSON5Node {
        let start = here
        var negative = false
        if let sign = peek(), sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") {
            negative = sign == UInt8(ascii: "-")
            advance()
        }
        let word = readIdentifierLikeNumber()
        if word == "Infinity" {
            return JSON5Node(value: .double(negative ? -.infinity : .infinity), location: start)
        }
        if word == "NaN" { return JSON5Node(value: .double(.nan), location: start) }
        if word.hasPrefix("0x") || word.hasPrefix("0X") {
            guard let magnitude = Int64(word.dropFirst(2), radix: 16) else {
                throw error("invalid hexadecimal number '\(word)'", at: start)
            }
            return JSON5Node(value: .integer(negative ? -magnitude : magnitude), location: start)
        }
        let isInteger = !word.contains(where: { $0 == "." || $0 == "e" || $0 == "E" })
        if isInteger, let magnitude = Int64(word), word.first != "0" || word == "0" {
            return JSON5Node(value: .integer(negative ? -magnitude : magnitude), location: start)
        }
        let valid = Self.isDecimalLiteral(word)
        guard valid, !(word.count > 1 && word.first == "0" && word.dropFirst().first != "."),
            let magnitude = Double(word.first == "." ? "0" + word : word)
        else {
            throw error("invalid number '\(negative ? "-" : "")\(word)'", at: start)
        }
        return JSON5Node(value: .double(negative ? -magnitude : magnitude), location: start)
    }

    private mutating func readIdentifierLikeNumber() -> String {
        let start = index
        while let byte = peek() {
            let isExponentSign =
                (byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-"))
                && index > start && (bytes[index - 1] == UInt8(ascii: "e") || bytes[index - 1] == UInt8(ascii: "E"))
                && !(index - start >= 2 && (bytes[start + 1] == UInt8(ascii: "x") || bytes[start + 1] == UInt8(ascii: "X")))
            guard Self.isIdentifierByte(byte, first: false) || byte == UInt8(ascii: ".") || isExponentSign else { break }
            advance()
        }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }
}
