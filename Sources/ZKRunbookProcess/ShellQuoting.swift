/// Quotes argv words for a POSIX shell: ssh's remote command line, and plans an operator can copy into a shell.
public enum ShellQuoting {
    public static func quote(_ word: String) -> String {
        if !word.utf8.isEmpty, word.utf8.allSatisfy(isSafe) { return word }
        return "'" + word.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
    }

    private static let punctuation = Array("-_./:=@%+,".utf8)

    /// Bytes a shell takes literally: letters, digits and `-_./:=@%+,` (not `*`, which it expands).
    private static func isSafe(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): return true
        default: return punctuation.contains(byte)
        }
    }

    public static func join(_ argv: [String]) -> String { argv.map(quote).joined(separator: " ") }
}
