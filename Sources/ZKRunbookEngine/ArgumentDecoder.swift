import ZKRunbookJSON5

/// A value a runbook argument can hold, read from a step's `with` object with the reader's own messages
/// (file, line, what was expected).
public protocol ArgumentValue: Sendable {
    /// The value at `key`, or nil: missing (an error when `required`), or wrong (the error is recorded).
    static func read(_ reader: ObjectReader, _ key: String, required: Bool) -> Self?
    /// Stands in for a missing or wrong required value so the other arguments are still read and their
    /// references checked (every problem reported at once); the loader runs nothing that had a problem.
    static var placeholder: Self { get }
}

extension Template: ArgumentValue {
    public static func read(_ reader: ObjectReader, _ key: String, required: Bool) -> Template? { reader.template(key, required: required) }
    public static var placeholder: Template { .literal("") }
}

/// Read only as a runbook argument (its position and references come from the runbook): the conformance lets
/// an `ArgumentsDecodable` action hold one; any other decoder is refused.
extension Template: Decodable {
    public init(from decoder: any Decoder) throws { throw ArgumentDecoder.Unsupported(description: "a template is read only from a runbook") }
}

extension DurationSpec: Decodable {
    public init(from decoder: any Decoder) throws { throw ArgumentDecoder.Unsupported(description: "a duration is read only from a runbook") }
}

extension Array: ArgumentValue where Element == Template {
    public static func read(_ reader: ObjectReader, _ key: String, required: Bool) -> [Template]? { reader.templates(key, required: required) }
    public static var placeholder: [Template] { [] }
}

extension DurationSpec: ArgumentValue {
    public static func read(_ reader: ObjectReader, _ key: String, required: Bool) -> DurationSpec? { reader.duration(key, required: required) }
    public static var placeholder: DurationSpec { .literal(RunbookDuration(milliseconds: 0)) }
}

extension Bool: ArgumentValue {
    public static func read(_ reader: ObjectReader, _ key: String, required: Bool) -> Bool? {
        let flag = reader.bool(key)
        if required && flag == nil && !reader.object.members.contains(where: { $0.key == key }) {
            reader.diagnostics.error(reader.location, "\(reader.context) is missing '\(key)' (expected true or false)")
        }
        return flag
    }
    public static var placeholder: Bool { false }
}

extension String: ArgumentValue {
    public static func read(_ reader: ObjectReader, _ key: String, required: Bool) -> String? { reader.string(key, required: required) }
    public static var placeholder: String { "" }
}

/// An action whose arguments are its stored properties, read by name from the `with` object: a non-optional
/// property is a required argument, an optional one may be left out. A check across arguments ("exactly one
/// of") goes in `check`; a default, in `defaults`. Adding an argument is adding a property; nothing else reads it.
public protocol ArgumentsDecodable: DeclaredAction, Decodable {
    /// The value of a non-optional argument that may be left out, by argument name.
    static var defaults: [String: any ArgumentValue] { get }
    /// Checks that involve more than one argument; problems go to `arguments.diagnostics`.
    func check(_ arguments: ActionArguments)
}

extension ArgumentsDecodable {
    public static var defaults: [String: any ArgumentValue] { [:] }
    public func check(_ arguments: ActionArguments) {}

    public init?(_ arguments: ActionArguments) {
        do {
            self = try Self(from: ArgumentDecoder(reader: arguments.reader, defaults: Self.defaults))
        } catch {
            arguments.diagnostics.error(arguments.reader.location, "\(Self.name) cannot read its arguments: \(error)")
            return nil
        }
        check(arguments)
    }
}

/// The `Decoder` behind `ArgumentsDecodable`: a keyed container over an `ObjectReader`, which records which
/// keys were asked (so a misspelt one is still reported) and every problem with its position.
struct ArgumentDecoder: Decoder {
    /// The argument types, compared by identity first: `as? any ArgumentValue.Type` scans the binary's
    /// conformance records the first time for each type, which every command paid at start.
    fileprivate static let knownTypes: [(type: Any.Type, value: any ArgumentValue.Type)] = [
        (Template.self, Template.self), ([Template].self, [Template].self), (DurationSpec.self, DurationSpec.self), (Bool.self, Bool.self),
        (String.self, String.self),
    ]

    struct Unsupported: Error, CustomStringConvertible {
        var description: String
    }

    let reader: ObjectReader
    let defaults: [String: any ArgumentValue]
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(Container<Key>(reader: reader, defaults: defaults))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer { throw Unsupported(description: "arguments are an object") }
    func singleValueContainer() throws -> any SingleValueDecodingContainer { throw Unsupported(description: "arguments are an object") }

    struct Container<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let reader: ObjectReader
        let defaults: [String: any ArgumentValue]
        var codingPath: [any CodingKey] { [] }
        var allKeys: [Key] { reader.object.members.compactMap { Key(stringValue: $0.key) } }

        func contains(_ key: Key) -> Bool { reader.has(key.stringValue) }
        func decodeNil(forKey key: Key) throws -> Bool { !reader.has(key.stringValue) }

        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            let value = try Self.valueType(type)
            if let fallback = defaults[key.stringValue] { return (value.read(reader, key.stringValue, required: false) ?? fallback) as! T }
            return (value.read(reader, key.stringValue, required: true) ?? value.placeholder) as! T
        }

        func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
            try Self.valueType(type).read(reader, key.stringValue, required: false) as? T
        }

        func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
            throw Unsupported(description: "nested argument objects are read by the action itself")
        }
        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
            throw Unsupported(description: "argument arrays are read by the action itself")
        }
        func superDecoder() throws -> any Decoder { throw Unsupported(description: "no super decoder") }
        func superDecoder(forKey key: Key) throws -> any Decoder { throw Unsupported(description: "no super decoder") }

        private static func valueType<T>(_ type: T.Type) throws -> any ArgumentValue.Type {
            if let match = ArgumentDecoder.knownTypes.first(where: { $0.type == type }) { return match.value }
            guard let value = type as? any ArgumentValue.Type else {
                throw Unsupported(description: "\(type) is not an argument type (Template, [Template], DurationSpec, Bool, String)")
            }
            return value
        }
    }
}
