import Foundation
import Testing

@testable import ZKRunbookDiagnostics

/// The one-pass search finds exactly what a naive search finds: every token, at every offset (the SIMD
/// blocks' edges and the scalar tail included), the first position winning and the lower index on a tie.
struct TokenSetTests {
    static func naive(_ tokens: [[UInt8]], _ data: [UInt8], from: Int) -> (Int, Int)? {
        guard from < data.count else { return nil }
        for position in from..<data.count {
            for (index, token) in tokens.enumerated() where position + token.count <= data.count {
                if data[position..<(position + token.count)].elementsEqual(token) { return (position, index) }
            }
        }
        return nil
    }

    @Test func agreesWithANaiveSearchOnRandomBuffers() {
        let words = ["ConnectionLoss", "LEADER ELECTION TOOK", "x", "Not sufficient followers synced", "Loss", "zz", LogScanner.signatures[0].token]
        let tokens = TokenSet(words)
        let tokenBytes = words.map { Array($0.utf8) }
        var generator = SystemRandomNumberGenerator()
        for round in 0..<400 {
            let size = Int.random(in: 0...300, using: &generator)
            // Mostly letters and spaces, so partial matches (first and last byte alike) happen often.
            var data = (0..<size).map { _ in Array("ConLosxz EA".utf8).randomElement(using: &generator)! }
            for _ in 0..<Int.random(in: 0...3, using: &generator) where size > 0 {
                let token = tokenBytes.randomElement(using: &generator)!
                let at = Int.random(in: 0..<size, using: &generator)
                for (offset, byte) in token.enumerated() where at + offset < size { data[at + offset] = byte }
            }
            var from = 0
            while true {
                let expected = Self.naive(tokenBytes, data, from: from)
                let found = data.withUnsafeBufferPointer { tokens.first(in: $0.baseAddress ?? UnsafePointer(bitPattern: 1)!, count: size, from: from) }
                #expect(found.map { [$0.position, $0.index] } == expected.map { [$0.0, $0.1] }, "round \(round), from \(from), size \(size)")
                guard let next = expected else { break }
                from = next.0 + 1
            }
        }
    }

    /// Every hit once, overlapping tokens and tokens sharing a position included, in order, over buffers long
    /// enough for the AVX2 loop, with more hits than one batch holds (fingerprints read past a token's start:
    /// "Expiring session" at "g se", "ConnectionLoss" at "nLos").
    @Test func everyHitInOrderAcrossBatches() {
        let words = ["ConnectionLoss", "Loss", "ss", "Expiring session", "E", "ing s"]
        let tokens = TokenSet(words)
        let tokenBytes = words.map { Array($0.utf8) }
        var generator = SystemRandomNumberGenerator()
        for round in 0..<20 {
            let size = Int.random(in: 1...60_000, using: &generator)
            let alphabet = Array((round.isMultiple(of: 2) ? "ConLosEx ing" : "ELs").utf8)
            var data = (0..<size).map { _ in alphabet.randomElement(using: &generator)! }
            // Now and then a whole token, so the long ones are found too.
            for _ in 0..<(size / 500) {
                let token = tokenBytes.randomElement(using: &generator)!
                let at = Int.random(in: 0..<size, using: &generator)
                for (offset, byte) in token.enumerated() where at + offset < size { data[at + offset] = byte }
            }
            var expected: [[Int]] = []
            for position in 0..<size {
                for (index, token) in tokenBytes.enumerated() where position + token.count <= size {
                    if data[position..<(position + token.count)].elementsEqual(token) { expected.append([position, index]) }
                }
            }
            var found: [[Int]] = []
            data.withUnsafeBufferPointer { buffer in tokens.forEachHit(in: buffer.baseAddress!, count: size) { found.append([$0, $1]) } }
            #expect(found == expected, "round \(round), size \(size): \(found.count) hits, expected \(expected.count)")
        }
    }

    @Test func aLongBufferWithOneTokenAtTheVeryEnd() {
        let tokens = TokenSet(["Too many connections from"])
        var data = [UInt8](repeating: UInt8(ascii: "T"), count: 1 << 16)
        data.append(contentsOf: Array("Too many connections from".utf8))
        let found = data.withUnsafeBufferPointer { tokens.first(in: $0.baseAddress!, count: data.count, from: 0) }
        #expect(found?.position == 1 << 16)
        #expect(found?.index == 0)
    }
}
