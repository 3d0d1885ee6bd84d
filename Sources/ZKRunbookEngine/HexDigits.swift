/// Lowercase hex for bytes, written straight into a byte buffer: digests and JSON's `\u00XX` escapes.
enum HexDigits {
    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    static func append(_ byte: UInt8, to out: inout [UInt8]) {
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 15)])
    }
}
