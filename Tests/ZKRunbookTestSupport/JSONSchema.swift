import Foundation

/// The part of JSON Schema (2020-12) that packaging/schemas uses: type, const, enum, required, properties,
/// additionalProperties, items, pattern, anyOf and local $ref. Tests check every event and result they read
/// against the published schemas with it, so a field added without its schema fails a test.
public struct JSONSchema {
    let root: [String: Any]

    public init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path), let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw HarnessError(message: "\(path) is not a JSON Schema object")
        }
        root = object
    }

    /// The schemas in the repository: `event` or `result`.
    public static func published(_ name: String) throws -> JSONSchema {
        try JSONSchema(path: repositoryRoot + "/packaging/schemas/\(name).schema.json")
    }

    /// What is wrong with `text` (one JSON document), each problem with its place; empty when valid.
    public func problems(_ text: String) -> [String] {
        guard let value = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) else { return ["not JSON: \(text.prefix(200))"] }
        return problems(value, root, at: "$")
    }

    /// The problems of every line of JSON Lines output (other lines, a human rendering, are skipped).
    public func problems(lines text: String) -> [String] {
        text.split(separator: "\n").filter { $0.hasPrefix("{") }.flatMap { problems(String($0)) }
    }

    func problems(_ value: Any, _ schema: [String: Any], at place: String) -> [String] {
        if let reference = schema["$ref"] as? String {
            guard reference.hasPrefix("#/$defs/"), let definitions = root["$defs"] as? [String: Any],
                let target = definitions[String(reference.dropFirst("#/$defs/".count))] as? [String: Any]
            else { return ["\(place): cannot resolve \(reference)"] }
            return problems(value, target, at: place)
        }
        var out: [String] = []
        if let alternatives = schema["anyOf"] as? [[String: Any]], !alternatives.contains(where: { problems(value, $0, at: place).isEmpty }) {
            out.append("\(place): matches none of anyOf")
        }
        if let types = (schema["type"] as? String).map({ [$0] }) ?? (schema["type"] as? [String]), !types.contains(where: { Self.isType(value, $0) }) {
            out.append("\(place): \(value) is not \(types.joined(separator: " or "))")
            return out
        }
        if let constant = schema["const"], !Self.equal(value, constant) { out.append("\(place): \(value) is not \(constant)") }
        if let choices = schema["enum"] as? [Any], !choices.contains(where: { Self.equal(value, $0) }) { out.append("\(place): \(value) is not one of \(choices)") }
        if let pattern = schema["pattern"] as? String, let text = value as? String,
            (try? NSRegularExpression(pattern: pattern))?.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) == nil
        {
            out.append("\(place): \(text) does not match \(pattern)")
        }
        if let object = value as? [String: Any] {
            for name in (schema["required"] as? [String]) ?? [] where object[name] == nil { out.append("\(place): \(name) is required") }
            let properties = (schema["properties"] as? [String: Any]) ?? [:]
            for (name, member) in object {
                if let property = properties[name] as? [String: Any] {
                    out += problems(member, property, at: place + "." + name)
                } else if let additional = schema["additionalProperties"] as? Bool, !additional {
                    out.append("\(place): \(name) is not in the schema")
                } else if let additional = schema["additionalProperties"] as? [String: Any] {
                    out += problems(member, additional, at: place + "." + name)
                }
            }
        }
        if let array = value as? [Any], let items = schema["items"] as? [String: Any] {
            for (index, item) in array.enumerated() { out += problems(item, items, at: "\(place)[\(index)]") }
        }
        return out
    }

    static func isType(_ value: Any, _ type: String) -> Bool {
        let number = value as? NSNumber
        // JSONSerialization gives true and false as NSNumbers of a char ("c"), numbers as int or double.
        let isBool = number.map { String(cString: $0.objCType) == "c" } ?? false
        switch type {
        case "null": return value is NSNull
        case "boolean": return isBool
        case "integer": return !isBool && number.map { $0.doubleValue.rounded() == $0.doubleValue } ?? false
        case "number": return !isBool && number != nil
        case "string": return value is String
        case "array": return value is [Any]
        case "object": return value is [String: Any]
        default: return false
        }
    }

    static func equal(_ left: Any, _ right: Any) -> Bool {
        if let left = left as? String, let right = right as? String { return left == right }
        if let left = left as? NSNumber, let right = right as? NSNumber { return left == right }
        return false
    }
}
