import CZKRunbookBytes

/// Fixed byte strings searched for together, in one pass over a buffer (our C, SIMD where the CPU has it).
///
/// The tokens' bytes are copied once into memory this set owns for its whole life, so a search hands C
/// stable pointers without bridging anything per call.
final class TokenSet: @unchecked Sendable {
    private let storage: [UnsafeMutablePointer<UInt8>]
    private let pointers: UnsafeMutablePointer<UnsafePointer<UInt8>?>
    private let lengths: UnsafeMutablePointer<Int>
    let count: Int

    /// 1 to 64 non-empty tokens (doctor's signatures are a dozen).
    init(_ tokens: [String]) {
        precondition((1...64).contains(tokens.count) && tokens.allSatisfy { !$0.isEmpty }, "1 to 64 non-empty tokens")
        count = tokens.count
        storage = tokens.map { token in
            let bytes = Array(token.utf8)
            let copy = UnsafeMutablePointer<UInt8>.allocate(capacity: bytes.count)
            copy.initialize(from: bytes, count: bytes.count)
            return copy
        }
        pointers = .allocate(capacity: count)
        lengths = .allocate(capacity: count)
        for (index, token) in tokens.enumerated() {
            pointers[index] = UnsafePointer(storage[index])
            lengths[index] = token.utf8.count
        }
    }

    deinit {
        for copy in storage { copy.deallocate() }
        pointers.deallocate()
        lengths.deallocate()
    }

    /// The first position at or after `from` where a token starts, and which (the lowest index on a tie).
    func first(in data: UnsafePointer<UInt8>, count length: Int, from: Int) -> (position: Int, index: Int)? {
        var set = zkrunbook_tokens(bytes: pointers, lengths: lengths, count: count)
        var which = 0
        let position = zkrunbook_first_token(data, length, from, &set, &which)
        return position < 0 ? nil : (position, which)
    }

    /// Calls `body` with every place a token starts in data[0..<length], each once, in order of position (then
    /// index).
    func forEachHit(in data: UnsafePointer<UInt8>, count length: Int, _ body: (_ position: Int, _ index: Int) -> Void) {
        var set = zkrunbook_tokens(bytes: pointers, lengths: lengths, count: count)
        let capacity = 128 * 64
        withUnsafeTemporaryAllocation(of: zkrunbook_token_hit.self, capacity: capacity) { hits in
            var from = 0
            while from < length {
                var next = length
                let found = zkrunbook_all_tokens(data, length, from, &set, hits.baseAddress!, capacity, &next)
                for hit in hits.prefix(found) { body(hit.position, hit.token) }
                precondition(next > from || found > 0, "the token search made no progress")
                from = next
            }
        }
    }
}
