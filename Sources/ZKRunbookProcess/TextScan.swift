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

    /// Every `target` replaced by `replacement`, compared on bytes; the text itself when `target` does not occur.
    public func replacingEvery(_ target: String, with replacement: String) -> String {
        let bytes = Array(utf8)
        let needle = Array(target.utf8)
        guard !needle.isEmpty, bytes.count >= needle.count else { return String(self) }
        var out: [UInt8] = []
        var index = 0
        var replaced = false
        while index < bytes.count {
            if index + needle.count <= bytes.count, bytes[index] == needle[0], bytes[index..<(index + needle.count)].elementsEqual(needle) {
                out += replacement.utf8
                index += needle.count
                replaced = true
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return replaced ? String(decoding: out, as: UTF8.self) : String(self)
    }

    /// The text without the spaces and tabs around it.
    public var trimmingSpaces: SubSequence {
        let isSpace = { (character: Character) in character == " " || character == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return self[endIndex...] }
        return self[first...last]
    }
}
