import Foundation
@testable import ZKRunbookJSON5
import ZKRunbookProcess
import ZKRunbookTestSupport
import Testing

@testable import ZKRunbookEngine

struct JSON5ParserTests {
    func parse(_ text: String) throws -> JSON5Node { try JSON5Parser.parse(text, file: "t.json5") }

    func syntaxError(_ text: String) -> JSON5SyntaxError? {
        do {
            _ = try JSON5Parser.parse(text, file: "t.json5")
            return nil
        } catch {
            return error
        }
    }

    @Test func acceptsTheJSON5Extensions() throws {
        let node = try parse(
            """
            // comment
            {
              unquoted: 'single',   /* block */
              "quoted": "a\\
            b",
              hex: 0x1F, plus: +3, lead: .5, trail: 5., inf: -Infinity,
              list: [1, 2, 3,],
              $dollar_ok: null,
            }
            """)
        guard case .object(let object) = node.value else {
            Issue.record("not an object")
            return
        }
        guard case .string(let single)? = object["unquoted"]?.value else { Issue.record("unquoted"); return }
        #expect(single == "single")
        guard case .string(let continued)? = object["quoted"]?.value else { Issue.record("quoted"); return }
        #expect(continued == "ab")
        guard case .integer(31)? = object["hex"]?.value else { Issue.record("hex"); return }
        guard case .integer(3)? = object["plus"]?.value else { Issue.record("plus"); return }
        guard case .double(0.5)? = object["lead"]?.value else { Issue.record("lead"); return }
        guard case .double(5)? = object["trail"]?.value else { Issue.record("trail"); return }
        guard case .double(let inf)? = object["inf"]?.value, inf == -.infinity else { Issue.record("inf"); return }
        guard case .array(let list)? = object["list"]?.value else { Issue.record("list"); return }
        #expect(list.count == 3)
        #expect(object["$dollar_ok"] != nil)
        #expect(object.members.first?.keyLocation.line == 3)
        #expect(object.members.first?.keyLocation.column == 3)
    }

    @Test func escapesAndUnicode() throws {
        let node = try parse(#"{ a: "tab\there \u00e9 \ud83d\ude00 \x41 \' \"" }"#)
        guard case .object(let object) = node.value, case .string(let text)? = object["a"]?.value else {
            Issue.record("bad parse")
            return
        }
        #expect(text == "tab\there é 😀 A ' \"")
    }

    @Test func columnsCountCharactersNotBytes() {
        let error = syntaxError("{ é: 1, ü: ? }")
        #expect(error?.location.line == 1)
        #expect(error?.location.column == 12)
    }

    @Test(arguments: [
        ("{ a: 1 b: 2 }", 1, 8, "expected ',' or '}'"),
        ("{\n  a: 'open\n}", 2, 11, "unterminated string"),
        ("{ a: [1, 2 }", 1, 12, "expected ',' or ']'"),
        ("{ a: yes }", 1, 6, "strings must be quoted"),
        ("{ a: 1, a: 2 }", 1, 9, "duplicate key 'a'"),
        ("", 1, 1, "empty file"),
        ("{ a: 1 } x", 1, 10, "expected end of file"),
        ("{ a: 012 }", 1, 6, "invalid number"),
        ("{ /* never closed", 1, 3, "unterminated /* comment"),
        ("{ a: 1", 1, 7, "unterminated object"),
    ])
    func reportsWhereAndWhat(text: String, line: Int, column: Int, message: String) {
        guard let error = syntaxError(text) else {
            Issue.record("'\(text)' parsed, but should not")
            return
        }
        #expect(error.location.line == line, "\(error.message)")
        #expect(error.location.column == column, "\(error.message)")
        #expect(error.message.contains(message), "\(error.message)")
    }

    @Test func deepNestingIsAnErrorNotACrash() {
        let text = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(syntaxError(text)?.message.contains("nesting deeper") == true)
    }
}

struct ValuesTests {
    @Test(arguments: [
        ("500ms", 500), ("30s", 30_000), ("5m", 300_000), ("1h30m", 5_400_000), ("2d", 172_800_000), ("1.5s", 1500), (" 5m\t", 300_000),
    ])
    func durationsParse(text: String, milliseconds: Int64) {
        #expect(RunbookDuration.parse(text)?.milliseconds == milliseconds)
    }

    @Test(arguments: ["10 parsecs", "", "5", "30m1h", "1s1s", "-3s", "1x", "s", "1h 30m", "5MS", "1.2.3s", "400d"])
    func badDurationsAreRejected(text: String) {
        #expect(RunbookDuration.parse(text) == nil)
    }

    /// FIPS 180-4's examples (one block, two blocks, a million 'a'), through both implementations, fed whole
    /// and in uneven pieces.
    @Test(arguments: [SHA256.Implementation.hardware, .portable])
    func sha256MatchesKnownVectors(implementation: SHA256.Implementation) {
        func digest(_ data: Data, pieces: Int = 1) -> String {
            var hasher = SHA256(implementation)
            let step = max(1, data.count / pieces + 1)
            for start in stride(from: 0, to: data.count, by: step) { hasher.update(data[start..<min(data.count, start + step)]) }
            return hasher.finalizeHex()
        }
        let vectors: [(Data, String)] = [
            (Data(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            (Data("abc".utf8), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            (Data("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
            (Data(repeating: UInt8(ascii: "a"), count: 1_000_000), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
        ]
        for (data, expected) in vectors {
            #expect(digest(data) == expected)
            #expect(digest(data, pieces: 7) == expected, "fed in pieces")
        }
        if implementation == .hardware && !SHA256.hardwareAvailable {
            #expect(SHA256(.hardware).implementation == .portable, "no SHA extensions here: the portable code answers")
        }
    }

    /// Random sizes around the block and padding edges, each checked against coreutils' sha256sum.
    @Test func sha256AgreesWithSha256sumOnRandomSizes() throws {
        let scratch = Scratch("sha")
        var generator = SystemRandomNumberGenerator()
        let sizes = [0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 1000] + (0..<8).map { _ in Int.random(in: 1...300_000, using: &generator) }
        for size in sizes {
            let data = Data((0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) })
            let path = scratch.file("blob-\(size)")
            try data.write(to: URL(fileURLWithPath: path))
            let reference = LocalCommandRunner().run(CommandSpec(argv: ["sha256sum", path], timeout: 30), cancellation: nil)
            let expected = String(decoding: reference.stdout.head, as: UTF8.self).split(separator: " ").first.map(String.init)
            #expect(expected?.count == 64, "sha256sum (coreutils) answered: \(reference.termination)")
            #expect(try SHA256.hex(fileAt: path) == expected, "\(size) bytes")
            var portable = SHA256(.portable)
            portable.update(data)
            #expect(portable.finalizeHex() == expected, "\(size) bytes, portable")
        }
    }

    @Test func templatesResolveAndKeepArgvWhole() throws {
        let location = SourceLocation(file: "t", line: 1, column: 1)
        let template = try Template.parse("--x=${name}; cost $${literal} ${run.id} ${wait.seconds}", at: location).get()
        let resolver = TemplateResolver(
            parameters: ["name": .string("a b; rm -rf /"), "wait": .duration(RunbookDuration(milliseconds: 1500))], runID: "R1")
        #expect(try template.resolve(resolver).get() == "--x=a b; rm -rf /; cost ${literal} R1 1.5")
        #expect(throws: Diagnostic.self) { try Template.parse("${steps.only-two}", at: location).get() }
        #expect(throws: Diagnostic.self) { try Template.parse("${unterminated", at: location).get() }
    }
}

struct HandWrittenFormatsTests {
    /// The hand-written timestamp writes what ISO8601DateFormatter writes, milliseconds and leap days included.
    @Test func timestampsMatchISO8601DateFormatter() {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let dates = [0, 951_782_400.5, 1_795_805_642.726, 1_795_805_642.9999, 4_102_444_799.001].map(Date.init(timeIntervalSince1970:))
            + (0..<200).map { _ in Date(timeIntervalSince1970: Double.random(in: 0...4_000_000_000)) }
        for date in dates {
            // Both cut to whole milliseconds; compare at that precision.
            let cut = Date(timeIntervalSince1970: (date.timeIntervalSince1970 * 1000).rounded(.down) / 1000 + 0.0001)
            #expect(Event.timestamp(cut) == formatter.string(from: cut), "\(cut.timeIntervalSince1970)")
        }
    }

    @Test func decimalLiteralsAndIdentifiers() {
        for valid in ["1", "1.5", ".5", "1.", "1e5", "1.5E-3", "0.0e+0"] { #expect(JSON5Parser.isDecimalLiteral(valid), "\(valid)") }
        for invalid in ["", ".", "e5", "1e", "1.2.3", "5x", "+1", "1e+"] { #expect(!JSON5Parser.isDecimalLiteral(invalid), "\(invalid)") }
        #expect(RunbookLoader.isIdentifier("dc-failover") && RunbookLoader.isIdentifier("4lw_check"))
        #expect(!RunbookLoader.isIdentifier("-x") && !RunbookLoader.isIdentifier("a b") && !RunbookLoader.isIdentifier("é") && !RunbookLoader.isIdentifier(""))
        #expect(RunbookLoader.isIdentifier("_p", letterFirst: true) && !RunbookLoader.isIdentifier("4p", letterFirst: true))
    }
}
