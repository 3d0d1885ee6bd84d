import Foundation
import Testing
import ZKRunbookEngine
import ZKRunbookProcess

/// The hand-written text forms (an argv's JSON, shell quoting and a SHA-256 in hex)
/// against what Foundation or the shell make of the same input.
struct TextFormsTests {
    static let awkward = [
        "systemctl", "", "with space", "quote\"d", "back\\slash", "a/b", "tab\tnew\nline\rret", "\u{8}\u{c}\u{1}\u{1f}", "é ünïcödé ✓",
        "it's", "'", "$HOME", "*",
    ]

    @Test func anArgvIsWrittenAsFoundationWritesIt() throws {
        for words in [Self.awkward, [], ["one"]] {
            let foundation = String(decoding: try JSONSerialization.data(withJSONObject: words, options: [.withoutEscapingSlashes]), as: UTF8.self)
            #expect(JSONText.array(words) == foundation)
            #expect(JSONText.stringArray(JSONText.array(words)) == words, "read back")
        }
        #expect(JSONText.stringArray("[\"a\", 1]") == nil)
        #expect(JSONText.stringArray("{\"a\": \"b\"}") == nil)
        #expect(JSONText.stringArray("[\"unterminated") == nil)
    }

    @Test func quotedWordsReachTheShellUnchanged() throws {
        #expect(ShellQuoting.quote("zk-1.example:2181") == "zk-1.example:2181", "safe words stay bare")
        #expect(ShellQuoting.quote("it's") == "'it'\\''s'")
        for word in Self.awkward where !word.contains("\u{0}") {
            let shell = Process()
            shell.executableURL = URL(fileURLWithPath: "/bin/sh")
            shell.arguments = ["-c", "printf '%s' " + ShellQuoting.quote(word)]
            let output = Pipe()
            shell.standardOutput = output
            try shell.run()
            let printed = output.fileHandleForReading.readDataToEndOfFile()
            shell.waitUntilExit()
            #expect(String(decoding: printed, as: UTF8.self) == word, "\(ShellQuoting.quote(word))")
        }
    }

    @Test func theDigestInHexIsTheKnownOne() {
        #expect(SHA256.hex(Data("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}
