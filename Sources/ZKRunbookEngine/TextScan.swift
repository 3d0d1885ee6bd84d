/// Checks on a string's UTF-8 bytes: with Foundation imported, `contains` and `trimmingCharacters` go through
/// NSString, which a plan's many short strings paid for at every call.
extension StringProtocol {
    /// Whether `${` (a template reference) occurs.
    public var containsReferenceMark: Bool {
        var previous: UInt8 = 0
        for byte in utf8 {
            if previous == UInt8(ascii: "$") && byte == UInt8(ascii: "{") { return true }
            previous = byte
        }
        return false
    }

    /// The text without the spaces and tabs around it.
    public var trimmingSpaces: SubSequence {
        let isSpace = { (character: Character) in character == " " || character == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return self[endIndex...] }
        return self[first...last]
    }
}
