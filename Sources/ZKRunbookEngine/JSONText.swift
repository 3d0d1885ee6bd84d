import ZKRunbookJSON5

/// A command as a JSON array of strings, written and read without Foundation's JSON (whose `Any` casts cost
/// a plan more than the rest of its work): an argv parameter's text, a node's restart command in a template.
public enum JSONText {
    /// `["a","b"]`, byte for byte as `JSONSerialization` writes it with `.withoutEscapingSlashes`.
    public static func array(_ words: [String]) -> String {
        var out: [UInt8] = [UInt8(ascii: "[")]
        for (index, word) in words.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            append(word, to: &out)
        }
        out.append(UInt8(ascii: "]"))
        return String(decoding: out, as: UTF8.self)
    }

    /// The strings of a JSON array of strings; nil when `text` is anything else.
    public static func stringArray(_ text: String) -> [String]? {
        guard let node = try? JSON5Parser.parse(text, file: "a JSON array"), case .array(let elements) = node.value else { return nil }
        let words = elements.compactMap { element -> String? in
            if case .string(let word) = element.value { return word }
            return nil
        }
        return words.count == elements.count ? words : nil
    }

    private static func append(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x08: out += [UInt8(ascii: "\\"), UInt8(ascii: "b")]
            case 0x0C: out += [UInt8(ascii: "\\"), UInt8(ascii: "f")]
            case 0x0A: out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0D: out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x09: out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0..<0x20:
                out += Array("\\u00".utf8)
                HexDigits.append(byte, to: &out)
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
